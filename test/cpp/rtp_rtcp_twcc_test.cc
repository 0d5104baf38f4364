// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
// extensions-01 §3.1): hand-made vectors with every chunk and delta named, the chunk choice of
// the writer, round trips over random feedback, and malformed packets.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "rtp/rtcp_packet.h"
#include "rtp/rtcp_twcc.h"
#include "rtp_test_util.h"

using namespace kvs;
using namespace kvs::rtp;
using kvs::rtp::testing::CodeOf;
using kvs::rtp::testing::Hex;
using kvs::rtp::testing::Ok;
using kvs::rtp::testing::OnePacket;
using kvs::rtp::testing::Written;

namespace {

TwccPacketStatus Got(uint16_t seq, int64_t arrivalUs) { return {seq, true, arrivalUs}; }
TwccPacketStatus Lost(uint16_t seq) { return {seq, false, 0}; }

// Five packets across the sequence wrap: small, lost, negative (large), 63.75 ms, 0 ms.
std::vector<uint8_t> WrapVector() {
  return Hex(
      "8f cd 00 06"  // V=2 FMT=15, PT=205 (RTPFB), length 6: 28 bytes
      "00 00 00 01"  // SSRC of packet sender
      "00 00 00 02"  // SSRC of media source
      "ff fe"        // base sequence number 65534
      "00 05"        // packet status count 5
      "ff ff fe"     // reference time -2 (x 64 ms)
      "09"           // feedback packet count 9
      "d2 50"        // status vector, 2-bit (T=1 S=1): 01 00 10 01 01, then 2 unused 00
      "01"           // delta of 65534: +1 (250 us), small
      "ff fc"        // delta of 0: -4 (-1000 us), large
      "ff"           // delta of 1: +255 (63.75 ms), small
      "00"           // delta of 2: 0, small
      "00");         // zero padding to 32 bits
}

TransportFeedback WrapFeedback() {
  TransportFeedback fb;
  fb.senderSsrc = 1;
  fb.mediaSsrc = 2;
  fb.baseSequence = 65534;
  fb.referenceTime = -2;
  fb.feedbackCount = 9;
  fb.packets = {Got(65534, 250), Lost(65535), Got(0, -750), Got(1, 63'000), Got(2, 63'000)};
  return fb;
}

}  // namespace

TEST_CASE("Rtp TWCC: the hand-made vector across the sequence wrap, parsed and written") {
  const auto bytes = WrapVector();
  const TransportFeedback fb = Ok(ParseTransportFeedback(OnePacket(bytes)));
  CHECK(fb == WrapFeedback());
  CHECK(fb.referenceTimeUs() == -128'000);
  CHECK(Written(WrapFeedback()) == bytes);
}

TEST_CASE("Rtp TWCC: a one-bit vector and a run-length chunk") {
  const auto bytes =
      Hex("8f cd 00 07"           // FMT=15 RTPFB, length 7: 32 bytes
          "00 00 00 01"           // sender SSRC
          "00 00 00 02"           // media SSRC
          "00 64"                 // base sequence number 100
          "00 1e"                 // packet status count 30
          "00 00 10"              // reference time 16 (1.024 s)
          "00"                    // feedback packet count 0
          "aa aa"                 // status vector, 1-bit (T=1 S=0): 1 0 1 0 1 0 1 0 1 0 1 0 1 0
          "00 10"                 // run length (T=0), symbol 00 (not received), run 16
          "04 04 04 04 04 04 04"  // 7 deltas of +4 (1 ms), small
          "00");                  // zero padding
  const TransportFeedback fb = Ok(ParseTransportFeedback(OnePacket(bytes)));
  CHECK(fb.baseSequence == 100);
  CHECK(fb.referenceTime == 16);
  REQUIRE(fb.packets.size() == 30);
  int64_t expected = 0;
  for (size_t i = 0; i < 30; ++i) {
    CAPTURE(i);
    CHECK(fb.packets[i].sequenceNumber == 100 + i);
    const bool received = i < 14 && i % 2 == 0;
    CHECK(fb.packets[i].received == received);
    if (received) expected += 1000;
    CHECK(fb.packets[i].arrivalUs == (received ? expected : 0));
  }
  CHECK(Written(fb) == bytes);  // the writer picks the same two chunks
}

TEST_CASE("Rtp TWCC: chunk choice keeps long runs in one chunk and packs mixed runs") {
  SUBCASE("1000 received packets 250 us apart: one run-length chunk") {
    TransportFeedback fb;
    fb.baseSequence = 65000;  // the run crosses the wrap
    for (uint16_t i = 0; i < 1000; ++i) {
      fb.packets.push_back(Got(static_cast<uint16_t>(65000 + i), 250 * (i + 1)));
    }
    const auto bytes = Written(fb);
    // 20 of header, 2 of chunk, 1000 one-byte deltas, 2 of padding.
    CHECK(bytes.size() == 20 + 2 + 1000 + 2);
    CHECK(bytes[20] == 0x23);  // T=0, symbol 01, run 1000 = 0x3E8: 0010 0011 1110 1000
    CHECK(bytes[21] == 0xE8);
    CHECK(Ok(ParseTransportFeedback(OnePacket(bytes))) == fb);
  }
  SUBCASE("a run longer than 8191 splits") {
    TransportFeedback fb;
    for (uint32_t i = 0; i < 10'000; ++i) fb.packets.push_back(Lost(static_cast<uint16_t>(i)));
    fb.packets.back() = Got(9999, 0);
    const auto bytes = Written(fb);
    CHECK(bytes.size() == 20 + 3 * 2 + 1 + 1);  // runs of 8191 and 1808 lost, 1 received
    CHECK(bytes[20] == 0x1F);                   // run 8191 of 00
    CHECK(bytes[21] == 0xFF);
    CHECK(Ok(ParseTransportFeedback(OnePacket(bytes))) == fb);
  }
  SUBCASE("one large delta among small ones uses a two-bit vector, then the rest") {
    TransportFeedback fb;
    for (uint16_t i = 0; i < 20; ++i) fb.packets.push_back(Got(i, 1000 * i));
    fb.packets[3].arrivalUs = -5000;     // negative after packet 2: large
    fb.packets[4].arrivalUs = 4000 + 0;  // back up: +9000 us = 36 units, small
    const auto bytes = Written(fb);
    // 2-bit vector for 0..6 (contains the large delta), then 13 small ones: a run-length.
    CHECK(bytes[20] == 0xD5);  // 11 01 01 01 ...: T=1 S=1, 01 01 01 10 01 01 01
    CHECK(bytes[21] == 0x95);
    CHECK(bytes[22] == 0x20);  // run of 01, length 13
    CHECK(bytes[23] == 0x0D);
    CHECK(Ok(ParseTransportFeedback(OnePacket(bytes))) == fb);
  }
}

TEST_CASE("Rtp TWCC: arrival times round to 250 us without drift, deltas at their limits") {
  TransportFeedback fb;
  // 333 us apart: each arrival rounds on its own, so packet 99 is still within 125 us.
  for (uint16_t i = 0; i < 100; ++i) fb.packets.push_back(Got(i, 333 * i));
  const TransportFeedback back = Ok(ParseTransportFeedback(OnePacket(Written(fb))));
  REQUIRE(back.packets.size() == 100);
  for (size_t i = 0; i < 100; ++i) {
    CHECK(std::llabs(back.packets[i].arrivalUs - fb.packets[i].arrivalUs) <= 125);
    CHECK(back.packets[i].arrivalUs % 250 == 0);
  }

  TransportFeedback edge;
  edge.packets = {Got(0, 255 * 250),                            // the largest small delta
                  Got(1, 255 * 250 + 256 * 250),                // the smallest positive large one
                  Got(2, 255 * 250 + 256 * 250 + 32767 * 250),  // the largest large one
                  Got(3, 255 * 250 + 256 * 250 - 250),          // -32767 units back
                  Lost(4)};
  edge.packets[3].arrivalUs = edge.packets[2].arrivalUs - 32768 * 250;  // the most negative
  CHECK(Ok(ParseTransportFeedback(OnePacket(Written(edge)))) == edge);

  std::vector<uint8_t> out;
  ByteWriter w(out);
  TransportFeedback tooFar;
  tooFar.packets = {Got(0, 32768 * 250)};  // one unit past a signed 16-bit delta
  CHECK(CodeOf(WriteRtcp(tooFar, w)) == "ERR_RTCP_INVALID_ARGUMENT");
  tooFar.packets = {Got(0, 0), Got(1, -32769 * 250)};
  CHECK(CodeOf(WriteRtcp(tooFar, w)) == "ERR_RTCP_INVALID_ARGUMENT");
  CHECK(out.empty());
}

TEST_CASE("Rtp TWCC: writer input checks") {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  TransportFeedback fb;
  CHECK(CodeOf(WriteRtcp(fb, w)) == "ERR_RTCP_INVALID_ARGUMENT");  // no packets
  fb.baseSequence = 10;
  fb.packets = {Got(10, 0), Got(12, 250)};  // a gap: write it as lost instead
  CHECK(CodeOf(WriteRtcp(fb, w)) == "ERR_RTCP_INVALID_ARGUMENT");
  fb.packets = {Got(11, 0)};  // not starting at the base
  CHECK(CodeOf(WriteRtcp(fb, w)) == "ERR_RTCP_INVALID_ARGUMENT");
  fb.packets = {Got(10, 0)};
  fb.referenceTime = 0x800000;
  CHECK(CodeOf(WriteRtcp(fb, w)) == "ERR_RTCP_INVALID_ARGUMENT");
  fb.referenceTime = -0x800001;
  CHECK(CodeOf(WriteRtcp(fb, w)) == "ERR_RTCP_INVALID_ARGUMENT");
  fb.referenceTime = 0;
  fb.packets.clear();
  for (uint32_t i = 0; i < 65536; ++i) fb.packets.push_back(Lost(static_cast<uint16_t>(10 + i)));
  CHECK(CodeOf(WriteRtcp(fb, w)) == "ERR_RTCP_INVALID_ARGUMENT");  // 65536 statuses
  CHECK(out.empty());
  fb.packets.pop_back();
  CHECK(Ok(ParseTransportFeedback(OnePacket(Written(fb)))).packets.size() == 65535);
  // The extremes of the reference time survive.
  fb.packets = {Got(10, 0)};
  for (int32_t ref : {kTwccMinReferenceTime, kTwccMaxReferenceTime, -1, 0}) {
    fb.referenceTime = ref;
    CHECK(Ok(ParseTransportFeedback(OnePacket(Written(fb)))).referenceTime == ref);
  }
}

TEST_CASE("Rtp TWCC: random feedback round-trips (write -> parse -> equal)") {
  std::mt19937 engine(77);
  auto rng = [&] { return static_cast<uint32_t>(engine()); };
  for (int round = 0; round < 400; ++round) {
    TransportFeedback fb;
    fb.senderSsrc = rng();
    fb.mediaSsrc = rng();
    fb.baseSequence = static_cast<uint16_t>(rng());
    fb.referenceTime = static_cast<int32_t>(rng() % 0x1000000) - 0x800000;
    fb.feedbackCount = static_cast<uint8_t>(rng());
    const size_t n = 1 + rng() % (round % 10 == 0 ? 3000 : 60);
    const unsigned lossPercent = rng() % 101;
    int64_t t = static_cast<int64_t>(rng() % 2000) * 250 - 250'000;
    for (size_t i = 0; i < n; ++i) {
      const auto seq = static_cast<uint16_t>(fb.baseSequence + i);
      if (rng() % 100 < lossPercent) {
        fb.packets.push_back(Lost(seq));
        continue;
      }
      // Mostly small steps, sometimes a jump forward or back that needs two bytes.
      const unsigned kind = rng() % 10;
      const int64_t step = kind < 7   ? rng() % 256
                           : kind < 9 ? 256 + rng() % 20000
                                      : -int64_t(rng() % 20000);
      t += step * 250;
      fb.packets.push_back(Got(seq, t));
    }
    const auto bytes = Written(fb);
    CHECK(bytes.size() % 4 == 0);
    const auto back = ParseTransportFeedback(OnePacket(bytes));
    REQUIRE(back.ok());
    CHECK(back.value() == fb);
  }
}

TEST_CASE("Rtp TWCC: RTCP padding (P bit) instead of zero padding also parses") {
  // The wrap vector with its last byte as an RTCP pad count of 1.
  auto bytes = WrapVector();
  bytes[0] |= 0x20;
  bytes.back() = 0x01;
  CHECK(Ok(ParseTransportFeedback(OnePacket(bytes))) == WrapFeedback());
}

TEST_CASE("Rtp TWCC: malformed feedback is rejected") {
  struct Row {
    const char* name;
    std::vector<uint8_t> bytes;
    const char* code;
  };
  const std::vector<Row> rows = {
      {"packet status count 0",
       Hex("8f cd 00 05 | 00 00 00 01 | 00 00 00 02 | 00 00 00 00 | 00 00 00 00 | 20 01 00 00"),
       "ERR_RTCP_TWCC"},
      {"count 10, one run of 5 and no more chunks",
       Hex("8f cd 00 05 | 00 00 00 01 | 00 00 00 02 | 00 00 00 0a | 00 00 00 00"
           "00 05 00 00"),  // run of 5 lost, then a 0x0000 chunk: a run of length 0
       "ERR_RTCP_TWCC"},
      {"count 65535, one vector chunk",
       Hex("8f cd 00 05 | 00 00 00 01 | 00 00 00 02 | 00 00 ff ff | 00 00 00 00"
           "80 00 00 00"),  // 14 lost, then a zero-length run
       "ERR_RTCP_TWCC"},
      {"chunks end before the count (P bit trims the rest)",
       Hex("af cd 00 05 | 00 00 00 01 | 00 00 00 02 | 00 00 00 1e | 00 00 00 00"
           "00 0a 00 02"),  // run of 10, then 2 bytes of RTCP padding
       "ERR_RTCP_TWCC"},
      {"run-length chunk of length 0",
       Hex("8f cd 00 05 | 00 00 00 01 | 00 00 00 02 | 00 00 00 01 | 00 00 00 00 | 00 00 00 00"),
       "ERR_RTCP_TWCC"},
      {"run of the reserved symbol",
       Hex("8f cd 00 05 | 00 00 00 01 | 00 00 00 02 | 00 00 00 01 | 00 00 00 00 | 60 01 00 00"),
       "ERR_RTCP_TWCC"},
      {"reserved symbol in a two-bit vector",
       Hex("8f cd 00 05 | 00 00 00 01 | 00 00 00 02 | 00 00 00 02 | 00 00 00 00 | cc 00 00 00"),
       "ERR_RTCP_TWCC"},  // 2-bit vector 11 00 11 00...: symbols 00 then 11
      {"deltas missing",
       Hex("8f cd 00 05 | 00 00 00 01 | 00 00 00 02 | 00 00 00 03 | 00 00 00 00 | 20 03 01 02"),
       "ERR_RTCP_TWCC"},  // 3 received, 2 delta bytes
      {"a large delta cut by the P bit",
       Hex("af cd 00 05 | 00 00 00 01 | 00 00 00 02 | 00 00 00 01 | 00 00 00 00 | 40 01 ff 01"),
       "ERR_RTCP_TWCC"},
      {"no room for the fixed fields", Hex("8f cd 00 03 | 00 00 00 01 | 00 00 00 02 | 00 00 00 01"),
       "ERR_RTCP_TRUNCATED"},
      {"generic NACK FMT", Hex("81 cd 00 03 | 00 00 00 01 | 00 00 00 02 | 00 00 00 01"),
       "ERR_RTCP_WRONG_TYPE"},
  };
  for (const Row& r : rows) {
    CAPTURE(std::string(r.name));
    CHECK(CodeOf(ParseTransportFeedback(OnePacket(r.bytes))) == r.code);
  }
  // Symbols past the count in the last chunk, including the reserved one, are ignored.
  const auto extra =
      Hex("8f cd 00 05 | 00 00 00 01 | 00 00 00 02"
          "00 00 00 01"  // base 0, count 1
          "00 00 00 00"  // reference 0, feedback count 0
          "d3 ff"        // 2-bit vector: 01, then 00 11 11 11 11 11 past the count
          "04 00");      // delta +4, padding
  const TransportFeedback fb = Ok(ParseTransportFeedback(OnePacket(extra)));
  REQUIRE(fb.packets.size() == 1);
  CHECK(fb.packets[0].arrivalUs == 1000);
}
