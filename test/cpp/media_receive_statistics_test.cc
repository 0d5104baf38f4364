// RFC 3550 receive statistics: A.3 loss, A.8 jitter, fraction lost per interval, the extended
// highest sequence number across wraps, LSR/DLSR.
#include "media/receive_statistics.h"

#include <doctest/doctest.h>

#include "rtp/ntp_time.h"
#include "rtp/unwrap.h"

using namespace kvs;
using namespace kvs::media;

TEST_CASE("ReceiveStatistics: loss and the extended highest sequence across three wraps") {
  ReceiveStatistics st(90000);
  rtp::SeqUnwrapper u;
  // From 65500, 140,000 packets (to 205,499 = 3 * 65536 + 8891), every 100th lost.
  uint64_t sent = 0, got = 0;
  uint16_t seq = 65500;
  for (int i = 0; i < 140'000; ++i, ++seq) {
    ++sent;
    if (i % 100 == 50) continue;
    ++got;
    st.OnPacket(u.Unwrap(seq), 0, i);
  }
  CHECK(st.packetsReceived() == got);
  CHECK(st.cumulativeLost() == int64_t(sent - got));
  rtp::ReportBlock b = st.MakeReportBlock(7, 0);
  CHECK(b.ssrc == 7);
  CHECK(b.cumulativeLost == 1400);
  // Three cycles, and the low 16 bits of the last number.
  const uint16_t last = static_cast<uint16_t>(seq - 1);
  CHECK(last == 8891);
  CHECK(b.extendedHighestSeq == (3u << 16 | last));
  CHECK(b.fractionLost == 2);  // 1% of 256, rounded down: 1400 * 256 / 140000
}

TEST_CASE("ReceiveStatistics: fraction lost per interval; duplicates and reordering") {
  ReceiveStatistics st(90000);
  for (int64_t s = 0; s < 100; ++s) st.OnPacket(s, 0, 0);
  CHECK(st.MakeReportBlock(1, 0).fractionLost == 0);
  // Next interval: 100 expected, 75 received.
  for (int64_t s = 100; s < 200; ++s) {
    if (s % 4 != 0) st.OnPacket(s, 0, 0);
  }
  rtp::ReportBlock b = st.MakeReportBlock(1, 0);
  CHECK(b.fractionLost == 64);
  CHECK(b.cumulativeLost == 25);
  // Then the lost ones arrive late (a NACK repair) and some twice: loss goes negative.
  for (int64_t s = 100; s < 200; s += 4) st.OnPacket(s, 0, 0);
  for (int64_t s = 150; s < 160; ++s) st.OnPacket(s, 0, 0);
  b = st.MakeReportBlock(1, 0);
  CHECK(b.fractionLost == 0);  // more received than expected in the interval
  CHECK(b.cumulativeLost == -10);
  CHECK(b.extendedHighestSeq == 199);
  // An interval of 201 expected with only its last received: 200 * 256 / 201.
  st.OnPacket(400, 0, 0);
  CHECK(st.MakeReportBlock(1, 0).fractionLost == 254);
}

TEST_CASE("ReceiveStatistics: A.8 jitter from transit changes, frames' packets not counted") {
  ReceiveStatistics st(90000);
  // Frames 40 ms apart at 90 kHz (3600 ticks); arrivals alternate 0 and +10 ms of delay.
  // |D| = 900 ticks for every frame after the first: J converges to 900 from below.
  int64_t seq = 0;
  for (int f = 0; f < 200; ++f) {
    const int64_t arrival = int64_t(f) * 40'000 + (f % 2) * 10'000;
    const auto ts = static_cast<uint32_t>(0xFFFF0000u + uint32_t(f) * 3600);  // wraps
    for (int k = 0; k < 5; ++k) st.OnPacket(seq++, ts, arrival + k * 2000);   // 2 ms spread
  }
  CHECK(st.jitter() >= 895);
  CHECK(st.jitter() <= 900);
  CHECK(st.jitterSeconds() == doctest::Approx(0.01).epsilon(0.01));
  // The exact recurrence for the first steps, in the RFC's fixed point.
  ReceiveStatistics one(8000);
  one.OnPacket(0, 0, 0);
  one.OnPacket(1, 160, 20'000 + 1'000);  // 1 ms late: |D| = 8 ticks
  CHECK(one.jitter() == 0);              // (16 * 8 / 16) >> 4: 8/16 of a tick
  one.OnPacket(2, 320, 40'000);          // back on time: |D| = 8
  // J16 = 8; then 8 + 8 - ((8 + 8) >> 4) = 15 -> 0 ticks; shown by jitterSeconds exactly.
  CHECK(one.jitterSeconds() == doctest::Approx(15.0 / 16 / 8000));
}

TEST_CASE("ReceiveStatistics: LSR and DLSR from the last SR") {
  ReceiveStatistics st(90000);
  st.OnPacket(0, 0, 0);
  CHECK(st.MakeReportBlock(1, 0).lastSr == 0);  // no SR yet: both 0
  const uint64_t ntp = rtp::NtpFromUnixMicros(1'700'000'000'500'000);
  st.OnSenderReport(ntp, 3'000'000);
  rtp::ReportBlock b = st.MakeReportBlock(1, 3'250'000);
  CHECK(b.lastSr == rtp::CompactNtp(ntp));
  CHECK(b.delaySinceLastSr == rtp::CompactNtpFromMicros(250'000));
  CHECK(b.delaySinceLastSr == 16384);  // a quarter of a second in 1/65536 s
}
