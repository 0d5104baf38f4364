// NTP timestamps for RTCP (RFC 3550 §4, §6.4.1): 64-bit from Unix microseconds and back, the
// compact 32-bit form, and the RTT formula with the RFC's own worked example.
#include <doctest/doctest.h>

#include <cstdint>

#include "rtp/ntp_time.h"

using namespace kvs::rtp;

TEST_CASE("Rtp NTP: 64-bit timestamps from Unix microseconds") {
  CHECK(NtpFromUnixMicros(0) == uint64_t{2'208'988'800} << 32);
  CHECK(NtpFromUnixMicros(1'500'000) == ((uint64_t{2'208'988'801} << 32) | 0x80000000u));
  CHECK(NtpFromUnixMicros(250'000) == ((uint64_t{2'208'988'800} << 32) | 0x40000000u));
  // 1 us is 4294.967296 units of 2^-32 s: rounds to 4295.
  CHECK((NtpFromUnixMicros(1) & 0xFFFFFFFFu) == 4295);
  // Just before a whole second the fraction rounds up into the seconds without losing them.
  CHECK((NtpFromUnixMicros(999'999) >> 32) == 2'208'988'800);
  // Before 1970.
  CHECK(NtpFromUnixMicros(-500'000) == ((uint64_t{2'208'988'799} << 32) | 0x80000000u));
}

TEST_CASE("Rtp NTP: microseconds survive the round trip, also across the 2036 era wrap") {
  const int64_t times[] = {
      0,
      1,
      999'999,
      1'700'000'000'123'456,  // 2023
      2'085'978'495'999'999,  // 2036-02-07 06:28:15.999999 UTC: the last second of era 0
      2'085'978'496'000'000,  // the first instant of era 1: NTP seconds 0
      2'085'978'496'000'001,
      3'000'000'000'654'321,  // 2065
  };
  for (int64_t us : times) {
    CAPTURE(us);
    CHECK(UnixMicrosFromNtp(NtpFromUnixMicros(us)) == us);
  }
  CHECK((NtpFromUnixMicros(2'085'978'496'000'000) >> 32) == 0);  // the seconds field wrapped
}

TEST_CASE("Rtp NTP: the compact form and DLSR durations") {
  CHECK(CompactNtp(0xE12C5A0080000000ull) == 0x5A008000u);
  CHECK(CompactNtpFromMicros(1'500'000) == 0x00018000u);
  CHECK(CompactNtpFromMicros(0) == 0);
  CHECK(CompactNtpFromMicros(-5) == 0);
  CHECK(CompactNtpFromMicros(15) == 1);  // 15.26 us is one unit
  CHECK(CompactNtpFromMicros(7) == 0);
  CHECK(CompactNtpFromMicros(int64_t{70'000} * 1'000'000) == 0xFFFFFFFFu);  // saturates
  CHECK(CompactNtpToMicros(0x00018000u) == 1'500'000);
  CHECK(CompactNtpToMicros(1) == 15);
  CHECK(CompactNtpToMicros(0xFFFFFFFFu) == 65'535'999'985);
}

TEST_CASE("Rtp RTT: A - LSR - DLSR, with RFC 3550 §6.4.1's example") {
  // RFC 3550 figure 2: A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000 (46853.125 s),
  // DLSR = 0x0005:4000 (5.250 s), so the round trip is 0x0006:2000 (6.125 s).
  CHECK(RttMicros(0xB7108000u, 0xB7052000u, 0x00054000u) == 6'125'000);
  CHECK_FALSE(RttMicros(0xB7108000u, 0, 0x00054000u).has_value());  // no SR received yet
  // Across the wrap of the compact clock (every 18.2 hours).
  CHECK(RttMicros(0x00000100u, 0xFFFFFF00u, 0x00000100u) == CompactNtpToMicros(0x100));
  // Clock error that makes it negative gives 0, not a huge unsigned value.
  CHECK(RttMicros(0x00010000u, 0x00010000u, 0x00000010u) == 0);
  // Built from the helpers: SR sent at t0, its report back 30 ms later after 10 ms held.
  const int64_t t0 = 1'700'000'000'000'000;
  const uint32_t lsr = CompactNtp(NtpFromUnixMicros(t0));
  const uint32_t dlsr = CompactNtpFromMicros(10'000);
  const uint32_t a = CompactNtp(NtpFromUnixMicros(t0 + 30'000));
  const int64_t rtt = *RttMicros(a, lsr, dlsr);
  CHECK(rtt >= 20'000 - 31);  // two roundings of 15.26 us
  CHECK(rtt <= 20'000 + 31);
}
