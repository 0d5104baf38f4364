// NAL unit splitting: Annex-B and length-prefixed framings, and telling them apart.
#include <doctest/doctest.h>

#include "media/nal_units.h"
#include "media_test_util.h"

using namespace kvs;
using namespace kvs::media;
using namespace kvs::media::testing;

namespace {

std::vector<Bytes> Split(const Bytes& frame, NalFraming framing) {
  auto r = SplitNalUnits(frame, framing);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  std::vector<Bytes> out;
  for (const NalUnit& u : r.value()) {
    REQUIRE(u.offset + u.length <= frame.size());
    out.emplace_back(frame.begin() + u.offset, frame.begin() + u.offset + u.length);
  }
  return out;
}

}  // namespace

TEST_CASE("Annex-B: 3- and 4-byte start codes, leading and trailing zeros") {
  const Bytes frame = {
      0x00, 0x00,                    // leading_zero_8bits
      0x00, 0x00, 0x00, 0x01,        // 4-byte start code
      0x67, 0x42, 0xC0, 0x1F,        // SPS
      0x00, 0x00, 0x01,              // 3-byte start code
      0x68, 0xCE, 0x3C, 0x80,        // PPS
      0x00, 0x00,                    // trailing_zero_8bits
      0x00, 0x00, 0x00, 0x01,        //
      0x65, 0x88, 0x00, 0x00, 0x03,  // IDR with an emulation prevention byte...
      0x00, 0x01, 0x7F,              // ...which stays
      0x00, 0x00,                    // trailing zeros at the end
  };
  auto nals = Split(frame, NalFraming::kAnnexB);
  REQUIRE(nals.size() == 3);
  CHECK(nals[0] == Bytes{0x67, 0x42, 0xC0, 0x1F});
  CHECK(nals[1] == Bytes{0x68, 0xCE, 0x3C, 0x80});
  CHECK(nals[2] == Bytes{0x65, 0x88, 0x00, 0x00, 0x03, 0x00, 0x01, 0x7F});

  auto offsets = SplitAnnexB(frame);
  REQUIRE(offsets.ok());
  CHECK(offsets.value()[0].offset == 6);
  CHECK(offsets.value()[1].offset == 13);
  CHECK(offsets.value()[2].offset == 23);
}

TEST_CASE("Annex-B: empty NAL units are skipped; a start code alone gives none") {
  CHECK(Split({0, 0, 1, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1}, NalFraming::kAnnexB) ==
        std::vector<Bytes>{{0x09, 0xF0}});
  CHECK(Split({0, 0, 0, 1}, NalFraming::kAnnexB).empty());
  // A start code split over the end is not one: the bytes belong to the NAL unit before,
  // except for the zeros, which no NAL unit ends with.
  CHECK(Split({0, 0, 1, 0x41, 0x9A, 0, 0}, NalFraming::kAnnexB) ==
        std::vector<Bytes>{{0x41, 0x9A}});
}

TEST_CASE("Annex-B: bytes before the first start code, or no start code, are errors") {
  auto noStart = SplitAnnexB(Bytes{0x67, 0x42, 0x00, 0x1F});
  REQUIRE_FALSE(noStart.ok());
  CHECK(noStart.status().code() == "ERR_NAL_NO_START_CODE");

  auto garbage = SplitAnnexB(Bytes{0x00, 0x07, 0x00, 0x00, 0x01, 0x67});
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.status().code() == "ERR_NAL_NO_START_CODE");
  CHECK(garbage.status().message().find("byte 1") != std::string::npos);

  CHECK_FALSE(SplitAnnexB(Bytes{}).ok());
  CHECK_FALSE(SplitAnnexB(Bytes{0, 0}).ok());
}

TEST_CASE("Length-prefixed with 1-, 2- and 4-byte lengths") {
  const std::vector<Bytes> nals = {{0x67, 0x42, 0xC0, 0x1F}, {0x68, 0xCE}, {0x65, 0x88, 0x84}};
  CHECK(Split(LengthPrefixed(nals, 1), NalFraming::kLengthPrefixed1) == nals);
  CHECK(Split(LengthPrefixed(nals, 2), NalFraming::kLengthPrefixed2) == nals);
  CHECK(Split(LengthPrefixed(nals, 4), NalFraming::kLengthPrefixed4) == nals);
  // Offsets point past the length fields.
  auto r = SplitLengthPrefixed(LengthPrefixed(nals, 2), 2);
  REQUIRE(r.ok());
  CHECK(r.value()[0].offset == 2);
  CHECK(r.value()[1].offset == 8);
  CHECK(r.value()[2].offset == 12);
  // Zero lengths are skipped.
  CHECK(Split({0, 0, 0, 2, 0x09, 0xF0}, NalFraming::kLengthPrefixed2) ==
        std::vector<Bytes>{{0x09, 0xF0}});
}

TEST_CASE("Length-prefixed: a length past the end is an error naming its offset") {
  // Two units: 3 bytes at offset 0, then a length of 9 at offset 7 with 2 bytes left.
  const Bytes frame = {0, 0, 0, 3, 0x67, 0x42, 0x1F, 0, 0, 0, 9, 0x65, 0x88};
  auto r = SplitLengthPrefixed(frame, 4);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == "ERR_NAL_TRUNCATED");
  CHECK(r.status().message().find("offset 7") != std::string::npos);
  CHECK(r.status().message().find("length 9") != std::string::npos);

  auto partial = SplitLengthPrefixed(Bytes{0, 0, 0, 1, 0x09, 0, 0}, 4);
  REQUIRE_FALSE(partial.ok());
  CHECK(partial.status().code() == "ERR_NAL_TRUNCATED");
  CHECK(partial.status().message().find("offset 5") != std::string::npos);

  auto oneByte = SplitLengthPrefixed(Bytes{200, 1, 2, 3}, 1);
  REQUIRE_FALSE(oneByte.ok());
  CHECK(oneByte.status().message().find("offset 0") != std::string::npos);

  auto size3 = SplitLengthPrefixed(Bytes{0, 0, 1, 0x09}, 3);
  REQUIRE_FALSE(size3.ok());
  CHECK(size3.status().code() == "ERR_NAL_LENGTH_SIZE");
}

TEST_CASE("Auto framing tells Annex-B from 4-byte length-prefixed") {
  const Bytes idr = FromHex(fixtures::kH264Idr);
  const std::vector<Bytes> nals = NalsOf(idr);
  REQUIRE(nals.size() == 4);
  CHECK(Split(idr, NalFraming::kAuto) == nals);
  CHECK(Split(LengthPrefixed(nals, 4), NalFraming::kAuto) == nals);

  // A first NAL unit of 256-511 bytes has the 4-byte length 00 00 01 xx, which looks like a
  // start code; the lengths chaining to the end say otherwise.
  std::vector<Bytes> ambiguous = {Bytes(300, 0x41), {0x65, 0x88, 0x84}};
  ambiguous[0][0] = 0x41;
  const Bytes avcc = LengthPrefixed(ambiguous, 4);
  REQUIRE(avcc[2] == 0x01);
  CHECK(Split(avcc, NalFraming::kAuto) == ambiguous);

  // Neither framing: the length-prefixed error is reported.
  auto bad = SplitNalUnits(Bytes{0x67, 0x42, 0x00, 0x1F}, NalFraming::kAuto);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == "ERR_NAL_TRUNCATED");
}

TEST_CASE("The H.264 and H.265 fixtures split into the NAL units their encoders wrote") {
  auto types264 = [](const Bytes& frame) {
    std::vector<int> t;
    for (const Bytes& n : NalsOf(frame)) t.push_back(n[0] & 0x1F);
    return t;
  };
  auto types265 = [](const Bytes& frame) {
    std::vector<int> t;
    for (const Bytes& n : NalsOf(frame)) t.push_back((n[0] >> 1) & 0x3F);
    return t;
  };
  CHECK(types264(FromHex(fixtures::kH264Idr)) == std::vector<int>{7, 8, 6, 5});
  CHECK(types264(FromHex(fixtures::kH264P1)) == std::vector<int>{1});
  CHECK(types264(FromHex(fixtures::kH264Idr2)) == std::vector<int>{7, 8, 5});
  CHECK(types265(FromHex(fixtures::kH265Idr)) == std::vector<int>{32, 33, 34, 39, 20});
  CHECK(types265(FromHex(fixtures::kH265P1)) == std::vector<int>{1});
}
