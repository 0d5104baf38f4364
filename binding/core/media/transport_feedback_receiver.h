// The receiver side of transport-wide congestion control (draft-holmer-rmcat-transport-wide-
// cc-extensions-01): one per transport, shared by its ReceiveStreams. It records the
// transport-wide sequence number and arrival time of every RTP packet that carries the
// extension, and every `intervalUs` while packets arrive it builds transport-cc feedback
// (rtp/rtcp_twcc.h) covering every number since the last feedback: received with its arrival
// time, or not received. Each feedback packet carries the next feedback packet count.
//
// Pure: the caller gives arrival times (monotonic µs) and drives Tick. The feedback packets go
// out alone (RFC 5506 reduced-size), as Chromium sends them; every WebRTC peer that negotiates
// transport-cc also negotiates a=rtcp-rsize.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rtp/unwrap.h"

namespace kvs::media {

struct TransportFeedbackReceiverConfig {
  uint32_t senderSsrc = 0;  // our SSRC in the feedback packets
  uint32_t mediaSsrc = 0;   // one of the peer's media SSRCs (informational on the wire)
  int64_t intervalUs = 100'000;
  size_t mtu = 1200;  // a feedback packet is cut to fit (after SRTCP's trailer)
  // Arrivals kept before a feedback is forced out even if the interval has not passed, so that
  // memory stays bounded at any packet rate.
  size_t maxPendingPackets = 2048;
};

class TransportFeedbackReceiver {
 public:
  explicit TransportFeedbackReceiver(const TransportFeedbackReceiverConfig& config);

  // One packet with transport-wide sequence number `sequence` arrived. Duplicates (already
  // recorded) and packets older than the last feedback sent are counted and ignored.
  void OnPacket(uint16_t sequence, int64_t arrivalUs);
  // Appends the feedback packets due (plain RTCP, one packet each).
  void Tick(int64_t nowUs, std::vector<std::vector<uint8_t>>& rtcpOut);
  // INT64_MAX when nothing is pending.
  int64_t NextTickUs() const;
  void SetMediaSsrc(uint32_t ssrc) { config_.mediaSsrc = ssrc; }

  struct Stats {
    uint64_t packetsRecorded = 0;
    uint64_t duplicates = 0;
    uint64_t lateArrivals = 0;  // for numbers already reported
    uint64_t feedbackPacketsSent = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Arrival {
    int64_t sequence;  // unwrapped
    int64_t arrivalUs;
  };
  void Flush(std::vector<std::vector<uint8_t>>& rtcpOut);

  TransportFeedbackReceiverConfig config_;
  rtp::SeqUnwrapper unwrapper_;
  std::vector<Arrival> pending_;  // sorted by sequence
  int64_t nextUnreported_ = 0;    // the first sequence the next feedback covers
  bool started_ = false;
  int64_t firstPendingUs_ = 0;
  int64_t lastFeedbackUs_ = 0;
  uint8_t feedbackCount_ = 0;
  Stats stats_;
};

}  // namespace kvs::media
