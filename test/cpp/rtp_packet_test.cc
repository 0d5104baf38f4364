// RTP packets (RFC 3550 §5.1): hand-made vectors with each field named, the writer producing
// the same bytes, round trips, and a table of malformed datagrams with their error codes.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "rtp/rtp_extension_codecs.h"
#include "rtp/rtp_packet.h"
#include "rtp_test_util.h"

using namespace kvs;
using namespace kvs::rtp;
using kvs::rtp::testing::Cat;
using kvs::rtp::testing::CodeOf;
using kvs::rtp::testing::Hex;
using kvs::rtp::testing::Ok;
using kvs::rtp::testing::ToVector;

namespace {

// CSRCs, marker, a one-byte extension block and padding all at once.
std::vector<uint8_t> FullPacket() {
  return Hex(
      "b2"           // V=2 P=1 X=1 CC=2
      "e4"           // M=1 PT=100
      "ff ff"        // sequence number 65535
      "12 34 56 78"  // timestamp
      "00 00 00 01"  // SSRC
      "00 00 00 0a"  // CSRC 10
      "00 00 00 0b"  // CSRC 11
      "be de 00 02"  // one-byte form (0xBEDE), 2 words of elements
      "11 76 31"     //   id 1, L=1 (2 bytes): "v1"
      "31 01 02"     //   id 3, L=1 (2 bytes): 0x0102
      "00 00"        //   padding to 32 bits
      "ca fe"        // payload
      "00 00 03");   // 3 bytes of padding, the last one the count
}

}  // namespace

TEST_CASE("Rtp parse: the minimal packet") {
  const auto bytes =
      Hex("80"           // V=2 P=0 X=0 CC=0
          "60"           // M=0 PT=96
          "12 34"        // sequence number 0x1234
          "00 00 03 e8"  // timestamp 1000
          "de ad be ef"  // SSRC
          "01 02 03");   // payload
  const RtpPacketView p = Ok(ParseRtp(bytes));
  CHECK_FALSE(p.marker);
  CHECK(p.payloadType == 96);
  CHECK(p.sequenceNumber == 0x1234);
  CHECK(p.timestamp == 1000);
  CHECK(p.ssrc == 0xDEADBEEF);
  CHECK(p.csrcCount == 0);
  CHECK_FALSE(p.hasExtension);
  CHECK(p.extensions.empty());
  CHECK(p.headerSize == 12);
  CHECK(ToVector(p.payload) == Hex("01 02 03"));
  CHECK(p.paddingSize == 0);
  CHECK_FALSE(p.hasPadding());
  CHECK_FALSE(p.paddingOnly());
  CHECK(p.packet.size == bytes.size());
}

TEST_CASE("Rtp parse: CSRCs, marker, one-byte extensions and padding") {
  const auto bytes = FullPacket();
  const RtpPacketView p = Ok(ParseRtp(bytes));
  CHECK(p.marker);
  CHECK(p.payloadType == 100);
  CHECK(p.sequenceNumber == 65535);
  CHECK(p.timestamp == 0x12345678);
  CHECK(p.ssrc == 1);
  REQUIRE(p.csrcCount == 2);
  CHECK(p.csrc(0) == 10);
  CHECK(p.csrc(1) == 11);
  CHECK(p.hasExtension);
  CHECK(p.extensionProfile == 0xBEDE);
  CHECK(p.extensionBody.size == 8);
  REQUIRE(p.extensions.size() == 2);
  CHECK(p.extensions[0].id == 1);
  CHECK(ToVector(p.extensions[0].data) == Hex("76 31"));
  CHECK(p.extensions[1].id == 3);
  CHECK(Ok(ParseTransportSequenceNumber(*p.extensions.Find(3))) == 0x0102);
  CHECK(Ok(ParseSdesExtension(*p.extensions.Find(1))) == "v1");
  CHECK_FALSE(p.extensions.Find(2).has_value());
  CHECK(p.headerSize == 12 + 8 + 4 + 8);
  CHECK(ToVector(p.payload) == Hex("ca fe"));
  CHECK(p.paddingSize == 3);
  CHECK_FALSE(p.paddingOnly());
}

TEST_CASE("Rtp parse: a padding-only packet parses and says so") {
  const auto bytes =
      Hex("a0"             // V=2 P=1 X=0 CC=0
          "60"             // PT=96
          "00 05"          // sequence number 5
          "00 00 00 00"    // timestamp
          "00 00 00 01"    // SSRC
          "00 00 00 04");  // 4 bytes of padding: the whole packet after the header
  const RtpPacketView p = Ok(ParseRtp(bytes));
  CHECK(p.payload.size == 0);
  CHECK(p.paddingSize == 4);
  CHECK(p.paddingOnly());
  CHECK(p.sequenceNumber == 5);

  // With an extension, as a bandwidth probe carries its transport sequence number. Here the
  // count byte says 2 of the 3 bytes after the header are padding: one byte of payload.
  const auto probe =
      Hex("b0 60 00 06 | 00 00 00 00 | 00 00 00 01"  // V=2 P=1 X=1, seq 6
          "be de 00 01 | 31 00 07 00"                // id 3: transport seq 7, padding
          "00"                                       // payload
          "00 02");                                  // 2 bytes of padding
  const RtpPacketView q = Ok(ParseRtp(probe));
  CHECK(q.payload.size == 1);
  CHECK_FALSE(q.paddingOnly());
  const auto probe2 =
      Hex("b0 60 00 06 | 00 00 00 00 | 00 00 00 01"  // V=2 P=1 X=1, seq 6
          "be de 00 01 | 31 00 07 00"                // id 3: transport seq 7, padding
          "00 00 03");                               // 3 bytes of padding, no payload
  const RtpPacketView r = Ok(ParseRtp(probe2));
  CHECK(r.paddingOnly());
  CHECK(Ok(ParseTransportSequenceNumber(*r.extensions.Find(3))) == 7);
}

TEST_CASE("Rtp parse: a two-byte extension block with an empty element and id above 14") {
  const auto bytes =
      Hex("90 6f 00 01"     // V=2 X=1, PT=111, sequence number 1
          "00 00 00 00"     // timestamp
          "00 00 00 02"     // SSRC
          "10 00 00 02"     // two-byte form (0x1000, appbits 0), 2 words
          "01 00"           //   id 1, length 0
          "0f 03 61 62 63"  // id 15, 3 bytes: "abc" (15 is an ordinary id in this form)
          "00");            //   padding
  const RtpPacketView p = Ok(ParseRtp(bytes));
  CHECK(p.extensionProfile == 0x1000);
  REQUIRE(p.extensions.size() == 2);
  CHECK(p.extensions[0].id == 1);
  CHECK(p.extensions[0].data.size == 0);
  CHECK(p.extensions[1].id == 15);
  CHECK(ToVector(p.extensions[1].data) == Hex("61 62 63"));
  CHECK(p.payload.size == 0);
  CHECK_FALSE(p.paddingOnly());  // no P bit: an empty payload, not padding
}

TEST_CASE("Rtp parse: an extension block of another profile is kept raw, without elements") {
  const auto bytes =
      Hex("90 60 00 01 | 00 00 00 00 | 00 00 00 02"  // X=1
          "ab cd 00 01 | 11 22 33 44"                // profile 0xABCD, 1 word
          "55");                                     // payload
  const RtpPacketView p = Ok(ParseRtp(bytes));
  CHECK(p.extensionProfile == 0xABCD);
  CHECK(ToVector(p.extensionBody) == Hex("11 22 33 44"));
  CHECK(p.extensions.empty());
  CHECK(ToVector(p.payload) == Hex("55"));
}

TEST_CASE("Rtp write: the header writer produces the hand-made vector") {
  const std::array<uint32_t, 2> csrcs{10, 11};
  const std::string mid = "v1";
  const auto twcc = EncodeTransportSequenceNumber(0x0102);
  const std::array<HeaderExtension, 2> ext{{{1, SdesValue(mid)}, {3, ByteSpan(twcc.data(), 2)}}};
  RtpHeader h;
  h.marker = true;
  h.payloadType = 100;
  h.sequenceNumber = 65535;
  h.timestamp = 0x12345678;
  h.ssrc = 1;
  h.csrcs = csrcs;
  h.extensions = ext;
  h.paddingSize = 3;
  const auto payload = Hex("ca fe");
  const auto want = FullPacket();

  CHECK(Ok(RtpHeaderSize(h)) == 32);
  std::array<uint8_t, 64> buf{};
  const size_t n = Ok(WriteRtpPacket(h, payload, buf.data(), buf.size()));
  CHECK(std::vector<uint8_t>(buf.begin(), buf.begin() + n) == want);

  std::vector<uint8_t> out;
  ByteWriter w(out);
  REQUIRE(WriteRtpPacket(h, payload, w).ok());
  CHECK(out == want);

  // The header alone, then the padding helper, give the same bytes.
  std::array<uint8_t, 64> buf2{};
  const size_t hn = Ok(WriteRtpHeader(h, buf2.data(), buf2.size()));
  CHECK(hn == 32);
  buf2[hn] = 0xca;
  buf2[hn + 1] = 0xfe;
  WriteRtpPadding(3, buf2.data() + hn + 2);
  CHECK(std::vector<uint8_t>(buf2.begin(), buf2.begin() + hn + 5) == want);
}

TEST_CASE("Rtp write: the two-byte form when an element does not fit the one-byte form") {
  const std::string longMid = "a-mid-of-17-bytes";  // 17 bytes: too long for one byte's L
  REQUIRE(longMid.size() == 17);
  const std::array<HeaderExtension, 1> ext{{{4, SdesValue(longMid)}}};
  RtpHeader h;
  h.payloadType = 96;
  h.extensions = ext;
  std::vector<uint8_t> out;
  ByteWriter w(out);
  REQUIRE(WriteRtpHeader(h, w).ok());
  const auto want = Cat({Hex("90 60 00 00 | 00 00 00 00 | 00 00 00 00"  // X=1
                             "10 00 00 05"                              // two-byte, 5 words
                             "04 11"),                                  // id 4, 17 bytes
                         std::vector<uint8_t>(longMid.begin(), longMid.end()),
                         Hex("00")});  // padding to 20 bytes
  CHECK(out == want);
  const RtpPacketView p = Ok(ParseRtp(out));
  CHECK(Ok(ParseSdesExtension(*p.extensions.Find(4))) == longMid);

  // Forcing the one-byte form is refused; forcing two-byte for small elements is allowed.
  h.extensionForm = ExtensionForm::kOneByte;
  CHECK(CodeOf(RtpHeaderSize(h)) == "ERR_RTP_INVALID_ARGUMENT");
  const uint8_t one = 7;
  const std::array<HeaderExtension, 1> small{{{2, ByteSpan(&one, 1)}}};
  h.extensions = small;
  h.extensionForm = ExtensionForm::kTwoByte;
  std::vector<uint8_t> out2;
  ByteWriter w2(out2);
  REQUIRE(WriteRtpHeader(h, w2).ok());
  CHECK(out2 == Hex("90 60 00 00 | 00 00 00 00 | 00 00 00 00 | 10 00 00 01 | 02 01 07 00"));
}

TEST_CASE("Rtp write -> parse round trip keeps every field") {
  const std::array<uint32_t, 15> csrcs{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const auto ast = EncodeAbsSendTime(0xABCDEF);
  const auto twcc = EncodeTransportSequenceNumber(65535);
  const std::string rid = "hi";
  for (size_t ncsrc : {size_t{0}, size_t{1}, size_t{15}}) {
    for (uint8_t padding : {uint8_t{0}, uint8_t{1}, uint8_t{255}}) {
      for (ExtensionForm form : {ExtensionForm::kAuto, ExtensionForm::kTwoByte}) {
        CAPTURE(ncsrc);
        CAPTURE(int{padding});
        const std::array<HeaderExtension, 3> ext{
            {{2, ByteSpan(ast.data(), 3)}, {5, ByteSpan(twcc.data(), 2)}, {14, SdesValue(rid)}}};
        RtpHeader h;
        h.marker = padding == 1;
        h.payloadType = 127;
        h.sequenceNumber = 0xBEEF;
        h.timestamp = 0xFFFFFFFF;
        h.ssrc = 0x01020304;
        h.csrcs = ArrayView<uint32_t>(csrcs.data(), ncsrc);
        h.extensions = ext;
        h.extensionForm = form;
        h.paddingSize = padding;
        const auto payload = Hex("00 11 22 33 44");
        std::vector<uint8_t> buf(1500);
        const size_t n = Ok(WriteRtpPacket(h, payload, buf.data(), buf.size()));
        buf.resize(n);
        const RtpPacketView p = Ok(ParseRtp(buf));
        CHECK(p.marker == h.marker);
        CHECK(p.payloadType == 127);
        CHECK(p.sequenceNumber == 0xBEEF);
        CHECK(p.timestamp == 0xFFFFFFFF);
        CHECK(p.ssrc == 0x01020304);
        REQUIRE(p.csrcCount == ncsrc);
        for (size_t i = 0; i < ncsrc; ++i) CHECK(p.csrc(i) == csrcs[i]);
        CHECK(p.extensionProfile ==
              (form == ExtensionForm::kAuto ? kOneByteExtensionProfile : kTwoByteExtensionProfile));
        REQUIRE(p.extensions.size() == 3);
        CHECK(Ok(ParseAbsSendTime(*p.extensions.Find(2))) == 0xABCDEF);
        CHECK(Ok(ParseTransportSequenceNumber(*p.extensions.Find(5))) == 65535);
        CHECK(Ok(ParseSdesExtension(*p.extensions.Find(14))) == "hi");
        CHECK(ToVector(p.payload) == payload);
        CHECK(p.paddingSize == padding);
      }
    }
  }
}

TEST_CASE("Rtp write: invalid fields and short buffers are refused") {
  const std::array<uint32_t, 16> sixteen{};
  const uint8_t b = 0;
  const std::vector<uint8_t> big(256, 1);
  const std::array<HeaderExtension, 1> id0{{{0, ByteSpan(&b, 1)}}};
  const std::array<HeaderExtension, 2> dup{{{3, ByteSpan(&b, 1)}, {3, ByteSpan(&b, 1)}}};
  const std::array<HeaderExtension, 1> tooBig{{{3, ByteSpan(big)}}};
  struct Row {
    const char* name;
    RtpHeader h;
    const char* code;
  };
  RtpHeader base;
  std::vector<Row> rows;
  rows.push_back({"payload type 128", base, "ERR_RTP_INVALID_ARGUMENT"});
  rows.back().h.payloadType = 128;
  rows.push_back({"16 CSRCs", base, "ERR_RTP_INVALID_ARGUMENT"});
  rows.back().h.csrcs = sixteen;
  rows.push_back({"extension id 0", base, "ERR_RTP_INVALID_ARGUMENT"});
  rows.back().h.extensions = id0;
  rows.push_back({"an extension id twice", base, "ERR_RTP_INVALID_ARGUMENT"});
  rows.back().h.extensions = dup;
  rows.push_back({"256 bytes of extension", base, "ERR_RTP_INVALID_ARGUMENT"});
  rows.back().h.extensions = tooBig;
  for (const Row& r : rows) {
    CAPTURE(std::string(r.name));
    CHECK(CodeOf(RtpHeaderSize(r.h)) == r.code);
    std::array<uint8_t, 2048> buf{};
    CHECK(CodeOf(WriteRtpHeader(r.h, buf.data(), buf.size())) == r.code);
    std::vector<uint8_t> out;
    ByteWriter w(out);
    CHECK(CodeOf(WriteRtpHeader(r.h, w)) == r.code);
    CHECK(out.empty());
  }
  std::array<uint8_t, 17> small{};
  CHECK(CodeOf(WriteRtpHeader(base, small.data(), 11)) == "ERR_RTP_BUFFER_TOO_SMALL");
  CHECK(Ok(WriteRtpHeader(base, small.data(), 12)) == 12);
  const auto payload = Hex("01 02 03 04 05");
  CHECK(CodeOf(WriteRtpPacket(base, payload, small.data(), 16)) == "ERR_RTP_BUFFER_TOO_SMALL");
  CHECK(Ok(WriteRtpPacket(base, payload, small.data(), 17)) == 17);
}

TEST_CASE("Rtp parse: malformed datagrams are rejected with their codes") {
  struct Row {
    const char* name;
    std::vector<uint8_t> bytes;
    const char* code;
  };
  std::vector<uint8_t> manyElements = Hex("90 60 00 01 | 00 00 00 00 | 00 00 00 02 | be de 00 11");
  for (int i = 0; i < 34; ++i) {  // 33 elements of 2 bytes and 2 bytes of padding: 17 words
    manyElements.push_back(static_cast<uint8_t>(((i % 14) + 1) << 4));
    manyElements.push_back(0xAA);
  }
  manyElements.resize(12 + 4 + 68);
  const std::vector<Row> rows = {
      {"empty", {}, "ERR_RTP_TRUNCATED"},
      {"11 bytes", Hex("80 60 00 01 00 00 00 00 00 00 00"), "ERR_RTP_TRUNCATED"},
      {"version 0", Hex("00 60 00 01 | 00 00 00 00 | 00 00 00 01"), "ERR_RTP_VERSION"},
      {"version 1", Hex("40 60 00 01 | 00 00 00 00 | 00 00 00 01"), "ERR_RTP_VERSION"},
      {"version 3", Hex("c0 60 00 01 | 00 00 00 00 | 00 00 00 01"), "ERR_RTP_VERSION"},
      {"CSRC count 3, one CSRC present",
       Hex("83 60 00 01 | 00 00 00 00 | 00 00 00 01 | 00 00 00 0a"), "ERR_RTP_TRUNCATED"},
      {"CSRC count 15, nothing after the fixed header",
       Hex("8f 60 00 01 | 00 00 00 00 | 00 00 00 01"), "ERR_RTP_TRUNCATED"},
      {"X bit, no room for the extension header",
       Hex("90 60 00 01 | 00 00 00 00 | 00 00 00 01 | be de"), "ERR_RTP_TRUNCATED"},
      {"extension length past the end",
       Hex("90 60 00 01 | 00 00 00 00 | 00 00 00 01 | be de 00 02 | 10 aa 00 00"),
       "ERR_RTP_TRUNCATED"},
      {"extension length 0xFFFF words",
       Hex("90 60 00 01 | 00 00 00 00 | 00 00 00 01 | be de ff ff | 10 aa 00 00"),
       "ERR_RTP_TRUNCATED"},
      {"pad count 0", Hex("a0 60 00 01 | 00 00 00 00 | 00 00 00 01 | 11 22 00"), "ERR_RTP_PADDING"},
      {"pad count larger than the packet after the header",
       Hex("a0 60 00 01 | 00 00 00 00 | 00 00 00 01 | 11 04"), "ERR_RTP_PADDING"},
      {"pad count reaching into the extension block",
       Hex("b0 60 00 01 | 00 00 00 00 | 00 00 00 01 | be de 00 01 | 10 aa 00 00 | 02"),
       "ERR_RTP_PADDING"},
      {"P bit and nothing after the header", Hex("a0 60 00 01 | 00 00 00 00 | 00 00 00 01"),
       "ERR_RTP_PADDING"},
      {"one-byte element running past the block",
       Hex("90 60 00 01 | 00 00 00 00 | 00 00 00 01 | be de 00 01 | 10 aa 23 bb"),
       "ERR_RTP_EXTENSION"},
      {"two-byte element without its length byte",
       Hex("90 60 00 01 | 00 00 00 00 | 00 00 00 01 | 10 00 00 01 | 01 01 aa 05"),
       "ERR_RTP_EXTENSION"},
      {"two-byte element running past the block",
       Hex("90 60 00 01 | 00 00 00 00 | 00 00 00 01 | 10 00 00 01 | 01 03 aa bb"),
       "ERR_RTP_EXTENSION"},
      {"33 elements", manyElements, "ERR_RTP_TOO_MANY_EXTENSIONS"},
  };
  for (const Row& r : rows) {
    CAPTURE(std::string(r.name));
    const auto result = ParseRtp(r.bytes);
    CHECK(CodeOf(result) == r.code);
    if (!result.ok()) CHECK_FALSE(result.status().message().empty());
  }
}

TEST_CASE("Rtp parse: one-byte form padding bytes are skipped and id 15 ends the block") {
  const auto bytes =
      Hex("90 60 00 01 | 00 00 00 00 | 00 00 00 01"
          "be de 00 02"  // one-byte form, 2 words
          "00"           // padding between elements
          "10 aa"        // id 1, 1 byte
          "00 00"        // more padding
          "f3 bb"        // id 15: stop here, ignore its length
          "20 cc 00");   // would be id 2 but is not read
  const RtpPacketView p = Ok(ParseRtp(bytes));
  REQUIRE(p.extensions.size() == 1);
  CHECK(p.extensions[0].id == 1);
  CHECK(ToVector(p.extensions[0].data) == Hex("aa"));
  CHECK_FALSE(p.extensions.Find(2).has_value());
}

TEST_CASE("Rtp parse: exactly 32 elements fit, the first of repeated ids is found") {
  std::vector<uint8_t> bytes = Hex("90 60 00 01 | 00 00 00 00 | 00 00 00 02 | be de 00 10");
  for (int i = 0; i < 32; ++i) {  // 32 elements of 2 bytes: 16 words
    bytes.push_back(static_cast<uint8_t>(((i % 14) + 1) << 4));
    bytes.push_back(static_cast<uint8_t>(i));
  }
  const RtpPacketView p = Ok(ParseRtp(bytes));
  CHECK(p.extensions.size() == HeaderExtensions::kCapacity);
  CHECK(ToVector(*p.extensions.Find(1)) == Hex("00"));  // not 14, the later repeat
  CHECK(ToVector(*p.extensions.Find(14)) == Hex("0d"));
}

TEST_CASE("Rtp parse into a reused view leaves nothing of the previous packet") {
  RtpPacketView v;
  const auto full = FullPacket();
  REQUIRE(ParseRtp(full, &v).ok());
  REQUIRE(v.extensions.size() == 2);
  const auto minimal = Hex("80 60 00 07 | 00 00 00 09 | 00 00 00 03 | 01");
  REQUIRE(ParseRtp(minimal, &v).ok());
  CHECK_FALSE(v.marker);
  CHECK(v.payloadType == 96);
  CHECK(v.sequenceNumber == 7);
  CHECK(v.timestamp == 9);
  CHECK(v.ssrc == 3);
  CHECK(v.csrcCount == 0);
  CHECK(v.csrcBytes.size == 0);
  CHECK_FALSE(v.hasExtension);
  CHECK(v.extensionProfile == 0);
  CHECK(v.extensionBody.size == 0);
  CHECK(v.extensions.empty());
  CHECK_FALSE(v.extensions.Find(1).has_value());
  CHECK(v.headerSize == 12);
  CHECK(ToVector(v.payload) == Hex("01"));
  CHECK(v.paddingSize == 0);
  CHECK(v.packet.size == minimal.size());
  // An error in the extension block leaves no elements behind either.
  REQUIRE(ParseRtp(full, &v).ok());
  const auto bad = Hex("90 60 00 01 | 00 00 00 00 | 00 00 00 01 | be de 00 01 | 10 aa 23 bb");
  CHECK(CodeOf(ParseRtp(bad, &v)) == "ERR_RTP_EXTENSION");
  CHECK(v.extensions.empty());
}
