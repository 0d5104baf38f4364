// Sender reports for one sending SSRC (RFC 3550 §6.4.1): when they are due, what they say, and
// the round-trip time that report blocks echoing them give.
//
// Schedule: the first SR goes at the first Tick after the first RTP packet (lip sync can start
// at once), then every interval drawn uniformly from [min, max] (the C SDK's 100-300 ms).
// Contents: SR (NTP time from the caller's wall clock, the RTP timestamp that corresponds to
// it, packet and payload octet counts) followed by SDES with the CNAME, one compound packet.
// The RTP timestamp is the last frame's, advanced by the monotonic time since that frame was
// sent, at the clock rate: the frame is taken to be sent when it was captured, which holds for
// an app that writes frames as its encoder produces them.
//
// RTT: each SR sent is remembered (its compact NTP time and the monotonic time it left). A
// report block's LSR names one of them; RTT = now - that send time - DLSR. This is RFC 3550's
// A - LSR - DLSR with A read on the monotonic clock, so a wall clock step between the SR and
// the report does not corrupt it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "media/stream_common.h"
#include "rtp/rtcp_report.h"

namespace kvs::media {

struct SenderReporterConfig {
  uint32_t ssrc = 0;
  std::string cname;
  uint32_t clockRate = 90000;
  int64_t minIntervalUs = 100'000;
  int64_t maxIntervalUs = 300'000;
};

class SenderReporter {
 public:
  SenderReporter(const SenderReporterConfig& config, RandomSource random);

  // An RTP packet left on the SSRC. frameSentUs: when its frame was handed to the stream
  // (the RTP timestamp's moment on the monotonic clock).
  void OnRtpSent(uint32_t rtpTimestamp, int64_t frameSentUs, size_t payloadBytes);
  // A retransmission on the SSRC itself (no RTX): counted, but its old timestamp says nothing
  // about the clock.
  void OnRetransmissionSent(size_t payloadBytes);
  // A packet counted by OnRtpSent / OnRetransmissionSent was reported as not sent after all.
  void OnRtpUnsent(size_t payloadBytes);

  bool Due(int64_t nowUs) const { return sentAny_ && nowUs >= nextUs_; }
  // INT64_MAX before the first packet.
  int64_t nextUs() const;
  // The SR + SDES compound for now, and the next one scheduled; `blocks` (at most 31) go in
  // the SR. ERR_RTCP_* only for a CNAME over 255 bytes or too many blocks.
  Result<std::vector<uint8_t>> Build(int64_t nowUs, int64_t unixNowUs,
                                     std::vector<rtp::ReportBlock> blocks = {});

  // RTT in µs from a report block's LSR and DLSR received at nowUs; nullopt when LSR is 0 or
  // names no SR in the history (the last 16).
  std::optional<int64_t> RoundTripUs(uint32_t lsr, uint32_t dlsr, int64_t nowUs) const;

  uint32_t reportsSent() const { return reportsSent_; }
  uint32_t packetCount() const { return packets_; }
  uint32_t octetCount() const { return octets_; }

 private:
  struct Sent {
    uint32_t compactNtp = 0;
    int64_t sentUs = 0;
    bool used = false;
  };
  static constexpr size_t kHistory = 16;

  SenderReporterConfig config_;
  RandomSource random_;
  bool sentAny_ = false;
  int64_t nextUs_ = 0;
  uint32_t lastRtpTimestamp_ = 0;
  int64_t lastFrameSentUs_ = 0;
  uint32_t packets_ = 0;  // RFC 3550: they wrap
  uint32_t octets_ = 0;
  uint32_t reportsSent_ = 0;
  std::array<Sent, kHistory> history_{};
  size_t nextHistory_ = 0;
};

}  // namespace kvs::media
