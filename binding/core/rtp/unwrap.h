// Serial-number arithmetic for RTP sequence numbers (16 bits) and timestamps (32 bits):
// the RFC 1982 comparisons, and unwrapping into signed 64-bit values that never wrap, so
// that buffers and jitter computations can use plain integer order across the wrap.
//
// Convention: a value exactly half the space away (0x8000 for sequence numbers) is ambiguous
// in RFC 1982; here the numerically larger one counts as newer. The comparisons are then
// antisymmetric, and Unwrapper agrees with them: Unwrap(v) > last exactly when v is newer.
#pragma once

#include <cstdint>
#include <type_traits>

namespace kvs::rtp {

namespace detail {
template <typename T>
constexpr bool IsNewer(T a, T b) {
  static_assert(std::is_same_v<T, uint16_t> || std::is_same_v<T, uint32_t>);
  constexpr T kHalf = static_cast<T>(T(1) << (sizeof(T) * 8 - 1));
  const T forward = static_cast<T>(a - b);
  return forward != 0 && (forward < kHalf || (forward == kHalf && a > b));
}
}  // namespace detail

// RFC 1982: is `a` later in sequence than `b`?
constexpr bool SeqNewer(uint16_t a, uint16_t b) { return detail::IsNewer(a, b); }
constexpr bool SeqNewerOrEqual(uint16_t a, uint16_t b) { return a == b || SeqNewer(a, b); }
constexpr bool TimestampNewer(uint32_t a, uint32_t b) { return detail::IsNewer(a, b); }
constexpr bool TimestampNewerOrEqual(uint32_t a, uint32_t b) {
  return a == b || TimestampNewer(a, b);
}
// The newer of two sequence numbers.
constexpr uint16_t LatestSeq(uint16_t a, uint16_t b) { return SeqNewer(a, b) ? a : b; }
// a - b as the shortest signed distance (-32768..32767, +32768 for the tie): positive when
// a is newer. SeqDelta(0, 65535) == 1.
constexpr int32_t SeqDelta(uint16_t a, uint16_t b) {
  const uint16_t forward = static_cast<uint16_t>(a - b);
  return SeqNewerOrEqual(a, b) ? int32_t{forward} : int32_t{forward} - 65536;
}
// a - b for RTP timestamps, in the same sense as SeqDelta.
constexpr int64_t TimestampDelta(uint32_t a, uint32_t b) {
  const uint32_t forward = a - b;
  return TimestampNewerOrEqual(a, b) ? int64_t{forward} : int64_t{forward} - (int64_t{1} << 32);
}

// Maps each wrapped value to the 64-bit value nearest the previous result, so that a stream
// that is reordered across the wrap in either direction unwraps consistently. The first value
// unwraps to itself; values from before it across the wrap come out negative (the first 0
// followed by 65535 gives -1), never a jump of a whole cycle.
template <typename T>
class Unwrapper {
  static_assert(std::is_same_v<T, uint16_t> || std::is_same_v<T, uint32_t>);

 public:
  // Unwraps `value` and makes it the reference for the next call.
  int64_t Unwrap(T value) {
    last_ = PeekUnwrap(value);
    hasLast_ = true;
    return last_;
  }
  // What Unwrap(value) would return, without moving the reference.
  int64_t PeekUnwrap(T value) const {
    if (!hasLast_) return int64_t{value};
    const T lastWrapped = static_cast<T>(last_);
    const T forward = static_cast<T>(value - lastWrapped);
    if (detail::IsNewer(value, lastWrapped)) return last_ + int64_t{forward};
    return last_ - int64_t{static_cast<T>(lastWrapped - value)};
  }
  bool hasLast() const { return hasLast_; }
  int64_t last() const { return last_; }
  void Reset() {
    hasLast_ = false;
    last_ = 0;
  }

 private:
  int64_t last_ = 0;
  bool hasLast_ = false;
};

using SeqUnwrapper = Unwrapper<uint16_t>;
using TimestampUnwrapper = Unwrapper<uint32_t>;

}  // namespace kvs::rtp
