// RTCP feedback: generic NACK (RFC 4585), PLI, FIR (RFC 5104) and REMB, against hand-made
// vectors with each field named, round trips, and malformed FCIs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "rtp/rtcp_nack.h"
#include "rtp/rtcp_packet.h"
#include "rtp/rtcp_psfb.h"
#include "rtp/rtcp_remb.h"
#include "rtp/unwrap.h"
#include "rtp_test_util.h"

using namespace kvs;
using namespace kvs::rtp;
using kvs::rtp::testing::CodeOf;
using kvs::rtp::testing::Hex;
using kvs::rtp::testing::Ok;
using kvs::rtp::testing::OnePacket;
using kvs::rtp::testing::Written;

TEST_CASE("Rtp NACK: the hand-made vector across the wrap") {
  const auto bytes =
      Hex("81 cd 00 03"  // V=2 FMT=1, PT=205 (RTPFB), length 3
          "00 00 00 01"  // SSRC of packet sender
          "00 00 00 02"  // SSRC of media source
          "ff fe"        // PID 65534
          "00 05");      // BLP bits 0 and 2: 65535 and 1 (65534 + 3, wrapped)
  const Nack nack = Ok(ParseNack(OnePacket(bytes)));
  CHECK(nack.senderSsrc == 1);
  CHECK(nack.mediaSsrc == 2);
  REQUIRE(nack.items.size() == 1);
  CHECK(nack.items[0] == NackItem{65534, 0x0005});
  CHECK(UnpackNack(nack.items) == std::vector<uint16_t>{65534, 65535, 1});
  const std::vector<uint16_t> lost{1, 65534, 65535};  // any order
  CHECK(PackNack(lost) == nack.items);
  CHECK(Written(Nack{1, 2, PackNack(lost)}) == bytes);
}

TEST_CASE("Rtp NACK: packing table") {
  struct Row {
    const char* name;
    std::vector<uint16_t> seqs;
    std::vector<NackItem> items;
  };
  const std::vector<Row> rows = {
      {"none", {}, {}},
      {"one", {100}, {{100, 0}}},
      {"PID + 16 fits one item", {100, 116}, {{100, 0x8000}}},
      {"PID + 17 needs a second", {100, 117}, {{100, 0}, {117, 0}}},
      {"17 in a row", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, {{0, 0xFFFF}}},
      {"repeats collapse", {7, 7, 8, 7}, {{7, 0x0001}}},
      {"reverse order", {12, 11, 10}, {{10, 0x0003}}},
      {"across the wrap, shuffled", {65534, 1, 65535, 0}, {{65534, 0x0007}}},
      {"16 apart across the wrap: one item", {65530, 10}, {{65530, 0x8000}}},
      {"17 apart across the wrap: two", {65530, 11}, {{65530, 0}, {11, 0}}},
      {"65535 alone then 15 after the wrap", {65535, 15}, {{65535, 0x8000}}},
  };
  for (const Row& r : rows) {
    CAPTURE(std::string(r.name));
    CHECK(PackNack(r.seqs) == r.items);
  }
  // A list that walks all the way round: 0 comes back one cycle up, and is still named once.
  const std::vector<uint16_t> round{0, 20000, 40000, 60000, 14464, 34464, 54464, 0, 1};
  const auto back = UnpackNack(PackNack(round));
  CHECK(std::set<uint16_t>(back.begin(), back.end()) ==
        std::set<uint16_t>(round.begin(), round.end()));
  CHECK(back.size() == 8);
}

TEST_CASE("Rtp NACK: pack then unpack gives back every number once, for random lists") {
  std::mt19937 engine(1234);
  auto rng = [&] { return static_cast<uint32_t>(engine()); };
  for (int round = 0; round < 300; ++round) {
    // A window of up to 3000 sequence numbers that may straddle the wrap, with random losses.
    const auto start = static_cast<uint16_t>(rng());
    const size_t span = 1 + rng() % 3000;
    std::vector<uint16_t> lost;
    for (size_t i = 0; i < span; ++i) {
      if (rng() % 4 == 0) lost.push_back(static_cast<uint16_t>(start + i));
    }
    std::shuffle(lost.begin(), lost.end(), engine);
    if (!lost.empty()) lost.push_back(lost.front());  // a repeat
    const auto items = PackNack(lost);
    const auto back = UnpackNack(items);
    const std::set<uint16_t> want(lost.begin(), lost.end());
    const std::set<uint16_t> got(back.begin(), back.end());
    CHECK(got == want);
    CHECK(back.size() == got.size());  // no number twice
    // In wrap-aware order, and with no item that a neighbour could have absorbed.
    for (size_t i = 1; i < back.size(); ++i) CHECK(SeqNewer(back[i], back[i - 1]));
    for (size_t i = 1; i < items.size(); ++i) CHECK(SeqDelta(items[i].pid, items[i - 1].pid) > 16);
    // Round trip through the wire.
    const Nack nack{3, 4, items};
    if (!items.empty()) CHECK(Ok(ParseNack(OnePacket(Written(nack)))) == nack);
  }
}

TEST_CASE("Rtp NACK: malformed and wrong packets") {
  struct Row {
    const char* name;
    std::vector<uint8_t> bytes;
    const char* code;
  };
  const std::vector<Row> rows = {
      {"no FCI", Hex("81 cd 00 02 | 00 00 00 01 | 00 00 00 02"), "ERR_RTCP_MALFORMED"},
      {"half an item (P bit trims it)",
       Hex("a1 cd 00 03 | 00 00 00 01 | 00 00 00 02 | ff fe 00 02"), "ERR_RTCP_MALFORMED"},
      {"one SSRC only", Hex("81 cd 00 01 | 00 00 00 01"), "ERR_RTCP_TRUNCATED"},
      {"TWCC FMT", Hex("8f cd 00 03 | 00 00 00 01 | 00 00 00 02 | ff fe 00 05"),
       "ERR_RTCP_WRONG_TYPE"},
      {"PSFB", Hex("81 ce 00 03 | 00 00 00 01 | 00 00 00 02 | ff fe 00 05"), "ERR_RTCP_WRONG_TYPE"},
  };
  for (const Row& r : rows) {
    CAPTURE(std::string(r.name));
    CHECK(CodeOf(ParseNack(OnePacket(r.bytes))) == r.code);
  }
  std::vector<uint8_t> out;
  ByteWriter w(out);
  CHECK(CodeOf(WriteRtcp(Nack{1, 2, {}}, w)) == "ERR_RTCP_INVALID_ARGUMENT");
  CHECK(CodeOf(WriteRtcp(Nack{1, 2, std::vector<NackItem>(65534)}, w)) ==
        "ERR_RTCP_INVALID_ARGUMENT");
  CHECK(out.empty());
  CHECK(Written(Nack{1, 2, std::vector<NackItem>(65533)}).size() == 4 * 65536);  // the limit
}

TEST_CASE("Rtp PLI: the hand-made vector") {
  const auto bytes =
      Hex("81 ce 00 02"    // V=2 FMT=1, PT=206 (PSFB), length 2
          "00 00 00 01"    // SSRC of packet sender
          "00 00 00 02");  // SSRC of media source
  const Pli pli = Ok(ParsePli(OnePacket(bytes)));
  CHECK(pli == Pli{1, 2});
  CHECK(Written(pli) == bytes);
  CHECK(CodeOf(ParsePli(OnePacket(Hex("84 ce 00 02 | 00 00 00 01 | 00 00 00 02")))) ==
        "ERR_RTCP_WRONG_TYPE");
  CHECK(CodeOf(ParsePli(OnePacket(Hex("81 ce 00 01 | 00 00 00 01")))) == "ERR_RTCP_TRUNCATED");
}

TEST_CASE("Rtp FIR: the hand-made vector, several entries, malformed FCIs") {
  const auto bytes =
      Hex("84 ce 00 04"    // V=2 FMT=4, PT=206 (PSFB), length 4
          "00 00 00 01"    // SSRC of packet sender
          "00 00 00 00"    // SSRC of media source: unused, 0
          "00 00 00 02"    // FCI entry: SSRC
          "07 00 00 00");  //   command sequence number 7, reserved
  const Fir fir = Ok(ParseFir(OnePacket(bytes)));
  CHECK(fir.senderSsrc == 1);
  REQUIRE(fir.entries.size() == 1);
  CHECK(fir.entries[0] == FirEntry{2, 7});
  CHECK(Written(fir) == bytes);

  const Fir two{9, {FirEntry{2, 255}, FirEntry{3, 0}}};
  CHECK(Ok(ParseFir(OnePacket(Written(two)))) == two);

  CHECK(CodeOf(ParseFir(OnePacket(Hex("84 ce 00 02 | 00 00 00 01 | 00 00 00 00")))) ==
        "ERR_RTCP_MALFORMED");
  CHECK(CodeOf(ParseFir(OnePacket(Hex("84 ce 00 03 | 00 00 00 01 | 00 00 00 00 | 00 00 00 02")))) ==
        "ERR_RTCP_MALFORMED");
  std::vector<uint8_t> out;
  ByteWriter w(out);
  CHECK(CodeOf(WriteRtcp(Fir{1, {}}, w)) == "ERR_RTCP_INVALID_ARGUMENT");
  CHECK(out.empty());
}

TEST_CASE("Rtp REMB: the hand-made vector and the exponent/mantissa encoding") {
  const auto bytes =
      Hex("8f ce 00 05"    // V=2 FMT=15 (AFB), PT=206 (PSFB), length 5
          "00 00 00 01"    // SSRC of packet sender
          "00 00 00 00"    // SSRC of media source: 0
          "52 45 4d 42"    // unique identifier "REMB"
          "01"             // Num SSRC 1
          "0b d0 90"       // BR Exp 2 (6 bits), BR Mantissa 250000 (18 bits): 1,000,000 bps
          "00 00 00 02");  // SSRC feedback
  const RtcpPacketView view = OnePacket(bytes);
  CHECK(IsRemb(view));
  const Remb remb = Ok(ParseRemb(view));
  CHECK(remb.senderSsrc == 1);
  CHECK(remb.bitrateBps == 1'000'000);
  CHECK(remb.ssrcs == std::vector<uint32_t>{2});
  CHECK(Written(remb) == bytes);

  struct Row {
    uint64_t bps;
    uint8_t exponent;
    uint32_t mantissa;
  };
  const Row rows[] = {
      {0, 0, 0},
      {262143, 0, 262143},  // the largest 18-bit mantissa
      {262144, 1, 131072},  // one more needs an exponent
      {1'000'000, 2, 250000},
      {1'000'001, 2, 250000},           // rounds down: the low bits are lost
      {30'000'000'000ull, 17, 228881},  // 30 Gbit/s
      {~0ull, 46, 262143},              // the largest 64-bit value
  };
  for (const Row& r : rows) {
    CAPTURE(r.bps);
    const RembBitrate b = EncodeRembBitrate(r.bps);
    CHECK(int{b.exponent} == int{r.exponent});
    CHECK(b.mantissa == r.mantissa);
    const Remb back = Ok(ParseRemb(OnePacket(Written(Remb{1, r.bps, {}}))));
    CHECK(back.bitrateBps == uint64_t{r.mantissa} << r.exponent);
  }
  // No SSRCs, and many.
  std::vector<uint32_t> many(255);
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<uint32_t>(i * 7);
  const Remb big{5, 123456789, many};
  const Remb bigBack = Ok(ParseRemb(OnePacket(Written(big))));
  CHECK(bigBack.ssrcs == many);
}

TEST_CASE("Rtp REMB: other AFB messages and malformed REMBs") {
  struct Row {
    const char* name;
    std::vector<uint8_t> bytes;
    const char* code;
  };
  const std::vector<Row> rows = {
      {"another AFB identifier",
       Hex("8f ce 00 05 | 00 00 00 01 | 00 00 00 00 | 52 45 4d 43 | 01 0b d0 90 | 00 00 00 02"),
       "ERR_RTCP_REMB"},
      {"Num SSRC 2 with one SSRC",
       Hex("8f ce 00 05 | 00 00 00 01 | 00 00 00 00 | 52 45 4d 42 | 02 0b d0 90 | 00 00 00 02"),
       "ERR_RTCP_REMB"},
      {"Num SSRC 0 with one SSRC",
       Hex("8f ce 00 05 | 00 00 00 01 | 00 00 00 00 | 52 45 4d 42 | 00 0b d0 90 | 00 00 00 02"),
       "ERR_RTCP_REMB"},
      {"FCI cut after the identifier", Hex("8f ce 00 03 | 00 00 00 01 | 00 00 00 00 | 52 45 4d 42"),
       "ERR_RTCP_REMB"},
      {"exponent 63 with a large mantissa overflows",
       Hex("8f ce 00 04 | 00 00 00 01 | 00 00 00 00 | 52 45 4d 42 | 00 ff ff ff"), "ERR_RTCP_REMB"},
      {"PLI FMT", Hex("81 ce 00 02 | 00 00 00 01 | 00 00 00 00"), "ERR_RTCP_WRONG_TYPE"},
      {"no feedback header", Hex("8f ce 00 01 | 00 00 00 01"), "ERR_RTCP_TRUNCATED"},
  };
  for (const Row& r : rows) {
    CAPTURE(std::string(r.name));
    CHECK(CodeOf(ParseRemb(OnePacket(r.bytes))) == r.code);
  }
  CHECK_FALSE(IsRemb(OnePacket(rows[0].bytes)));
  CHECK_FALSE(IsRemb(OnePacket(Hex("8f ce 00 02 | 00 00 00 01 | 00 00 00 00"))));
  // Exponent 63 with mantissa 1 is 2^63: fits.
  const auto top = Hex("8f ce 00 04 | 00 00 00 01 | 00 00 00 00 | 52 45 4d 42 | 00 fc 00 01");
  CHECK(Ok(ParseRemb(OnePacket(top))).bitrateBps == uint64_t{1} << 63);
  std::vector<uint8_t> out;
  ByteWriter w(out);
  CHECK(CodeOf(WriteRtcp(Remb{1, 1, std::vector<uint32_t>(256)}, w)) ==
        "ERR_RTCP_INVALID_ARGUMENT");
}
