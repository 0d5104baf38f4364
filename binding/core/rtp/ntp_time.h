// NTP timestamps as RTCP uses them (RFC 3550 §4, §6.4.1): the 64-bit form in sender reports,
// the compact 32-bit middle form in LSR/DLSR, and the round-trip time a sender computes from
// a report block. Pure arithmetic: the caller passes the clock readings.
#pragma once

#include <cstdint>
#include <optional>

namespace kvs::rtp {

// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
inline constexpr uint64_t kNtpUnixEpochOffsetSeconds = 2'208'988'800;
// One compact-NTP unit is 1/65536 s.
inline constexpr int64_t kCompactNtpUnitsPerSecond = 65536;

// 32.32 fixed-point NTP time of a Unix time in microseconds, rounded to the nearest unit. The
// seconds field wraps in February 2036 (era 1); UnixMicrosFromNtp undoes that.
uint64_t NtpFromUnixMicros(int64_t unixUs);
// The inverse, to the nearest microsecond. Seconds with the top bit clear are read as era 1
// (2036-2104), as RFC 4330 §3 suggests, so this stays right across the 2036 wrap.
int64_t UnixMicrosFromNtp(uint64_t ntp);

// The middle 32 bits (16.16) of an NTP timestamp: LSR, and "A" in the RTT formula.
constexpr uint32_t CompactNtp(uint64_t ntp) { return static_cast<uint32_t>(ntp >> 16); }
// A duration in compact units (DLSR), rounded to the nearest; negative durations give 0 and
// durations past 65536 s saturate.
uint32_t CompactNtpFromMicros(int64_t durationUs);
int64_t CompactNtpToMicros(uint32_t compact);

// RFC 3550 §6.4.1: RTT = A - LSR - DLSR, where A is the compact NTP time the report block
// arrived (on the sender's clock) and LSR/DLSR come from the block. No estimate (nullopt) when
// LSR is 0, meaning the receiver has had no SR. A result that comes out negative, which only
// clock or rounding error can cause, is clamped to 0.
std::optional<int64_t> RttMicros(uint32_t arrivalCompactNtp, uint32_t lsr, uint32_t dlsr);

}  // namespace kvs::rtp
