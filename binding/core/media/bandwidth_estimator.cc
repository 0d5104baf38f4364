#include "media/bandwidth_estimator.h"

#include <algorithm>
#include <cmath>

namespace kvs::media {

namespace {
constexpr uint32_t kMinWindowPackets = 20;
constexpr double kLowLoss = 0.02, kHighLoss = 0.10;
constexpr double kIncreasePerSecond = 0.08;
constexpr int64_t kGroupUs = 5'000;
constexpr int64_t kOveruseUs = 100'000;
constexpr int64_t kMaxQueuingUs = 10'000'000;
// Leaked per second of send time, so that clock drift between the two ends (tens of ppm)
// never adds up to an overuse; a real queue grows far faster.
constexpr int64_t kLeakUsPerSecond = 1'000;
constexpr int64_t kDecreaseIntervalUs = 300'000;
constexpr int64_t kMinDeliveredSpanUs = 100'000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

BandwidthEstimator::BandwidthEstimator(const BandwidthEstimatorConfig& config)
    : config_(config), target_(std::clamp(config.startBps, config.minBps, config.maxBps)) {}

void BandwidthEstimator::AddDelivered(int64_t arrivalUs, size_t size) {
  const int64_t idx = FloorDiv(arrivalUs, kBucketUs);
  if (!anyArrival_ || arrivalUs < firstArrivalUs_) firstArrivalUs_ = arrivalUs;
  anyArrival_ = true;
  if (idx > latestBucket_) latestBucket_ = idx;
  if (idx <= latestBucket_ - int64_t{kBuckets}) return;  // older than the window
  Bucket& b = buckets_[static_cast<size_t>(((idx % int64_t{kBuckets}) + int64_t{kBuckets}) %
                                           int64_t{kBuckets})];
  if (b.index != idx) {
    b.index = idx;
    b.bytes = 0;
  }
  b.bytes += size;
}

std::optional<uint64_t> BandwidthEstimator::deliveredBps() const {
  if (!anyArrival_) return std::nullopt;
  const int64_t end = (latestBucket_ + 1) * kBucketUs;
  const int64_t span = std::min<int64_t>(int64_t{kBuckets} * kBucketUs, end - firstArrivalUs_);
  if (span < kMinDeliveredSpanUs) return std::nullopt;
  uint64_t bytes = 0;
  for (const Bucket& b : buckets_) {
    if (b.index > latestBucket_ - int64_t{kBuckets} && b.index <= latestBucket_) bytes += b.bytes;
  }
  return static_cast<uint64_t>(static_cast<double>(bytes) * 8e6 / static_cast<double>(span));
}

void BandwidthEstimator::UpdateDelay(const PacketResult& r) {
  if (!haveGroup_) {
    haveGroup_ = true;
    groupFirstSendUs_ = groupSendUs_ = r.sendUs;
    groupArrivalUs_ = r.arrivalUs;
    return;
  }
  if (r.sendUs < groupFirstSendUs_) return;  // from before the current group: reordered
  if (r.sendUs - groupFirstSendUs_ <= kGroupUs) {
    groupSendUs_ = std::max(groupSendUs_, r.sendUs);
    groupArrivalUs_ = std::max(groupArrivalUs_, r.arrivalUs);
    return;
  }
  if (havePrevGroup_) {
    // How much longer the group took to arrive than to send: the queue's growth.
    const int64_t sendDelta = groupSendUs_ - prevGroupSendUs_;
    const int64_t variation = (groupArrivalUs_ - prevGroupArrivalUs_) - sendDelta;
    const int64_t leak = sendDelta * kLeakUsPerSecond / 1'000'000;
    queuingDelayUs_ = std::clamp<int64_t>(queuingDelayUs_ + variation - leak, 0, kMaxQueuingUs);
  }
  havePrevGroup_ = true;
  prevGroupSendUs_ = groupSendUs_;
  prevGroupArrivalUs_ = groupArrivalUs_;
  groupFirstSendUs_ = groupSendUs_ = r.sendUs;
  groupArrivalUs_ = r.arrivalUs;
}

void BandwidthEstimator::OnPacketResults(rtp::ArrayView<PacketResult> results, int64_t nowUs) {
  for (const PacketResult& r : results) {
    if (r.previouslyLost) {
      if (windowLost_ > 0) --windowLost_;  // it was counted lost; it arrived late
    } else {
      ++windowReported_;
      if (!r.received) ++windowLost_;
    }
    if (r.received) {
      AddDelivered(r.arrivalUs, r.size);
      UpdateDelay(r);
    }
  }
  Decide(nowUs);
}

void BandwidthEstimator::Decide(int64_t nowUs) {
  if (!updated_) {
    updated_ = true;
    lastUpdateUs_ = nowUs;
  }
  const int64_t dt = std::clamp<int64_t>(nowUs - lastUpdateUs_, 0, 1'000'000);
  lastUpdateUs_ = nowUs;
  bool lossUpdated = false;
  if (windowReported_ >= kMinWindowPackets) {
    lossFraction_ = static_cast<double>(windowLost_) / windowReported_;
    windowReported_ = windowLost_ = 0;
    lossUpdated = true;
  }
  const auto delivered = deliveredBps();
  const bool canDecrease = !decreased_ || nowUs - lastDecreaseUs_ >= kDecreaseIntervalUs + rttUs_;
  double target = static_cast<double>(target_);
  if (queuingDelayUs_ > kOveruseUs && delivered) {
    if (canDecrease) {
      target = std::min(target, 0.85 * static_cast<double>(*delivered));
      decreased_ = true;
      lastDecreaseUs_ = nowUs;
    }
  } else if (lossFraction_ > kHighLoss) {
    if (lossUpdated && canDecrease) {
      target *= 1 - 0.5 * lossFraction_;
      decreased_ = true;
      lastDecreaseUs_ = nowUs;
    }
  } else if (lossFraction_ < kLowLoss) {
    target *= 1 + kIncreasePerSecond * static_cast<double>(dt) / 1e6;
  }
  if (delivered) target = std::min(target, 1.5 * static_cast<double>(*delivered) + 10'000);
  target =
      std::clamp(target, static_cast<double>(config_.minBps), static_cast<double>(config_.maxBps));
  target_ = static_cast<uint64_t>(target);
}

}  // namespace kvs::media
