// RFC 8285 header extensions on their own (form choice, block layout) and the codecs of the
// extensions WebRTC uses: mid, rid, repaired rid, abs-send-time, transport-wide CC.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "rtp/ntp_time.h"
#include "rtp/rtp_extension_codecs.h"
#include "rtp/rtp_extension_uris.h"
#include "rtp/rtp_header_extensions.h"
#include "rtp_test_util.h"

using namespace kvs;
using namespace kvs::rtp;
using kvs::rtp::testing::CodeOf;
using kvs::rtp::testing::Hex;
using kvs::rtp::testing::Ok;
using kvs::rtp::testing::ToVector;

namespace {

std::vector<uint8_t> Block(ArrayView<HeaderExtension> ext, ExtensionForm form) {
  const ExtensionForm resolved = Ok(ResolveExtensionForm(ext, form));
  std::vector<uint8_t> out(HeaderExtensionBlockSize(ext, resolved));
  CHECK(WriteHeaderExtensionBlock(ext, resolved, out.data()) == out.size());
  return out;
}

}  // namespace

TEST_CASE("Rtp extensions: kAuto picks the one-byte form only when every element fits it") {
  const std::vector<uint8_t> d1(1, 0xAA), d16(16, 0xBB), d17(17, 0xCC);
  struct Row {
    const char* name;
    std::vector<HeaderExtension> ext;
    ExtensionForm want;
  };
  const std::vector<Row> rows = {
      {"none", {}, ExtensionForm::kOneByte},
      {"id 1..14 with 1..16 bytes", {{1, d1}, {14, d16}}, ExtensionForm::kOneByte},
      {"id 15", {{15, d1}}, ExtensionForm::kTwoByte},
      {"id 255", {{255, d1}}, ExtensionForm::kTwoByte},
      {"17 bytes", {{1, d1}, {2, d17}}, ExtensionForm::kTwoByte},
      {"an empty element", {{1, ByteSpan()}}, ExtensionForm::kTwoByte},
  };
  for (const Row& r : rows) {
    CAPTURE(std::string(r.name));
    CHECK(Ok(ResolveExtensionForm(r.ext, ExtensionForm::kAuto)) == r.want);
    CHECK(CodeOf(ResolveExtensionForm(r.ext, ExtensionForm::kOneByte)) ==
          (r.want == ExtensionForm::kOneByte ? "ok" : "ERR_RTP_INVALID_ARGUMENT"));
    CHECK(Ok(ResolveExtensionForm(r.ext, ExtensionForm::kTwoByte)) == ExtensionForm::kTwoByte);
  }
}

TEST_CASE("Rtp extensions: block layout in both forms, padded to 32 bits") {
  const auto ast = EncodeAbsSendTime(0x123456);
  const std::array<HeaderExtension, 1> one{{{2, ByteSpan(ast.data(), 3)}}};
  CHECK(Block(one, ExtensionForm::kOneByte) == Hex("be de 00 01"     // one-byte, 1 word
                                                   "22 12 34 56"));  // id 2 L=2: 3 bytes
  CHECK(Block(one, ExtensionForm::kTwoByte) == Hex("10 00 00 02"     // two-byte, 2 words
                                                   "02 03 12 34"     // id 2, 3 bytes
                                                   "56 00 00 00"));  // ... and padding
  const std::array<HeaderExtension, 0> none{};
  CHECK(HeaderExtensionBlockSize(none, ExtensionForm::kOneByte) == 0);
  CHECK(Block(none, ExtensionForm::kAuto).empty());

  // A round trip through HeaderExtensions::Parse of what was written.
  const std::vector<uint8_t> big(255, 0x5A);
  const std::array<HeaderExtension, 3> mixed{
      {{200, big}, {1, ByteSpan()}, {7, ByteSpan(ast.data(), 3)}}};
  const auto block = Block(mixed, ExtensionForm::kAuto);
  CHECK(block.size() == 4 + 264);  // 2+255 + 2+0 + 2+3 = 264, already a multiple of 4
  const uint16_t profile = static_cast<uint16_t>(block[0] << 8 | block[1]);
  const auto parsed =
      Ok(HeaderExtensions::Parse(profile, ByteSpan(block).sub(4, block.size() - 4)));
  REQUIRE(parsed.size() == 3);
  CHECK(parsed[0].id == 200);
  CHECK(ToVector(parsed[0].data) == big);
  CHECK(parsed[1].id == 1);
  CHECK(parsed[1].data.size == 0);
  CHECK(parsed[2].id == 7);
  CHECK(Ok(ParseAbsSendTime(parsed[2].data)) == 0x123456);
}

TEST_CASE("Rtp extensions: the profile decides the form and an unknown one yields nothing") {
  CHECK(IsOneByteExtensionProfile(0xBEDE));
  CHECK_FALSE(IsOneByteExtensionProfile(0xBEDF));
  for (uint16_t p = 0x1000; p <= 0x100F; ++p) CHECK(IsTwoByteExtensionProfile(p));
  CHECK_FALSE(IsTwoByteExtensionProfile(0x1010));
  CHECK_FALSE(IsTwoByteExtensionProfile(0x0100));
  const auto body = Hex("10 aa 00 00");
  CHECK(Ok(HeaderExtensions::Parse(0xBEDE, body)).size() == 1);
  // The same bytes in the two-byte form: id 0x10 with 0xAA bytes, past the end.
  CHECK(CodeOf(HeaderExtensions::Parse(0x1003, body)) == "ERR_RTP_EXTENSION");
  CHECK(Ok(HeaderExtensions::Parse(0x1234, body)).empty());
  CHECK(Ok(HeaderExtensions::Parse(0xBEDE, ByteSpan())).empty());
}

TEST_CASE("Rtp abs-send-time: 6.18 fixed-point seconds in 24 bits") {
  struct Row {
    int64_t us;
    uint32_t value;
  };
  const Row rows[] = {
      {0, 0x000000},          {250'000, 0x010000},  // a quarter second: 2^16
      {1'000'000, 0x040000},                        // one second: 1 << 18
      {63'500'000, 0xFE0000},                       // 63.5 s: 63 << 18 | 2^17
      {64'000'000, 0x000000},                       // wraps every 64 s
      {65'000'000, 0x040000},                       // 65 s is 1 s after the wrap
      {4, 0x000001},                                // 3.81 us is one unit; 4 us rounds to it
      {1, 0x000000},                                // rounds down
      {-1'000'000, 0xFC0000},                       // a second before the zero: 63 s
  };
  for (const Row& r : rows) {
    CAPTURE(r.us);
    CHECK(AbsSendTimeFromMicros(r.us) == r.value);
  }
  CHECK(AbsSendTimeToMicros(0x040000) == 1'000'000);
  CHECK(AbsSendTimeToMicros(0xFE0000) == 63'500'000);
  CHECK(AbsSendTimeToMicros(0xFFFFFF) == 63'999'996);
  // From NTP: 1.5 s past some whole second N gives N mod 64 seconds and half a second.
  const uint64_t ntp = (uint64_t{3'900'000'001} << 32) | 0x80000000u;
  CHECK(AbsSendTimeFromNtp(ntp) == ((3'900'000'001u % 64) << 18 | 0x20000));
  // The same instant through the two paths agrees.
  const int64_t unixUs = 1'700'000'000'123'456;
  const uint32_t a = AbsSendTimeFromNtp(NtpFromUnixMicros(unixUs));
  const uint32_t b =
      AbsSendTimeFromMicros(unixUs + int64_t{kNtpUnixEpochOffsetSeconds} * 1'000'000);
  CHECK((a == b || a + 1 == b || a == b + 1));  // NTP truncates its bits, micros round

  const auto enc = EncodeAbsSendTime(0xFE0001);
  CHECK(std::vector<uint8_t>(enc.begin(), enc.end()) == Hex("fe 00 01"));
  CHECK(Ok(ParseAbsSendTime(Hex("fe 00 01"))) == 0xFE0001);
  CHECK(CodeOf(ParseAbsSendTime(Hex("fe 00"))) == "ERR_RTP_EXTENSION_VALUE");
  CHECK(CodeOf(ParseAbsSendTime(Hex("fe 00 01 02"))) == "ERR_RTP_EXTENSION_VALUE");
}

TEST_CASE("Rtp transport-wide sequence number extension") {
  const auto enc = EncodeTransportSequenceNumber(0xABCD);
  CHECK(std::vector<uint8_t>(enc.begin(), enc.end()) == Hex("ab cd"));
  CHECK(Ok(ParseTransportSequenceNumber(Hex("ab cd"))) == 0xABCD);
  CHECK(Ok(ParseTransportSequenceNumber(Hex("ff ff"))) == 65535);
  CHECK(CodeOf(ParseTransportSequenceNumber(Hex("ab"))) == "ERR_RTP_EXTENSION_VALUE");
  // The -02 variant's 4-byte form is a different extension, not this one.
  CHECK(CodeOf(ParseTransportSequenceNumber(Hex("ab cd 80 01"))) == "ERR_RTP_EXTENSION_VALUE");
}

TEST_CASE("Rtp mid / rid / repaired-rid string extensions") {
  CHECK(Ok(ParseSdesExtension(Hex("30"))) == "0");
  CHECK(Ok(ParseSdesExtension(Hex("61 75 64 69 6f"))) == "audio");
  CHECK(Ok(ParseSdesExtension(Hex("68 00 00"))) == "h");  // trailing zeros are not the value
  CHECK(CodeOf(ParseSdesExtension(ByteSpan())) == "ERR_RTP_EXTENSION_VALUE");
  CHECK(CodeOf(ParseSdesExtension(Hex("00 00"))) == "ERR_RTP_EXTENSION_VALUE");
  CHECK(CheckSdesExtension("0").ok());
  CHECK(CheckSdesExtension(std::string(255, 'r')).ok());
  CHECK(CodeOf(CheckSdesExtension("")) == "ERR_RTP_INVALID_ARGUMENT");
  CHECK(CodeOf(CheckSdesExtension(std::string(256, 'r'))) == "ERR_RTP_INVALID_ARGUMENT");
  CHECK(CodeOf(CheckSdesExtension(std::string("a\0b", 3))) == "ERR_RTP_INVALID_ARGUMENT");
  const std::string mid = "video0";
  const ByteSpan v = SdesValue(mid);
  CHECK(v.size == 6);
  CHECK(static_cast<const void*>(v.data) == static_cast<const void*>(mid.data()));
}

TEST_CASE("Rtp extension URIs are the ones browsers put in a=extmap") {
  CHECK(std::string(kMidUri) == "urn:ietf:params:rtp-hdrext:sdes:mid");
  CHECK(std::string(kRtpStreamIdUri) == "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id");
  CHECK(std::string(kRepairedRtpStreamIdUri) ==
        "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id");
  CHECK(std::string(kAbsSendTimeUri) ==
        "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time");
  CHECK(std::string(kTransportWideCcUri) ==
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01");
}
