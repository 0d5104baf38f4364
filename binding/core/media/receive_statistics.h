// Receive statistics of one remote SSRC and the report block about it (RFC 3550 §6.4.1 and
// appendix A): packets received, the extended highest sequence number, cumulative and
// interval loss (A.3), interarrival jitter (A.8), and LSR/DLSR from its sender reports.
//
// Sequence numbers come in unwrapped (rtp/unwrap.h), so the extended highest sequence number
// is the unwrapped one and loss stays right across any number of wraps. Duplicates count as
// received, as RFC 3550 counts them (so cumulative loss can go negative). Jitter is updated
// for in-order packets with a new RTP timestamp only: the packets of one video frame share a
// timestamp and leave in a burst, and their spread is packetization, not network jitter
// (Chromium computes it the same way).
#pragma once

#include <cstdint>

#include "rtp/rtcp_report.h"

namespace kvs::media {

class ReceiveStatistics {
 public:
  explicit ReceiveStatistics(uint32_t clockRate) : clockRate_(clockRate) {}

  // One packet on the SSRC (padding-only included; RTX packets are another SSRC's).
  void OnPacket(int64_t sequence, uint32_t rtpTimestamp, int64_t arrivalUs);
  // An SR from the SSRC arrived: its NTP time becomes our LSR.
  void OnSenderReport(uint64_t ntpTimestamp, int64_t arrivalUs);

  bool started() const { return started_; }
  // The block for a report sent now; starts a new fraction-lost interval.
  rtp::ReportBlock MakeReportBlock(uint32_t ssrc, int64_t nowUs);

  uint64_t packetsReceived() const { return received_; }
  int64_t cumulativeLost() const;
  int64_t highestSequence() const { return highest_; }
  // Interarrival jitter in RTP timestamp units, and in seconds.
  uint32_t jitter() const { return static_cast<uint32_t>(jitterQ4_ >> 4); }
  double jitterSeconds() const { return static_cast<double>(jitterQ4_) / 16.0 / clockRate_; }

 private:
  uint32_t clockRate_;
  bool started_ = false;
  int64_t base_ = 0;
  int64_t highest_ = 0;
  uint64_t received_ = 0;
  int64_t expectedPrior_ = 0;
  uint64_t receivedPrior_ = 0;
  // A.8 in the RFC's fixed point: jitter scaled by 16.
  uint64_t jitterQ4_ = 0;
  bool haveTransit_ = false;
  int32_t lastTransit_ = 0;
  uint32_t lastTimestamp_ = 0;
  bool haveSr_ = false;
  uint32_t lastSr_ = 0;
  int64_t lastSrArrivalUs_ = 0;
};

}  // namespace kvs::media
