// Key-frame requests, payload-specific feedback (206): Picture Loss Indication (RFC 4585
// §6.3.1, FMT 1, no FCI) and Full Intra Request (RFC 5104 §4.3.1, FMT 4, one entry per
// target SSRC with a command sequence number the sender increments per new request).
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "rtp/rtcp_packet.h"

namespace kvs::rtp {

struct Pli {
  uint32_t senderSsrc = 0;
  uint32_t mediaSsrc = 0;  // the stream that should send a key frame

  bool operator==(const Pli& o) const {
    return senderSsrc == o.senderSsrc && mediaSsrc == o.mediaSsrc;
  }
};

struct FirEntry {
  uint32_t ssrc = 0;           // the stream that should send a key frame
  uint8_t sequenceNumber = 0;  // same number: a repeat of the same request

  bool operator==(const FirEntry& o) const {
    return ssrc == o.ssrc && sequenceNumber == o.sequenceNumber;
  }
};

// The header's media SSRC is unused for FIR and written as 0 (RFC 5104 §4.3.1.2).
struct Fir {
  uint32_t senderSsrc = 0;
  std::vector<FirEntry> entries;  // at least one

  bool operator==(const Fir& o) const { return senderSsrc == o.senderSsrc && entries == o.entries; }
};

// ERR_RTCP_WRONG_TYPE unless PSFB FMT 1; ERR_RTCP_TRUNCATED under the feedback header. Any FCI
// is ignored (RFC 4585 says there is none).
Result<Pli> ParsePli(const RtcpPacketView& p);
// ERR_RTCP_WRONG_TYPE unless PSFB FMT 4; ERR_RTCP_MALFORMED when the FCI is empty or not whole
// 8-byte entries.
Result<Fir> ParseFir(const RtcpPacketView& p);

Status WriteRtcp(const Pli& pli, ByteWriter& w);
// ERR_RTCP_INVALID_ARGUMENT with no entries or more than fit one packet.
Status WriteRtcp(const Fir& fir, ByteWriter& w);

}  // namespace kvs::rtp
