#include "rtp/ntp_time.h"

namespace kvs::rtp {

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr uint64_t kFractionOne = uint64_t{1} << 32;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

uint64_t NtpFromUnixMicros(int64_t unixUs) {
  const int64_t seconds = FloorDiv(unixUs, kMicrosPerSecond);
  const auto micros = static_cast<uint64_t>(unixUs - seconds * kMicrosPerSecond);
  const uint64_t ntpSeconds = static_cast<uint64_t>(seconds) + kNtpUnixEpochOffsetSeconds;
  // Rounding may carry a whole second into the top half, which is what it should do.
  const uint64_t fraction = (micros * kFractionOne + kMicrosPerSecond / 2) / kMicrosPerSecond;
  return (ntpSeconds << 32) + fraction;
}

int64_t UnixMicrosFromNtp(uint64_t ntp) {
  uint64_t seconds = ntp >> 32;
  if ((seconds & 0x80000000u) == 0) seconds += uint64_t{1} << 32;  // era 1
  const uint64_t fraction = ntp & 0xFFFFFFFFu;
  const auto micros = static_cast<int64_t>((fraction * kMicrosPerSecond + kFractionOne / 2) >> 32);
  return (static_cast<int64_t>(seconds) - static_cast<int64_t>(kNtpUnixEpochOffsetSeconds)) *
             kMicrosPerSecond +
         micros;
}

uint32_t CompactNtpFromMicros(int64_t durationUs) {
  if (durationUs <= 0) return 0;
  constexpr int64_t kMax = int64_t{0xFFFFFFFF};
  const int64_t seconds = durationUs / kMicrosPerSecond;
  if (seconds >= 65536) return 0xFFFFFFFFu;
  const int64_t micros = durationUs % kMicrosPerSecond;
  const int64_t units =
      seconds * kCompactNtpUnitsPerSecond +
      (micros * kCompactNtpUnitsPerSecond + kMicrosPerSecond / 2) / kMicrosPerSecond;
  return static_cast<uint32_t>(units > kMax ? kMax : units);
}

int64_t CompactNtpToMicros(uint32_t compact) {
  return (int64_t{compact} * kMicrosPerSecond + kCompactNtpUnitsPerSecond / 2) /
         kCompactNtpUnitsPerSecond;
}

std::optional<int64_t> RttMicros(uint32_t arrivalCompactNtp, uint32_t lsr, uint32_t dlsr) {
  if (lsr == 0) return std::nullopt;
  const auto rtt = static_cast<int32_t>(arrivalCompactNtp - lsr - dlsr);
  if (rtt <= 0) return 0;
  return CompactNtpToMicros(static_cast<uint32_t>(rtt));
}

}  // namespace kvs::rtp
