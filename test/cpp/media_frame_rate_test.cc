// framesPerSecond from frame timestamps.
#include "media/frame_rate_meter.h"

#include <doctest/doctest.h>

using kvs::media::FrameRateMeter;

TEST_CASE("FrameRateMeter: frames within the last second of timestamps") {
  FrameRateMeter m;
  CHECK_FALSE(m.framesPerSecond().has_value());
  m.OnFrame(0);
  CHECK_FALSE(m.framesPerSecond().has_value());
  // 25 fps for half a second: extrapolated from the span.
  for (int i = 1; i < 13; ++i) m.OnFrame(i * 40'000);
  REQUIRE(m.framesPerSecond().has_value());
  CHECK(*m.framesPerSecond() == doctest::Approx(25.0));
  // Then 4 s of 25 fps: exactly the 25 frames of the last second.
  for (int i = 13; i < 100; ++i) m.OnFrame(i * 40'000);
  CHECK(*m.framesPerSecond() == 25.0);
  // A drop to 10 fps shows once a second of it has passed.
  int64_t t = 99 * 40'000;
  for (int i = 0; i < 10; ++i) m.OnFrame(t += 100'000);
  CHECK(*m.framesPerSecond() == 10.0);
}

TEST_CASE("FrameRateMeter: capped at its capacity") {
  FrameRateMeter m;
  for (int i = 0; i < 1000; ++i) m.OnFrame(i * 1000);  // 1000 fps
  CHECK(*m.framesPerSecond() == static_cast<double>(FrameRateMeter::kCapacity));
}
