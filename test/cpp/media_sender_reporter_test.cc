// Sender reports: when they go, what they say, and the RTT their echoes give.
#include "media/sender_reporter.h"

#include <doctest/doctest.h>

#include <climits>

#include "media_stream_test_util.h"
#include "rtp/ntp_time.h"
#include "rtp/rtcp_compound.h"
#include "rtp/rtcp_packet.h"
#include "rtp/rtcp_report.h"
#include "rtp/rtcp_sdes.h"

using namespace kvs;
using namespace kvs::media;
using kvs::media::testing::ConstantRandom;
using kvs::media::testing::SeededRandom;

namespace {

SenderReporterConfig Config() {
  SenderReporterConfig c;
  c.ssrc = 0x11223344;
  c.cname = "cname-1";
  c.clockRate = 90000;
  return c;
}

struct Parsed {
  rtp::SenderReport sr;
  rtp::Sdes sdes;
};

Parsed ParseSr(const std::vector<uint8_t>& bytes) {
  REQUIRE(rtp::ValidateRtcpCompound(bytes, rtp::RtcpMode::kCompound).ok());
  rtp::RtcpReader reader(bytes);
  rtp::RtcpPacketView p;
  Parsed out;
  REQUIRE(reader.Next(&p));
  auto sr = rtp::ParseSenderReport(p);
  REQUIRE(sr.ok());
  out.sr = sr.value();
  REQUIRE(reader.Next(&p));
  auto sdes = rtp::ParseSdes(p);
  REQUIRE(sdes.ok());
  out.sdes = sdes.value();
  CHECK_FALSE(reader.Next(&p));
  return out;
}

}  // namespace

TEST_CASE("SenderReporter: nothing before the first packet, then an SR at once") {
  SenderReporter r(Config(), ConstantRandom(0));
  CHECK_FALSE(r.Due(1'000'000));
  CHECK(r.nextUs() == INT64_MAX);
  r.OnRtpSent(1000, 5'000'000, 700);
  r.OnRtpSent(1000, 5'000'000, 300);
  CHECK(r.Due(5'000'000));
  const int64_t unix = 1'700'000'000'123'456;
  auto bytes = r.Build(5'000'000, unix);
  REQUIRE(bytes.ok());
  Parsed p = ParseSr(bytes.value());
  CHECK(p.sr.ssrc == 0x11223344);
  CHECK(p.sr.info.ntpTimestamp == rtp::NtpFromUnixMicros(unix));
  CHECK(p.sr.info.rtpTimestamp == 1000);
  CHECK(p.sr.info.packetCount == 2);
  CHECK(p.sr.info.octetCount == 1000);
  CHECK(p.sr.reportBlocks.empty());
  REQUIRE(p.sdes.chunks.size() == 1);
  CHECK(p.sdes.chunks[0].ssrc == 0x11223344);
  REQUIRE(p.sdes.chunks[0].cname() != nullptr);
  CHECK(*p.sdes.chunks[0].cname() == "cname-1");
  CHECK(r.reportsSent() == 1);
}

TEST_CASE("SenderReporter: the RTP timestamp follows the clock from the last frame") {
  SenderReporter r(Config(), ConstantRandom(0));
  r.OnRtpSent(0xFFFFFF00u, 1'000'000, 100);
  // 20 ms later at 90 kHz is 1800 ticks, across the 32-bit wrap.
  auto bytes = r.Build(1'020'000, 0);
  REQUIRE(bytes.ok());
  CHECK(ParseSr(bytes.value()).sr.info.rtpTimestamp == 0xFFFFFF00u + 1800u);
  // Retransmissions count, but do not move the clock mapping.
  r.OnRetransmissionSent(50);
  CHECK(r.packetCount() == 2);
  CHECK(r.octetCount() == 150);
  r.OnRtpUnsent(50);
  CHECK(r.packetCount() == 1);
}

TEST_CASE("SenderReporter: intervals are uniform in 100-300 ms") {
  SUBCASE("the ends of the range") {
    SenderReporter lo(Config(), ConstantRandom(0x00));
    lo.OnRtpSent(0, 0, 1);
    REQUIRE(lo.Build(0, 0).ok());
    CHECK(lo.nextUs() == 100'000);
    SenderReporter hi(Config(), ConstantRandom(0xFF));
    hi.OnRtpSent(0, 0, 1);
    REQUIRE(hi.Build(0, 0).ok());
    // 2^64 - 1 mod 200001 + 100000: the top of the range is reachable, never exceeded.
    CHECK(hi.nextUs() >= 100'000);
    CHECK(hi.nextUs() <= 300'000);
  }
  SUBCASE("seeded: all within, and spread") {
    SenderReporter r(Config(), SeededRandom(42));
    r.OnRtpSent(0, 0, 1);
    int64_t now = 0, minGap = INT64_MAX, maxGap = 0;
    int reports = 0;
    for (now = 0; now < 60'000'000; now += 1000) {
      if (!r.Due(now)) continue;
      const int64_t before = now;
      REQUIRE(r.Build(now, now).ok());
      const int64_t gap = r.nextUs() - before;
      minGap = std::min(minGap, gap);
      maxGap = std::max(maxGap, gap);
      ++reports;
    }
    CHECK(minGap >= 100'000);
    CHECK(maxGap <= 300'000);
    CHECK(maxGap - minGap > 150'000);  // not a fixed step
    // 60 s at a mean of 200 ms (+ up to 1 ms of tick granularity).
    CHECK(reports > 270);
    CHECK(reports < 330);
  }
}

TEST_CASE("SenderReporter: RTT = arrival - SR send time - DLSR, exactly") {
  SenderReporter r(Config(), ConstantRandom(0));
  r.OnRtpSent(0, 0, 1);
  const int64_t srAt = 1'000'000;
  const int64_t unix = 1'700'000'000'000'000;
  REQUIRE(r.Build(srAt, unix).ok());
  const uint32_t lsr = rtp::CompactNtp(rtp::NtpFromUnixMicros(unix));
  // The peer held the SR 13107/65536 s = 199996.9 µs (199997 rounded) and its report arrives
  // 250 ms after our SR left.
  const uint32_t dlsr = 13107;
  auto rtt = r.RoundTripUs(lsr, dlsr, srAt + 250'000);
  REQUIRE(rtt.has_value());
  CHECK(*rtt == 250'000 - 199'997);
  // A wall clock step after the SR changes nothing: A is read on the monotonic clock.
  CHECK(r.RoundTripUs(lsr, dlsr, srAt + 250'000) == rtt);
  // No LSR (the peer has had no SR), or one we never sent.
  CHECK_FALSE(r.RoundTripUs(0, dlsr, srAt + 250'000).has_value());
  CHECK_FALSE(r.RoundTripUs(lsr + 1, dlsr, srAt + 250'000).has_value());
  // A DLSR longer than the elapsed time (clock error) gives 0, never negative.
  CHECK(r.RoundTripUs(lsr, 65536, srAt + 250'000) == 0);
}

TEST_CASE("SenderReporter: the last 16 SRs can be echoed") {
  SenderReporter r(Config(), ConstantRandom(0));
  r.OnRtpSent(0, 0, 1);
  std::vector<uint32_t> lsrs;
  for (int i = 0; i < 20; ++i) {
    const int64_t unix = 1'700'000'000'000'000 + i * 200'000;
    REQUIRE(r.Build(i * 200'000, unix).ok());
    lsrs.push_back(rtp::CompactNtp(rtp::NtpFromUnixMicros(unix)));
  }
  CHECK_FALSE(r.RoundTripUs(lsrs[3], 0, 4'000'000).has_value());
  auto rtt = r.RoundTripUs(lsrs[4], 0, 4'000'000);
  REQUIRE(rtt.has_value());
  CHECK(*rtt == 4'000'000 - 4 * 200'000);
}
