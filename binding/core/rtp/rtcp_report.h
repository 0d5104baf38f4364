// Sender and receiver reports (RFC 3550 §6.4): SR (200) with its sender info, RR (201), and
// the report blocks both carry. Profile-specific extensions after the blocks are skipped.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "rtp/rtcp_packet.h"

namespace kvs::rtp {

inline constexpr size_t kReportBlockSize = 24;
inline constexpr size_t kMaxReportBlocks = 31;
inline constexpr int32_t kMaxCumulativeLost = 0x7FFFFF;  // signed 24-bit
inline constexpr int32_t kMinCumulativeLost = -0x800000;

// RFC 3550 §6.4.1, one per source heard from.
struct ReportBlock {
  uint32_t ssrc = 0;                // the source this block reports on
  uint8_t fractionLost = 0;         // since the last report, in 1/256
  int32_t cumulativeLost = 0;       // signed 24-bit; writers clamp to its range
  uint32_t extendedHighestSeq = 0;  // cycles << 16 | highest sequence number received
  uint32_t jitter = 0;              // interarrival jitter, RTP timestamp units
  uint32_t lastSr = 0;              // LSR: compact NTP of the last SR from that source, or 0
  uint32_t delaySinceLastSr = 0;    // DLSR: 1/65536 s since that SR arrived, or 0

  bool operator==(const ReportBlock& o) const {
    return ssrc == o.ssrc && fractionLost == o.fractionLost && cumulativeLost == o.cumulativeLost &&
           extendedHighestSeq == o.extendedHighestSeq && jitter == o.jitter && lastSr == o.lastSr &&
           delaySinceLastSr == o.delaySinceLastSr;
  }
};

struct SenderInfo {
  uint64_t ntpTimestamp = 0;  // wall clock at rtpTimestamp (ntp_time.h)
  uint32_t rtpTimestamp = 0;
  uint32_t packetCount = 0;  // RTP packets sent since the start
  uint32_t octetCount = 0;   // payload octets sent since the start

  bool operator==(const SenderInfo& o) const {
    return ntpTimestamp == o.ntpTimestamp && rtpTimestamp == o.rtpTimestamp &&
           packetCount == o.packetCount && octetCount == o.octetCount;
  }
};

struct SenderReport {
  uint32_t ssrc = 0;
  SenderInfo info;
  std::vector<ReportBlock> reportBlocks;  // at most 31

  bool operator==(const SenderReport& o) const {
    return ssrc == o.ssrc && info == o.info && reportBlocks == o.reportBlocks;
  }
};

struct ReceiverReport {
  uint32_t ssrc = 0;
  std::vector<ReportBlock> reportBlocks;  // at most 31; none is valid (RFC 3550 §6.4.2)

  bool operator==(const ReceiverReport& o) const {
    return ssrc == o.ssrc && reportBlocks == o.reportBlocks;
  }
};

// ERR_RTCP_WRONG_TYPE for another type; ERR_RTCP_TRUNCATED when the body is shorter than the
// fixed part and the RC report blocks.
Result<SenderReport> ParseSenderReport(const RtcpPacketView& p);
Result<ReceiverReport> ParseReceiverReport(const RtcpPacketView& p);

// Appends the packet. ERR_RTCP_INVALID_ARGUMENT with more than 31 blocks (split them over
// several RRs); nothing is written on error.
Status WriteRtcp(const SenderReport& sr, ByteWriter& w);
Status WriteRtcp(const ReceiverReport& rr, ByteWriter& w);

}  // namespace kvs::rtp
