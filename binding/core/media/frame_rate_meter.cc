#include "media/frame_rate_meter.h"

#include <algorithm>

namespace kvs::media {

namespace {
constexpr int64_t kWindowUs = 1'000'000;
}

void FrameRateMeter::OnFrame(int64_t timestampUs) {
  if (count_ == 0) first_ = newest_ = timestampUs;
  ring_[next_] = timestampUs;
  next_ = (next_ + 1) % kCapacity;
  count_ = std::min(count_ + 1, kCapacity);
  newest_ = std::max(newest_, timestampUs);
  first_ = std::min(first_, timestampUs);
}

std::optional<double> FrameRateMeter::framesPerSecond() const {
  if (count_ < 2) return std::nullopt;
  const int64_t span = newest_ - first_;
  if (span >= kWindowUs || count_ == kCapacity) {
    size_t n = 0;
    for (size_t i = 0; i < count_; ++i) {
      if (ring_[i] > newest_ - kWindowUs) ++n;
    }
    return static_cast<double>(n);
  }
  if (span <= 0) return std::nullopt;
  return static_cast<double>(count_ - 1) * 1e6 / static_cast<double>(span);
}

}  // namespace kvs::media
