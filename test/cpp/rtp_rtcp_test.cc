// RTCP framing and the reports: the compound reader, SR, RR, SDES, BYE and the compound
// builder, against hand-made vectors with each field named, plus malformed-input tables.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "rtp/ntp_time.h"
#include "rtp/rtcp_bye.h"
#include "rtp/rtcp_compound.h"
#include "rtp/rtcp_nack.h"
#include "rtp/rtcp_packet.h"
#include "rtp/rtcp_psfb.h"
#include "rtp/rtcp_report.h"
#include "rtp/rtcp_sdes.h"
#include "rtp_test_util.h"

using namespace kvs;
using namespace kvs::rtp;
using kvs::rtp::testing::Cat;
using kvs::rtp::testing::CodeOf;
using kvs::rtp::testing::Hex;
using kvs::rtp::testing::Ok;
using kvs::rtp::testing::OnePacket;
using kvs::rtp::testing::ToVector;
using kvs::rtp::testing::Written;

namespace {

std::vector<uint8_t> SrVector() {
  return Hex(
      "81 c8 00 0c"    // V=2 P=0 RC=1, PT=200 (SR), length 12: 13 words
      "00 00 00 01"    // SSRC of sender
      "e1 2c 5a 00"    // NTP timestamp, seconds
      "80 00 00 00"    // NTP timestamp, fraction: 0.5 s
      "00 01 e2 40"    // RTP timestamp 123456
      "00 00 00 64"    // sender's packet count 100
      "00 00 27 10"    // sender's octet count 10000
      "00 00 00 02"    // report block: SSRC_1
      "19"             //   fraction lost 25/256
      "ff ff fe"       //   cumulative lost -2 (signed 24-bit)
      "00 01 00 05"    //   extended highest sequence: 1 cycle, seq 5
      "00 00 00 20"    //   interarrival jitter 32
      "5a 00 80 00"    //   LSR: the middle 32 bits of an NTP time
      "00 01 80 00");  //   DLSR: 1.5 s in 1/65536 s
}

std::vector<uint8_t> RrEmptyVector() {
  return Hex(
      "80 c9 00 01"    // V=2 RC=0, PT=201 (RR), length 1
      "00 00 00 05");  // SSRC of packet sender
}

std::vector<uint8_t> SdesCnameVector() {
  return Hex(
      "81 ca 00 03"           // V=2 SC=1, PT=202 (SDES), length 3
      "00 00 00 05"           // chunk 1: SSRC
      "01 05 61 62 63 64 65"  // CNAME, 5 bytes: "abcde"
      "00");                  // END; the chunk is now 12 bytes, a 32-bit boundary
}

}  // namespace

TEST_CASE("Rtp RTCP framing: IsRtcp tells RTCP from RTP by the packet type (RFC 5761)") {
  CHECK(IsRtcp(SrVector()));
  CHECK(IsRtcp(RrEmptyVector()));
  CHECK(IsRtcp(Hex("8f cd 00 00")));                                    // RTPFB
  CHECK_FALSE(IsRtcp(Hex("80 60 00 01 | 00 00 00 00 | 00 00 00 01")));  // RTP PT 96
  CHECK_FALSE(IsRtcp(Hex("80 e0 00 01 | 00 00 00 00 | 00 00 00 01")));  // RTP PT 96, marker
  CHECK_FALSE(IsRtcp(Hex("80 bf 00 01")));                              // 191
  CHECK_FALSE(IsRtcp(Hex("80 e0 00 01")));                              // 224
  CHECK_FALSE(IsRtcp(Hex("40 c8 00 01")));                              // version 1
  CHECK_FALSE(IsRtcp(Hex("80 c8 00")));
}

TEST_CASE("Rtp RTCP reader walks a compound packet and yields each packet's view") {
  const auto bytes = Cat({SrVector(), SdesCnameVector(),
                          Hex("a0 cb 00 01"      // V=2 P=1 SC=0, BYE, length 1
                              "00 00 00 04")});  // 4 bytes of padding: the whole body
  RtcpReader reader(bytes);
  RtcpPacketView p;
  REQUIRE(reader.Next(&p));
  CHECK(p.type == kRtcpSr);
  CHECK(p.count == 1);
  CHECK_FALSE(p.padding);
  CHECK(p.packet.size == 52);
  CHECK(p.body.size == 48);
  CHECK(p.packet.data == bytes.data());
  REQUIRE(reader.Next(&p));
  CHECK(p.type == kRtcpSdes);
  CHECK(p.packet.data == bytes.data() + 52);
  REQUIRE(reader.Next(&p));
  CHECK(p.type == kRtcpBye);
  CHECK(p.padding);
  CHECK(p.count == 0);
  CHECK(p.body.size == 0);
  CHECK(p.packet.size == 8);
  CHECK_FALSE(reader.Next(&p));
  CHECK(reader.status().ok());
  CHECK_FALSE(reader.Next(&p));  // stays at the end
}

TEST_CASE("Rtp RTCP reader stops at the first bad packet and keeps what came before") {
  struct Row {
    const char* name;
    std::vector<uint8_t> tail;
    const char* code;
  };
  const std::vector<Row> rows = {
      {"2 stray bytes", Hex("81 c9"), "ERR_RTCP_TRUNCATED"},
      {"version 1", Hex("41 c9 00 01 | 00 00 00 01"), "ERR_RTCP_VERSION"},
      {"version 0", Hex("01 c9 00 01 | 00 00 00 01"), "ERR_RTCP_VERSION"},
      {"length one word past the end", Hex("81 c9 00 02 | 00 00 00 01"), "ERR_RTCP_LENGTH"},
      {"length 0xFFFF", Hex("81 c9 ff ff | 00 00 00 01"), "ERR_RTCP_LENGTH"},
      {"pad count 0", Hex("a0 c9 00 01 | 00 00 00 00"), "ERR_RTCP_PADDING"},
      {"pad count larger than the body", Hex("a0 c9 00 01 | 00 00 00 05"), "ERR_RTCP_PADDING"},
      {"pad bit on a header-only packet", Hex("a0 c9 00 00"), "ERR_RTCP_PADDING"},
  };
  for (const Row& r : rows) {
    CAPTURE(std::string(r.name));
    const auto bytes = Cat({RrEmptyVector(), r.tail});
    RtcpReader reader(bytes);
    RtcpPacketView p;
    REQUIRE(reader.Next(&p));
    CHECK(p.type == kRtcpRr);
    CHECK_FALSE(reader.Next(&p));
    CHECK(CodeOf(reader.status()) == r.code);
    CHECK(CodeOf(ParseRtcpPacket(r.tail)) == r.code);
  }
  // Nothing is yielded after an error, not even a valid packet behind it.
  const auto bytes = Cat({RrEmptyVector(), Hex("41 c9 00 01 | 00 00 00 01"), RrEmptyVector()});
  RtcpReader reader(bytes);
  RtcpPacketView p;
  CHECK(reader.Next(&p));
  CHECK_FALSE(reader.Next(&p));
  CHECK_FALSE(reader.Next(&p));
  CHECK(CodeOf(reader.status()) == "ERR_RTCP_VERSION");
  CHECK(CodeOf(ParseRtcpPacket(ByteSpan())) == "ERR_RTCP_TRUNCATED");
}

TEST_CASE("Rtp RTCP length 0: a valid 4-byte packet that the typed parsers reject") {
  // RFC 3550 §6.4.1: the length is words minus one, so that 0 is valid and a scan always
  // advances. An SR or RR needs more than a header, a BYE with SC=0 does not.
  const auto rr = Hex("80 c9 00 00");  // RR, length 0
  const RtcpPacketView p = OnePacket(rr);
  CHECK(p.packet.size == 4);
  CHECK(p.body.size == 0);
  CHECK(CodeOf(ParseReceiverReport(p)) == "ERR_RTCP_TRUNCATED");
  CHECK(CodeOf(ParseSenderReport(OnePacket(Hex("80 c8 00 00")))) == "ERR_RTCP_TRUNCATED");
  CHECK(CodeOf(ParseNack(OnePacket(Hex("81 cd 00 00")))) == "ERR_RTCP_TRUNCATED");
  CHECK(CodeOf(ParsePli(OnePacket(Hex("81 ce 00 00")))) == "ERR_RTCP_TRUNCATED");
  CHECK(CodeOf(ParseSdes(OnePacket(Hex("81 ca 00 00")))) == "ERR_RTCP_MALFORMED");
  CHECK(Ok(ParseSdes(OnePacket(Hex("80 ca 00 00")))).chunks.empty());  // SC=0: useless, valid
  CHECK(Ok(ParseBye(OnePacket(Hex("80 cb 00 00")))).ssrcs.empty());
  // A run of them walks in 4-byte steps: no loop on zero lengths.
  const auto run = Cat({rr, rr, rr});
  RtcpReader reader(run);
  RtcpPacketView q;
  int n = 0;
  while (reader.Next(&q)) ++n;
  CHECK(n == 3);
  CHECK(reader.status().ok());
}

TEST_CASE("Rtp SR: parse the hand-made vector, write it back byte for byte") {
  const auto bytes = SrVector();
  const SenderReport sr = Ok(ParseSenderReport(OnePacket(bytes)));
  CHECK(sr.ssrc == 1);
  CHECK(sr.info.ntpTimestamp == 0xE12C5A0080000000ull);
  CHECK(sr.info.rtpTimestamp == 123456);
  CHECK(sr.info.packetCount == 100);
  CHECK(sr.info.octetCount == 10000);
  REQUIRE(sr.reportBlocks.size() == 1);
  const ReportBlock& b = sr.reportBlocks[0];
  CHECK(b.ssrc == 2);
  CHECK(b.fractionLost == 25);
  CHECK(b.cumulativeLost == -2);
  CHECK(b.extendedHighestSeq == 0x00010005);
  CHECK(b.jitter == 32);
  CHECK(b.lastSr == CompactNtp(sr.info.ntpTimestamp));
  CHECK(b.delaySinceLastSr == 0x18000);
  CHECK(CompactNtpToMicros(b.delaySinceLastSr) == 1'500'000);
  CHECK(Written(sr) == bytes);
}

TEST_CASE("Rtp RR: empty and with 31 blocks; cumulative lost is signed 24-bit") {
  const auto empty = RrEmptyVector();
  const ReceiverReport rr = Ok(ParseReceiverReport(OnePacket(empty)));
  CHECK(rr.ssrc == 5);
  CHECK(rr.reportBlocks.empty());
  CHECK(Written(rr) == empty);

  ReceiverReport full;
  full.ssrc = 0xCAFEBABE;
  for (uint32_t i = 0; i < 31; ++i) {
    ReportBlock b;
    b.ssrc = i;
    b.fractionLost = static_cast<uint8_t>(i * 8);
    b.cumulativeLost = static_cast<int32_t>(i) * 100'000 - 1'500'000;  // both signs
    b.extendedHighestSeq = 0xFFFF0000u + i;
    b.jitter = i * 3;
    b.lastSr = 0x12345678u + i;
    b.delaySinceLastSr = i << 16;
    full.reportBlocks.push_back(b);
  }
  const auto bytes = Written(full);
  CHECK(bytes.size() == 8 + 31 * 24);
  CHECK(bytes[0] == (0x80 | 31));
  CHECK(Ok(ParseReceiverReport(OnePacket(bytes))) == full);

  // The extremes of the 24-bit field, and clamping beyond them.
  struct Row {
    int32_t in;
    int32_t out;
    const char* wire;
  };
  const Row rows[] = {
      {0, 0, "00 00 00"},
      {-1, -1, "ff ff ff"},
      {0x7FFFFF, 0x7FFFFF, "7f ff ff"},
      {-0x800000, -0x800000, "80 00 00"},
      {0x1000000, 0x7FFFFF, "7f ff ff"},    // clamped high
      {-0x1000000, -0x800000, "80 00 00"},  // clamped low
  };
  for (const Row& r : rows) {
    CAPTURE(r.in);
    ReceiverReport one;
    ReportBlock b;
    b.cumulativeLost = r.in;
    one.reportBlocks.push_back(b);
    const auto w = Written(one);
    CHECK(std::vector<uint8_t>(w.begin() + 13, w.begin() + 16) == Hex(r.wire));
    CHECK(Ok(ParseReceiverReport(OnePacket(w))).reportBlocks[0].cumulativeLost == r.out);
  }
}

TEST_CASE("Rtp SR/RR: malformed bodies and limits") {
  // RC=2 with one block.
  auto sr = SrVector();
  sr[0] = 0x82;
  CHECK(CodeOf(ParseSenderReport(OnePacket(sr))) == "ERR_RTCP_TRUNCATED");
  // SR without its full sender info.
  CHECK(CodeOf(ParseSenderReport(OnePacket(Hex("80 c8 00 02 | 00 00 00 01 | e1 2c 5a 00")))) ==
        "ERR_RTCP_TRUNCATED");
  // The wrong parser.
  CHECK(CodeOf(ParseSenderReport(OnePacket(RrEmptyVector()))) == "ERR_RTCP_WRONG_TYPE");
  CHECK(CodeOf(ParseReceiverReport(OnePacket(SrVector()))) == "ERR_RTCP_WRONG_TYPE");
  // A profile-specific extension after the blocks is skipped.
  const auto withExtension = Hex("80 c9 00 02 | 00 00 00 05 | de ad be ef");
  CHECK(Ok(ParseReceiverReport(OnePacket(withExtension))).ssrc == 5);
  // 32 blocks do not fit the count field.
  ReceiverReport rr;
  rr.reportBlocks.resize(32);
  std::vector<uint8_t> out;
  ByteWriter w(out);
  CHECK(CodeOf(WriteRtcp(rr, w)) == "ERR_RTCP_INVALID_ARGUMENT");
  CHECK(out.empty());
  SenderReport big;
  big.reportBlocks.resize(32);
  CHECK(CodeOf(WriteRtcp(big, w)) == "ERR_RTCP_INVALID_ARGUMENT");
  CHECK(out.empty());
}

TEST_CASE("Rtp SDES: CNAME chunks padded to 32 bits with one to four zero octets") {
  const auto bytes = SdesCnameVector();
  const Sdes sdes = Ok(ParseSdes(OnePacket(bytes)));
  REQUIRE(sdes.chunks.size() == 1);
  CHECK(sdes.chunks[0].ssrc == 5);
  REQUIRE(sdes.chunks[0].cname() != nullptr);
  CHECK(*sdes.chunks[0].cname() == "abcde");
  CHECK(Written(sdes) == bytes);
  CHECK(Written(Sdes::Cname(5, "abcde")) == bytes);

  // Items ending exactly on a boundary still need an END octet: four zero octets then.
  CHECK(Written(Sdes::Cname(7, "abcdef")) == Hex("81 ca 00 04"              // SC=1, length 4
                                                 "00 00 00 07"              // SSRC
                                                 "01 06 61 62 63 64 65 66"  // CNAME "abcdef"
                                                 "00 00 00 00"));           // END + 3 to align
  CHECK(Written(Sdes::Cname(7, "abcd")) == Hex("81 ca 00 03"                // SC=1, length 3
                                               "00 00 00 07"                // SSRC
                                               "01 04 61 62 63 64"          // CNAME "abcd"
                                               "00 00"));                   // END + 1 to align

  // Two chunks, the first with two items, and an empty-valued item.
  Sdes two;
  two.chunks.push_back(SdesChunk{1, {SdesItem{kSdesCname, "x"}, SdesItem{kSdesTool, "kvs"}}});
  two.chunks.push_back(SdesChunk{2, {SdesItem{kSdesNote, ""}, SdesItem{kSdesCname, "y"}}});
  const auto twoBytes = Written(two);
  CHECK(twoBytes == Hex("82 ca 00 07"     // SC=2, length 7: 32 bytes
                        "00 00 00 01"     // chunk 1: SSRC 1
                        "01 01 78"        //   CNAME "x"
                        "06 03 6b 76 73"  //   TOOL "kvs"
                        "00 00 00 00"     //   END + 3: 16 bytes
                        "00 00 00 02"     // chunk 2: SSRC 2
                        "07 00"           //   NOTE ""
                        "01 01 79"        //   CNAME "y"
                        "00 00 00"));     //   END + 2: 12 bytes
  const Sdes back = Ok(ParseSdes(OnePacket(twoBytes)));
  CHECK(back == two);
  CHECK(*back.chunks[1].cname() == "y");
}

TEST_CASE("Rtp SDES: malformed chunks") {
  struct Row {
    const char* name;
    std::vector<uint8_t> bytes;
    const char* code;
  };
  const std::vector<Row> rows = {
      {"no END octet", Hex("81 ca 00 02 | 00 00 00 05 | 01 02 61 62"), "ERR_RTCP_MALFORMED"},
      {"item past the end", Hex("81 ca 00 02 | 00 00 00 05 | 01 09 61 62"), "ERR_RTCP_MALFORMED"},
      {"SC=2 with one chunk", Hex("82 ca 00 02 | 00 00 00 05 | 01 01 61 00"), "ERR_RTCP_MALFORMED"},
      {"chunk without its SSRC",
       Hex("81 ca 00 01 | 00 00 00"
           "00"),  // 4 bytes: an SSRC then no END
       "ERR_RTCP_MALFORMED"},
      {"not SDES", RrEmptyVector(), "ERR_RTCP_WRONG_TYPE"},
  };
  for (const Row& r : rows) {
    CAPTURE(std::string(r.name));
    CHECK(CodeOf(ParseSdes(OnePacket(r.bytes))) == r.code);
  }
  Sdes bad;
  bad.chunks.push_back(SdesChunk{1, {SdesItem{kSdesCname, std::string(256, 'c')}}});
  std::vector<uint8_t> out;
  ByteWriter w(out);
  CHECK(CodeOf(WriteRtcp(bad, w)) == "ERR_RTCP_INVALID_ARGUMENT");
  bad.chunks[0].items[0] = SdesItem{kSdesEnd, "x"};
  CHECK(CodeOf(WriteRtcp(bad, w)) == "ERR_RTCP_INVALID_ARGUMENT");
  CHECK(out.empty());
}

TEST_CASE("Rtp BYE: SSRCs and an optional reason, zero padded") {
  const auto withReason =
      Hex("81 cb 00 03"     // V=2 SC=1, PT=203 (BYE), length 3
          "00 00 00 07"     // SSRC
          "04 62 79 65 21"  // reason, 4 bytes: "bye!"
          "00 00 00");      // zero padding to 32 bits
  const Bye bye = Ok(ParseBye(OnePacket(withReason)));
  CHECK(bye.ssrcs == std::vector<uint32_t>{7});
  REQUIRE(bye.reason.has_value());
  CHECK(*bye.reason == "bye!");
  CHECK(Written(bye) == withReason);

  const auto noReason =
      Hex("82 cb 00 02"    // SC=2, length 2
          "00 00 00 07"    // SSRC
          "00 00 00 08");  // CSRC
  const Bye two = Ok(ParseBye(OnePacket(noReason)));
  CHECK(two.ssrcs == std::vector<uint32_t>{7, 8});
  CHECK_FALSE(two.reason.has_value());
  CHECK(Written(two) == noReason);

  // An empty reason is kept apart from none.
  Bye empty{{9}, std::string()};
  const auto emptyBytes = Written(empty);
  CHECK(emptyBytes == Hex("81 cb 00 02 | 00 00 00 09 | 00 00 00 00"));
  CHECK(Ok(ParseBye(OnePacket(emptyBytes))) == empty);

  CHECK(CodeOf(ParseBye(OnePacket(Hex("82 cb 00 01 | 00 00 00 07")))) == "ERR_RTCP_TRUNCATED");
  CHECK(CodeOf(ParseBye(OnePacket(Hex("81 cb 00 02 | 00 00 00 07 | 09 61 62 63")))) ==
        "ERR_RTCP_TRUNCATED");
  std::vector<uint8_t> out;
  ByteWriter w(out);
  CHECK(CodeOf(WriteRtcp(Bye{std::vector<uint32_t>(32, 1), std::nullopt}, w)) ==
        "ERR_RTCP_INVALID_ARGUMENT");
  CHECK(CodeOf(WriteRtcp(Bye{{1}, std::string(256, 'r')}, w)) == "ERR_RTCP_INVALID_ARGUMENT");
  CHECK(out.empty());
}

TEST_CASE("Rtp RTCP compound builder: RR + SDES, reduced size, and the RFC 3550 rules") {
  ReceiverReport rr;
  rr.ssrc = 5;
  SUBCASE("RR then SDES CNAME makes the vectors back to back") {
    RtcpCompoundBuilder b(RtcpMode::kCompound);
    REQUIRE(b.Add(rr).ok());
    REQUIRE(b.Add(Sdes::Cname(5, "abcde")).ok());
    CHECK(b.size() == 24);
    const auto bytes = Ok(b.Finish());
    CHECK(bytes == Cat({RrEmptyVector(), SdesCnameVector()}));
    CHECK(b.empty());
    CHECK(ValidateRtcpCompound(bytes, RtcpMode::kCompound).ok());
  }
  SUBCASE("a NACK in a full compound after RR and SDES") {
    RtcpCompoundBuilder b;
    REQUIRE(b.Add(rr).ok());
    REQUIRE(b.Add(Sdes::Cname(5, "abcde")).ok());
    REQUIRE(b.Add(Nack{5, 6, {NackItem{100, 0}}}).ok());
    const auto bytes = Ok(b.Finish());
    RtcpReader reader(bytes);
    RtcpPacketView p;
    std::vector<uint8_t> types;
    while (reader.Next(&p)) types.push_back(p.type);
    CHECK(types == std::vector<uint8_t>{kRtcpRr, kRtcpSdes, kRtcpRtpfb});
  }
  SUBCASE("feedback alone: refused as a compound, accepted reduced-size (RFC 5506)") {
    RtcpCompoundBuilder full(RtcpMode::kCompound);
    REQUIRE(full.Add(Pli{5, 6}).ok());
    CHECK(CodeOf(full.Finish()) == "ERR_RTCP_COMPOUND");
    RtcpCompoundBuilder reduced(RtcpMode::kReducedSize);
    REQUIRE(reduced.Add(Pli{5, 6}).ok());
    const auto bytes = Ok(reduced.Finish());
    CHECK(bytes == Hex("81 ce 00 02 | 00 00 00 05 | 00 00 00 06"));
  }
  SUBCASE("an SR without SDES CNAME is not a full compound") {
    RtcpCompoundBuilder b;
    REQUIRE(b.Add(SenderReport{}).ok());
    REQUIRE(b.Add(Sdes{{SdesChunk{5, {SdesItem{kSdesTool, "x"}}}}}).ok());
    CHECK(CodeOf(b.Finish()) == "ERR_RTCP_COMPOUND");
  }
  SUBCASE("SDES before the RR is not a full compound") {
    RtcpCompoundBuilder b;
    REQUIRE(b.Add(Sdes::Cname(5, "abcde")).ok());
    REQUIRE(b.Add(rr).ok());
    CHECK(CodeOf(b.Finish()) == "ERR_RTCP_COMPOUND");
  }
  SUBCASE("a failed Add leaves nothing behind") {
    RtcpCompoundBuilder b;
    REQUIRE(b.Add(rr).ok());
    ReceiverReport tooMany;
    tooMany.reportBlocks.resize(32);
    CHECK(CodeOf(b.Add(tooMany)) == "ERR_RTCP_INVALID_ARGUMENT");
    CHECK(b.size() == 8);
    CHECK(CodeOf(b.Add(Nack{})) == "ERR_RTCP_INVALID_ARGUMENT");  // no items
    CHECK(b.size() == 8);
  }
  SUBCASE("AddRaw takes exactly one well-framed packet") {
    RtcpCompoundBuilder b(RtcpMode::kReducedSize);
    const auto app = Hex("80 cc 00 02 | 00 00 00 05 | 6e 61 6d 65");  // APP "name"
    REQUIRE(b.AddRaw(app).ok());
    CHECK(CodeOf(b.AddRaw(Cat({app, app}))) == "ERR_RTCP_INVALID_ARGUMENT");
    CHECK(CodeOf(b.AddRaw(Hex("80 cc 00 05"))) == "ERR_RTCP_LENGTH");
    CHECK(Ok(b.Finish()) == app);
  }
  SUBCASE("an empty builder finishes with an error") {
    RtcpCompoundBuilder b(RtcpMode::kReducedSize);
    CHECK(CodeOf(b.Finish()) == "ERR_RTCP_TRUNCATED");
  }
  SUBCASE("validation of received bytes reports framing errors") {
    const auto bad = Cat({RrEmptyVector(), Hex("81 ca 00 09")});
    CHECK(CodeOf(ValidateRtcpCompound(bad, RtcpMode::kReducedSize)) == "ERR_RTCP_LENGTH");
  }
}
