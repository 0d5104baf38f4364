#include "media/receive_statistics.h"

#include <algorithm>

#include "media/stream_common.h"
#include "rtp/ntp_time.h"

namespace kvs::media {

void ReceiveStatistics::OnPacket(int64_t sequence, uint32_t rtpTimestamp, int64_t arrivalUs) {
  ++received_;
  if (!started_) {
    started_ = true;
    base_ = highest_ = sequence;
  } else {
    if (sequence < base_) base_ = sequence;  // reordered ahead of the first packet
    if (sequence <= highest_) return;        // late, reordered or a duplicate: no jitter
    highest_ = sequence;
  }
  // A.8: transit time in RTP units; its change from packet to packet feeds the jitter.
  const int64_t arrival = RescaleTicks(arrivalUs, kMicrosPerSecond, clockRate_);
  const auto transit = static_cast<int32_t>(static_cast<uint32_t>(arrival) - rtpTimestamp);
  if (haveTransit_ && rtpTimestamp == lastTimestamp_) return;  // the same frame
  if (haveTransit_) {
    const int64_t d = std::abs(int64_t{transit} - int64_t{lastTransit_});
    // J += (|D| - J) / 16, in fixed point (RFC 3550 A.8).
    jitterQ4_ = static_cast<uint64_t>(static_cast<int64_t>(jitterQ4_) + d -
                                      static_cast<int64_t>((jitterQ4_ + 8) >> 4));
  }
  lastTransit_ = transit;
  lastTimestamp_ = rtpTimestamp;
  haveTransit_ = true;
}

void ReceiveStatistics::OnSenderReport(uint64_t ntpTimestamp, int64_t arrivalUs) {
  haveSr_ = true;
  lastSr_ = rtp::CompactNtp(ntpTimestamp);
  lastSrArrivalUs_ = arrivalUs;
}

int64_t ReceiveStatistics::cumulativeLost() const {
  if (!started_) return 0;
  return (highest_ - base_ + 1) - static_cast<int64_t>(received_);
}

rtp::ReportBlock ReceiveStatistics::MakeReportBlock(uint32_t ssrc, int64_t nowUs) {
  rtp::ReportBlock b;
  b.ssrc = ssrc;
  if (!started_) return b;
  const int64_t expected = highest_ - base_ + 1;
  const int64_t expectedInterval = expected - expectedPrior_;
  const int64_t receivedInterval = static_cast<int64_t>(received_ - receivedPrior_);
  const int64_t lostInterval = expectedInterval - receivedInterval;
  expectedPrior_ = expected;
  receivedPrior_ = received_;
  // 255 at most: every packet of the interval lost would be 256/256.
  b.fractionLost =
      (expectedInterval <= 0 || lostInterval <= 0)
          ? uint8_t{0}
          : static_cast<uint8_t>(std::min<int64_t>((lostInterval << 8) / expectedInterval, 255));
  b.cumulativeLost = static_cast<int32_t>(
      std::clamp<int64_t>(cumulativeLost(), rtp::kMinCumulativeLost, rtp::kMaxCumulativeLost));
  b.extendedHighestSeq = static_cast<uint32_t>(highest_);
  b.jitter = jitter();
  if (haveSr_) {
    b.lastSr = lastSr_;
    b.delaySinceLastSr = rtp::CompactNtpFromMicros(nowUs - lastSrArrivalUs_);
  }
  return b;
}

}  // namespace kvs::media
