// NACK generation with Chromium's limits: once per RTT, capped retries, age and distance
// limits, the 1000-entry overflow, recoveries, across the sequence number wrap.
#include "media/nack_generator.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "rtp/unwrap.h"

using namespace kvs::media;

namespace {
std::vector<uint16_t> Due(NackGenerator& g, int64_t now, int64_t rtt = 100'000) {
  std::vector<uint16_t> out;
  g.CollectDue(now, rtt, out);
  return out;
}
}  // namespace

TEST_CASE("NackGenerator: gaps across the wrap are asked for at once, then once per RTT") {
  NackGenerator g;
  kvs::rtp::SeqUnwrapper u;
  uint16_t seq = 65530;
  for (int i = 0; i < 12; ++i, ++seq) {
    if (seq == 65534 || seq == 65535 || seq == 1) continue;
    CHECK(g.OnPacket(u.Unwrap(seq), 1000));
  }
  CHECK(g.missingCount() == 3);
  CHECK(Due(g, 1000) == std::vector<uint16_t>{65534, 65535, 1});
  CHECK(Due(g, 50'000).empty());  // within the RTT
  CHECK(Due(g, 101'000) == std::vector<uint16_t>{65534, 65535, 1});
  // 65535 arrives (retransmitted): it leaves the list.
  g.OnPacket(u.Unwrap(65535), 120'000);
  CHECK(Due(g, 201'000) == std::vector<uint16_t>{65534, 1});
  CHECK(g.stats().recovered == 1);
  CHECK(g.NextDueUs(100'000) == 301'000);
}

TEST_CASE("NackGenerator: retries are capped at 10; nothing older than the deadline") {
  NackGeneratorConfig c;
  c.maxAgeUs = 5'000'000;
  NackGenerator g(c);
  g.OnPacket(0, 0);
  g.OnPacket(2, 0);
  int sends = 0;
  for (int64_t t = 0; t < 3'000'000; t += 10'000) sends += int(Due(g, t).size());
  CHECK(sends == 10);
  CHECK(g.missingCount() == 0);
  CHECK(g.stats().retriesExhausted == 1);

  NackGeneratorConfig d;
  d.maxAgeUs = 250'000;
  NackGenerator h(d);
  h.OnPacket(0, 0);
  h.OnPacket(2, 0);
  sends = 0;
  for (int64_t t = 0; t < 1'000'000; t += 10'000) sends += int(Due(h, t).size());
  CHECK(sends == 3);  // at 0, 100 and 200 ms; at 300 ms it is past the jitter buffer's wait
  CHECK(h.stats().expired == 1);
}

TEST_CASE("NackGenerator: a NACK storm is capped: over 1000 missing clears the list") {
  NackGenerator g;
  g.OnPacket(0, 0);
  CHECK(g.OnPacket(900, 0));  // 899 missing: fine
  CHECK(g.missingCount() == 899);
  CHECK_FALSE(g.OnPacket(1100, 0));  // 199 more: over 1000
  CHECK(g.missingCount() == 0);
  CHECK(g.stats().overflows == 1);
  CHECK(Due(g, 0).empty());
  // The stream goes on from there.
  CHECK(g.OnPacket(1102, 0));
  CHECK(Due(g, 0) == std::vector<uint16_t>{1101});
  // A sequence number jump of more than 1000 at once is an overflow too.
  CHECK_FALSE(g.OnPacket(50'000, 0));
}

TEST_CASE("NackGenerator: the jitter buffer's give-ups and far-behind numbers are dropped") {
  NackGenerator g;
  g.OnPacket(0, 0);
  g.OnPacket(10, 0);  // 1-9 missing
  g.DropBefore(5);
  CHECK(Due(g, 0) == std::vector<uint16_t>{5, 6, 7, 8, 9});
  // 10,000 behind the newest is forgotten.
  NackGenerator h;
  h.OnPacket(0, 0);
  h.OnPacket(2, 0);  // 1 missing
  for (int64_t s = 3; s < 10'005; ++s) h.OnPacket(s, 0);
  h.OnPacket(10'010, 0);  // 10005-10009 missing, and 1 is now over 10,000 behind
  auto due = Due(h, 0);
  CHECK(std::find(due.begin(), due.end(), uint16_t{1}) == due.end());
  CHECK(due.size() == 5);
}
