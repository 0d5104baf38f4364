// The rolling (retransmission) buffer: found by 16-bit sequence number across the wrap, kept
// intact, and bounded by age, bytes and packets.
#include "media/rtp_history.h"

#include <doctest/doctest.h>

#include "media_test_util.h"

using namespace kvs;
using namespace kvs::media;

namespace {

RtpPayload PayloadOf(size_t size, uint8_t fill) {
  RtpPayload p;
  p.source = MakeShared(std::vector<uint8_t>(size, fill));
  p.length = static_cast<uint32_t>(size);
  return p;
}

RtpHistory::Limits Unbounded() {
  RtpHistory::Limits l;
  l.maxPackets = 8192;
  l.maxBytes = SIZE_MAX;
  l.maxAgeUs = INT64_MAX / 2;
  return l;
}

}  // namespace

TEST_CASE("RtpHistory: packets are found by their 16-bit number across the wrap, unaltered") {
  RtpHistory h(Unbounded());
  // Unwrapped 65500..65899: the wire numbers wrap from 65535 to 0 after 36 packets.
  for (int64_t s = 65500; s < 65900; ++s) {
    h.Put(s, PayloadOf(100, static_cast<uint8_t>(s)), static_cast<uint32_t>(s * 3000), s * 10,
          static_cast<uint64_t>(s));
  }
  CHECK(h.size() == 400);
  for (int64_t s = 65500; s < 65900; ++s) {
    HistoryPacket* p = h.Find(static_cast<uint16_t>(s), 0);
    REQUIRE(p != nullptr);
    CHECK(p->sequence == s);
    CHECK(p->timestamp == static_cast<uint32_t>(s * 3000));
    CHECK(p->payload.ToBytes() == std::vector<uint8_t>(100, static_cast<uint8_t>(s)));
  }
  // 65499 was never stored; 364 (unwrapped 65900) is not sent yet.
  CHECK(h.Find(65499, 0) == nullptr);
  CHECK(h.Find(364, 0) == nullptr);
  // The ring grew from 256 to 512 slots on demand and found everything after the move.
  CHECK(h.capacity() == 512);
}

TEST_CASE("RtpHistory: the payload is the frame's bytes, referenced, not copied") {
  RtpHistory h(Unbounded());
  auto frame = MakeShared(std::vector<uint8_t>(3000, 7));
  RtpPayload p;
  p.source = frame;
  p.offset = 1000;
  p.length = 1000;
  h.Put(10, p, 0, 0, 0);
  HistoryPacket* found = h.Find(10, 0);
  REQUIRE(found != nullptr);
  CHECK(found->payload.source.get() == frame.get());
  CHECK(found->payload.Slice().data == frame->data() + 1000);
}

TEST_CASE("RtpHistory: bounded by age") {
  RtpHistory::Limits l = Unbounded();
  l.maxAgeUs = 1'000'000;
  RtpHistory h(l);
  for (int64_t s = 0; s < 100; ++s) h.Put(s, PayloadOf(10, 1), 0, s * 20'000, 0);  // 2 s
  // At 2 s, what was sent before 1 s has gone.
  CHECK(h.Find(49, 2'000'000) == nullptr);
  CHECK(h.Find(50, 2'000'000) != nullptr);
  CHECK(h.stats().evictedByAge == 50);
  CHECK(h.Find(99, 3'000'000) == nullptr);
  CHECK(h.size() == 0);
}

TEST_CASE("RtpHistory: bounded by bytes and by packets") {
  SUBCASE("bytes") {
    RtpHistory::Limits l = Unbounded();
    l.maxBytes = 10'000;
    RtpHistory h(l);
    for (int64_t s = 0; s < 100; ++s) h.Put(s, PayloadOf(1000, 1), 0, 0, 0);
    CHECK(h.size() == 10);
    CHECK(h.bytes() == 10'000);
    CHECK(h.Find(89, 0) == nullptr);
    CHECK(h.Find(90, 0) != nullptr);
    CHECK(h.stats().evictedByBytes == 90);
  }
  SUBCASE("one packet over the byte bound is still kept") {
    RtpHistory::Limits l = Unbounded();
    l.maxBytes = 500;
    RtpHistory h(l);
    h.Put(0, PayloadOf(1000, 1), 0, 0, 0);
    CHECK(h.Find(0, 0) != nullptr);
  }
  SUBCASE("packets: never more than the bound, here the SRTP replay window") {
    RtpHistory::Limits l = Unbounded();
    l.maxPackets = 8192;
    RtpHistory h(l);
    for (int64_t s = 0; s < 20'000; ++s) h.Put(s, PayloadOf(1, 1), 0, 0, 0);
    CHECK(h.size() == 8192);
    CHECK(h.capacity() == 8192);
    CHECK(h.Find(static_cast<uint16_t>(20'000 - 8193), 0) == nullptr);
    CHECK(h.Find(static_cast<uint16_t>(20'000 - 8192), 0) != nullptr);
  }
}

TEST_CASE("RtpHistory: a jump in sequence numbers starts over") {
  RtpHistory h(Unbounded());
  for (int64_t s = 0; s < 10; ++s) h.Put(s, PayloadOf(1, 1), 0, 0, 0);
  h.Put(1000, PayloadOf(1, 2), 0, 0, 0);
  CHECK(h.size() == 1);
  CHECK(h.Find(5, 0) == nullptr);
  CHECK(h.Find(1000, 0) != nullptr);
}
