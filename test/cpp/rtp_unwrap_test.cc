// Sequence number and timestamp arithmetic: RFC 1982 comparisons and unwrapping across the
// 16-bit and 32-bit wraps, in both directions, with reordering, and over long runs.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "rtp/unwrap.h"

using namespace kvs::rtp;

TEST_CASE("Rtp SeqNewer follows RFC 1982 across the wrap, and breaks the tie by value") {
  struct Row {
    uint16_t a, b;
    bool newer;
  };
  const Row rows[] = {
      {1, 0, true},      {0, 1, false},         {0, 65535, true},
      {65535, 0, false}, {5, 65530, true},      {65530, 5, false},
      {32767, 0, true},  {0, 32767, false},     {32768, 0, true},  // the tie
      {0, 32768, false}, {32769, 0, false},     {0, 32769, true},
      {7, 7, false},     {65535, 65535, false}, {40000, 7233, true},
  };
  for (const Row& r : rows) {
    CAPTURE(r.a);
    CAPTURE(r.b);
    CHECK(SeqNewer(r.a, r.b) == r.newer);
    CHECK(SeqNewerOrEqual(r.a, r.b) == (r.newer || r.a == r.b));
    CHECK(LatestSeq(r.a, r.b) == (r.newer ? r.a : r.b));
  }
  CHECK(SeqDelta(0, 65535) == 1);
  CHECK(SeqDelta(65535, 0) == -1);
  CHECK(SeqDelta(100, 90) == 10);
  CHECK(SeqDelta(32768, 0) == 32768);
  CHECK(SeqDelta(0, 32768) == -32768);
  CHECK(SeqDelta(3, 65533) == 6);
}

TEST_CASE("Rtp TimestampNewer across the 32-bit wrap") {
  CHECK(TimestampNewer(0, 0xFFFFFFFFu));
  CHECK_FALSE(TimestampNewer(0xFFFFFFFFu, 0));
  CHECK(TimestampNewer(0x7FFFFFFFu, 0));
  CHECK(TimestampNewer(0x80000000u, 0));  // the tie goes to the larger
  CHECK_FALSE(TimestampNewer(0, 0x80000000u));
  CHECK_FALSE(TimestampNewer(0x80000001u, 0));
  CHECK_FALSE(TimestampNewer(42, 42));
  CHECK(TimestampNewerOrEqual(42, 42));
  CHECK(TimestampDelta(10, 0xFFFFFFF0u) == 26);  // 6 to the wrap, 10 after
  CHECK(TimestampDelta(0xFFFFFFF0u, 10) == -26);
}

TEST_CASE("Rtp comparisons are antisymmetric and agree with the unwrapper") {
  // A coarse grid over the whole space, plus the neighbourhoods of the wrap and the tie.
  std::vector<uint16_t> values;
  for (uint32_t v = 0; v < 65536; v += 4093) values.push_back(static_cast<uint16_t>(v));
  for (int v : {0, 1, 2, 32766, 32767, 32768, 32769, 65533, 65534, 65535}) {
    values.push_back(static_cast<uint16_t>(v));
  }
  int mismatches = 0;
  for (uint16_t a : values) {
    for (uint16_t b : values) {
      if (a != b && SeqNewer(a, b) == SeqNewer(b, a)) ++mismatches;
      SeqUnwrapper u;
      const int64_t base = u.Unwrap(b);
      const int64_t next = u.PeekUnwrap(a);
      if ((next > base) != SeqNewer(a, b)) ++mismatches;
      if (next - base != SeqDelta(a, b)) ++mismatches;
      if (static_cast<uint16_t>(next) != a) ++mismatches;  // unwrapping keeps the low bits
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("Rtp sequence numbers unwrap across 65535 -> 0 in both directions and reordered") {
  struct Row {
    const char* name;
    std::vector<uint16_t> in;
    std::vector<int64_t> out;
  };
  const std::vector<Row> rows = {
      {"forward over the wrap", {65534, 65535, 0, 1}, {65534, 65535, 65536, 65537}},
      {"backward over the wrap", {1, 0, 65535, 65534}, {1, 0, -1, -2}},
      {"reordered after the wrap", {65535, 1, 0, 2, 65534}, {65535, 65537, 65536, 65538, 65534}},
      {"reordered before the wrap", {0, 65535, 1}, {0, -1, 1}},
      {"late packet from before the wrap", {65530, 3, 65533, 4}, {65530, 65539, 65533, 65540}},
      {"a repeat", {10, 10, 11}, {10, 10, 11}},
      {"just under half forward", {0, 32767}, {0, 32767}},
      {"the tie goes forward from 0", {0, 32768}, {0, 32768}},
      {"the tie goes backward from 32768", {32768, 0}, {32768, 0}},
      {"just over half is backward", {0, 32769}, {0, -32767}},
      {"second wrap", {65535, 0, 65535, 0, 1}, {65535, 65536, 65535, 65536, 65537}},
  };
  for (const Row& r : rows) {
    CAPTURE(std::string(r.name));
    SeqUnwrapper u;
    std::vector<int64_t> got;
    for (uint16_t v : r.in) got.push_back(u.Unwrap(v));
    CHECK(got == r.out);
  }
}

TEST_CASE("Rtp timestamps unwrap across 0xFFFFFFFF -> 0 in both directions and reordered") {
  struct Row {
    const char* name;
    std::vector<uint32_t> in;
    std::vector<int64_t> out;
  };
  const int64_t k32 = int64_t{1} << 32;
  const std::vector<Row> rows = {
      {"forward over the wrap",
       {0xFFFFFC40u, 0xFFFFFFFFu, 0, 3000},
       {0xFFFFFC40, 0xFFFFFFFF, k32, k32 + 3000}},
      {"backward over the wrap", {3000, 0, 0xFFFFFFFFu}, {3000, 0, -1}},
      {"B-frame-like reordering across the wrap",
       {0xFFFFF448u, 0x00000BB8u, 0xFFFFFFFFu, 0x00001770u},
       {0xFFFFF448, k32 + 0xBB8, 0xFFFFFFFF, k32 + 0x1770}},
      {"half way forward is the tie: the larger is newer", {0, 0x80000000u}, {0, 0x80000000}},
      {"just over half is backward", {0, 0x80000001u}, {0, 0x80000001 - k32}},
  };
  for (const Row& r : rows) {
    CAPTURE(std::string(r.name));
    TimestampUnwrapper u;
    std::vector<int64_t> got;
    for (uint32_t v : r.in) got.push_back(u.Unwrap(v));
    CHECK(got == r.out);
  }
}

TEST_CASE("Rtp long runs unwrap over many wraps, forward and backward, with reordering") {
  SUBCASE("sequence numbers, 12 wraps forward with adjacent pairs swapped") {
    SeqUnwrapper u;
    int bad = 0;
    const int64_t start = 65000;
    for (int64_t i = 0; i < 12 * 65536; i += 2) {
      // Send i+1 before i: every pair arrives reordered.
      for (int64_t k : {i + 1, i}) {
        const int64_t want = start + k;
        if (u.Unwrap(static_cast<uint16_t>(want)) != want) ++bad;
      }
    }
    CHECK(bad == 0);
  }
  SUBCASE("sequence numbers, 5 wraps backward") {
    SeqUnwrapper u;
    int bad = 0;
    for (int64_t v = 1000; v > 1000 - 5 * 65536; v -= 7) {
      if (u.Unwrap(static_cast<uint16_t>(v)) != v) ++bad;
    }
    CHECK(bad == 0);
  }
  SUBCASE("timestamps, big steps over 9 wraps forward then back") {
    TimestampUnwrapper u;
    int bad = 0;
    int64_t v = 0xF0000000;
    const int64_t step = 1'000'000'007;  // under half the space
    for (int i = 0; i < 40; ++i, v += step) {
      if (u.Unwrap(static_cast<uint32_t>(v)) != v) ++bad;
    }
    for (int i = 0; i < 40; ++i) {
      v -= step;
      if (u.Unwrap(static_cast<uint32_t>(v)) != v) ++bad;
    }
    CHECK(bad == 0);
    CHECK(v == 0xF0000000);  // back where it started, 9 wraps down
  }
  SUBCASE("90 kHz video timestamps across the wrap, frames reordered in threes") {
    TimestampUnwrapper u;
    int bad = 0;
    const int64_t start = 0xFFFFFFFF - 3000 * 500;
    for (int64_t f = 0; f < 1500; f += 3) {
      for (int64_t k : {f + 2, f, f + 1}) {
        const int64_t want = start + 3000 * k;
        if (u.Unwrap(static_cast<uint32_t>(want)) != want) ++bad;
      }
    }
    CHECK(bad == 0);
    CHECK(u.last() > 0xFFFFFFFF);
  }
}

TEST_CASE("Rtp unwrapper: the first value is its own reference, Peek does not move, Reset") {
  SeqUnwrapper u;
  CHECK_FALSE(u.hasLast());
  CHECK(u.PeekUnwrap(65535) == 65535);
  CHECK_FALSE(u.hasLast());
  CHECK(u.Unwrap(65535) == 65535);
  CHECK(u.PeekUnwrap(2) == 65538);
  CHECK(u.PeekUnwrap(65000) == 65000);
  CHECK(u.last() == 65535);
  CHECK(u.Unwrap(2) == 65538);
  u.Reset();
  CHECK_FALSE(u.hasLast());
  CHECK(u.Unwrap(2) == 2);
}
