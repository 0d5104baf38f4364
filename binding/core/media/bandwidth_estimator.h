// The sender-side bandwidth estimate fed by transport-cc feedback (transport_feedback_sender.h).
//
// What it is: the loss-based controller of Google Congestion Control's sender side
// (draft-ietf-rmcat-gcc-02 §6) with a cap from the measured delivery rate and a simple
// delay-growth trigger:
//   - loss over the last update window (at least 20 packets reported) under 2%: the estimate
//     grows by 8% per second of feedback time (libwebrtc's rate, not the draft's 5% per report);
//     2-10%: it holds; over 10%: it falls to estimate * (1 - loss / 2), at most once per
//     300 ms + RTT, so that one loss event is not punished twice.
//   - it never exceeds 1.5 times the delivered rate (bytes the receiver reported received over
//     the last 500 ms of its arrival clock) plus 10 kbit/s: as in GCC, the estimate may not run
//     far ahead of what the path has been seen to carry.
//   - queuing delay: packets sent within 5 ms form a group; the change in one-way delay from
//     group to group (arrival spacing minus send spacing) is summed, never below 0 and leaking
//     1 ms per second so that clock drift cannot add up, into a queuing-delay estimate. Above
//     100 ms (overuse) the estimate is cut to 0.85 times the delivered rate, at most once per
//     300 ms + RTT, and does not grow.
//   - bounded by [minBps, maxBps].
// What it is not: GCC's delay-based controller (no trendline filter, no adaptive threshold, no
// Kalman filter), no probing (so it only learns about capacity it is asked to use: an
// app-limited sender sees at most 1.5 times its own rate), no pacing, and no ALR detection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "rtp/array_view.h"

namespace kvs::media {

struct BandwidthEstimatorConfig {
  uint64_t startBps = 300'000;  // Chromium's start bitrate
  uint64_t minBps = 30'000;
  uint64_t maxBps = 50'000'000;
};

// One packet's fate as transport-cc feedback told it.
struct PacketResult {
  int64_t sendUs = 0;     // our monotonic clock
  int64_t arrivalUs = 0;  // the receiver's clock (any origin); meaningful when received
  size_t size = 0;
  bool received = false;
  // Reported lost by an earlier feedback and received now: not counted again, and no longer
  // counted as lost.
  bool previouslyLost = false;
};

class BandwidthEstimator {
 public:
  explicit BandwidthEstimator(const BandwidthEstimatorConfig& config = {});

  // The results of one feedback message, in transport-wide sequence order.
  void OnPacketResults(rtp::ArrayView<PacketResult> results, int64_t nowUs);
  void SetRoundTripTime(int64_t rttUs) { rttUs_ = rttUs; }

  uint64_t targetBps() const { return target_; }
  // Bytes received over the last 500 ms of arrival time; nullopt until 100 ms were seen.
  std::optional<uint64_t> deliveredBps() const;
  // Loss over the last completed update window, 0..1.
  double lossFraction() const { return lossFraction_; }
  int64_t queuingDelayUs() const { return queuingDelayUs_; }

 private:
  static constexpr size_t kBuckets = 50;
  static constexpr int64_t kBucketUs = 10'000;
  struct Bucket {
    int64_t index = -1;
    uint64_t bytes = 0;
  };
  void AddDelivered(int64_t arrivalUs, size_t size);
  void UpdateDelay(const PacketResult& r);
  void Decide(int64_t nowUs);

  BandwidthEstimatorConfig config_;
  uint64_t target_;
  int64_t rttUs_ = 100'000;
  // Delivery rate.
  Bucket buckets_[kBuckets];
  int64_t latestBucket_ = -1;
  int64_t firstArrivalUs_ = 0;
  bool anyArrival_ = false;
  // Loss window.
  uint32_t windowReported_ = 0;
  uint32_t windowLost_ = 0;
  double lossFraction_ = 0;
  // Delay groups.
  bool haveGroup_ = false, havePrevGroup_ = false;
  int64_t groupFirstSendUs_ = 0, groupSendUs_ = 0, groupArrivalUs_ = 0;
  int64_t prevGroupSendUs_ = 0, prevGroupArrivalUs_ = 0;
  int64_t queuingDelayUs_ = 0;
  // Control.
  int64_t lastUpdateUs_ = 0;
  bool updated_ = false;
  int64_t lastDecreaseUs_ = 0;
  bool decreased_ = false;
};

}  // namespace kvs::media
