#include "media/stream_common.h"

namespace kvs::media {

uint32_t RandomU32(const RandomSource& random) {
  uint8_t b[4] = {};
  if (random) random(b, sizeof b);
  return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
}

int64_t RandomBetween(const RandomSource& random, int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  const auto span = static_cast<uint64_t>(hi - lo) + 1;
  uint8_t b[8] = {};
  if (random) random(b, sizeof b);
  uint64_t v = 0;
  for (uint8_t x : b) v = v << 8 | x;
  // The modulo bias is below 2^-32 for the spans used here (intervals in µs).
  return lo + static_cast<int64_t>(v % span);
}

uint32_t DefaultClockRate(sdp::Codec codec) { return sdp::InfoOf(codec).clockRate; }

bool IsVideo(sdp::Codec codec) { return sdp::InfoOf(codec).kind == sdp::MediaKind::kVideo; }

int64_t RescaleTicks(int64_t ticks, int64_t fromRate, int64_t toRate) {
  // Split into whole seconds and a remainder so that neither product overflows: the
  // remainder is below fromRate, and rates are at most a few million.
  int64_t seconds = ticks / fromRate;
  int64_t rest = ticks % fromRate;
  if (rest < 0) {
    rest += fromRate;
    --seconds;
  }
  return seconds * toRate + rest * toRate / fromRate;
}

}  // namespace kvs::media
