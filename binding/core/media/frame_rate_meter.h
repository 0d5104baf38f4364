// framesPerSecond as W3C defines it, "frames during the last second", taken from the frames'
// own timestamps (so it is the stream's rate, whatever the send or arrival timing): the number
// of frames whose timestamp lies within one second of the newest. Until the frames seen span
// a second, the rate is extrapolated from their span. Keeps the last 256 timestamps, so it
// reports at most 256 fps.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace kvs::media {

class FrameRateMeter {
 public:
  static constexpr size_t kCapacity = 256;

  void OnFrame(int64_t timestampUs);
  // nullopt before two frames.
  std::optional<double> framesPerSecond() const;

 private:
  std::array<int64_t, kCapacity> ring_{};
  size_t next_ = 0;
  size_t count_ = 0;
  int64_t newest_ = 0;
  int64_t first_ = 0;
};

}  // namespace kvs::media
