// Values of the header extensions WebRTC uses (URIs in rtp_extension_uris.h): parse an
// element's data as HeaderExtensions::Find returns it, or encode one for RtpHeader::extensions.
// Encoders return small arrays (or view the caller's string), so building a header with them
// allocates nothing:
//
//   auto ast = EncodeAbsSendTime(AbsSendTimeFromMicros(nowUs));
//   auto seq = EncodeTransportSequenceNumber(twccSeq++);
//   std::array<HeaderExtension, 3> ext{{{midId, SdesValue(mid)}, {astId, ast}, {twccId, seq}}};
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

namespace kvs::rtp {

// abs-send-time: 24 bits, seconds in 6.18 fixed point, so it wraps every 64 s.
inline constexpr size_t kAbsSendTimeSize = 3;
inline constexpr uint32_t kAbsSendTimeMask = 0xFFFFFF;
// The 6.18 value of a time in microseconds (any clock; rounded to the nearest 1/262144 s).
uint32_t AbsSendTimeFromMicros(int64_t us);
// The 6.18 value of a 64-bit NTP timestamp: its bits 14..37.
constexpr uint32_t AbsSendTimeFromNtp(uint64_t ntp) {
  return static_cast<uint32_t>(ntp >> 14) & kAbsSendTimeMask;
}
// Microseconds within the 64 s cycle (0 .. 63'999'996), rounded to the nearest.
int64_t AbsSendTimeToMicros(uint32_t value);
Result<uint32_t> ParseAbsSendTime(ByteSpan data);  // ERR_RTP_EXTENSION_VALUE unless 3 bytes
std::array<uint8_t, kAbsSendTimeSize> EncodeAbsSendTime(uint32_t value);  // low 24 bits

// Transport-wide CC sequence number: 16 bits, one counter for all streams of a transport.
inline constexpr size_t kTransportSequenceNumberSize = 2;
Result<uint16_t> ParseTransportSequenceNumber(ByteSpan data);  // exactly 2 bytes
std::array<uint8_t, kTransportSequenceNumberSize> EncodeTransportSequenceNumber(uint16_t seq);

// mid, rtp-stream-id and repaired-rtp-stream-id: the SDES item's text, 1-255 bytes (1-16 in
// the one-byte form, which kAuto picks when it fits). Trailing zero bytes, which some senders
// add, are not part of the value.
inline constexpr size_t kMaxSdesExtensionSize = 255;
Result<std::string_view> ParseSdesExtension(ByteSpan data);  // a view into `data`
// A view of `value` to put in a HeaderExtension (the string must outlive the write).
inline ByteSpan SdesValue(std::string_view value) {
  return {reinterpret_cast<const uint8_t*>(value.data()), value.size()};
}
Status CheckSdesExtension(std::string_view value);  // 1-255 bytes, no zero byte

}  // namespace kvs::rtp
