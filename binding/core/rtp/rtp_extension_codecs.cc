#include "rtp/rtp_extension_codecs.h"

#include <string>

#include "rtp/rtp_errors.h"

namespace kvs::rtp {

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kFractionOne = int64_t{1} << 18;

Status WrongSize(const char* what, size_t want, size_t got) {
  return Status::Fail(kErrRtpExtensionValue, std::string(what) + " has " + std::to_string(got) +
                                                 " bytes, not " + std::to_string(want));
}

// Floor division and modulo, so that times before the clock's zero encode consistently.
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

uint32_t AbsSendTimeFromMicros(int64_t us) {
  const int64_t seconds = FloorDiv(us, kMicrosPerSecond);
  const int64_t micros = us - seconds * kMicrosPerSecond;  // 0 .. 999'999
  // Whole seconds mod 64 in the top 6 bits; the fraction rounds and may carry into them.
  const int64_t fraction = (micros * kFractionOne + kMicrosPerSecond / 2) / kMicrosPerSecond;
  return static_cast<uint32_t>(((seconds & 63) << 18) + fraction) & kAbsSendTimeMask;
}

int64_t AbsSendTimeToMicros(uint32_t value) {
  const int64_t v = value & kAbsSendTimeMask;
  return (v * kMicrosPerSecond + kFractionOne / 2) >> 18;
}

Result<uint32_t> ParseAbsSendTime(ByteSpan data) {
  if (data.size != kAbsSendTimeSize) return WrongSize("abs-send-time", 3, data.size);
  return uint32_t{data.data[0]} << 16 | uint32_t{data.data[1]} << 8 | data.data[2];
}

std::array<uint8_t, kAbsSendTimeSize> EncodeAbsSendTime(uint32_t value) {
  return {static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 8),
          static_cast<uint8_t>(value)};
}

Result<uint16_t> ParseTransportSequenceNumber(ByteSpan data) {
  if (data.size != kTransportSequenceNumberSize) {
    return WrongSize("transport-wide sequence number", 2, data.size);
  }
  return static_cast<uint16_t>(data.data[0] << 8 | data.data[1]);
}

std::array<uint8_t, kTransportSequenceNumberSize> EncodeTransportSequenceNumber(uint16_t seq) {
  return {static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq)};
}

Result<std::string_view> ParseSdesExtension(ByteSpan data) {
  size_t n = data.size;
  while (n > 0 && data.data[n - 1] == 0) --n;
  if (n == 0) return Status::Fail(kErrRtpExtensionValue, "empty SDES extension value");
  return std::string_view(reinterpret_cast<const char*>(data.data), n);
}

Status CheckSdesExtension(std::string_view value) {
  if (value.empty() || value.size() > kMaxSdesExtensionSize) {
    return Status::Fail(
        kErrRtpInvalidArgument,
        "SDES extension value of " + std::to_string(value.size()) + " bytes (1-255)");
  }
  if (value.find('\0') != std::string_view::npos) {
    return Status::Fail(kErrRtpInvalidArgument, "SDES extension value with a zero byte");
  }
  return Status::Ok();
}

}  // namespace kvs::rtp
