// H.264 over RTP (RFC 6184): the packetizer, the depacketizer, and round trips of real x264
// frames (test/cpp/fixtures/media, made by scripts/make-sample-media.mjs).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "media/h264_depacketizer.h"
#include "media/h264_packetizer.h"
#include "media_test_util.h"

using namespace kvs;
using namespace kvs::media;
using namespace kvs::media::testing;

namespace {

const Bytes& Idr() {
  static const Bytes b = FromHex(fixtures::kH264Idr);  // SPS(22) PPS(4) SEI(691) IDR(3890)
  return b;
}
const Bytes& P1() {
  static const Bytes b = FromHex(fixtures::kH264P1);
  return b;
}
const Bytes& P2() {
  static const Bytes b = FromHex(fixtures::kH264P2);
  return b;
}
const Bytes& Idr2() {
  static const Bytes b = FromHex(fixtures::kH264Idr2);  // SPS PPS IDR
  return b;
}

unsigned TypeOf(const Bytes& packet) { return packet.at(0) & 0x1Fu; }

// The frame without the NAL units of the given types.
Bytes Without(const Bytes& frame, std::initializer_list<unsigned> types) {
  std::vector<Bytes> kept;
  for (const Bytes& n : NalsOf(frame)) {
    if (std::find(types.begin(), types.end(), n[0] & 0x1Fu) == types.end()) kept.push_back(n);
  }
  return AnnexB(kept);
}

std::vector<Bytes> RoundTrip(Packetizer& p, const Bytes& frame, size_t maxPayload,
                             bool* keyFrame = nullptr) {
  auto payloads = PacketizeChecked(p, Shared(frame), maxPayload);
  auto wire = Wire(payloads);
  Frame out = DepacketizeOk(H264Depacketizer(), wire);
  if (keyFrame) *keyFrame = out.keyFrame;
  CHECK(out.data == frame);
  return wire;
}

}  // namespace

TEST_CASE("H.264 round trip of real frames at many payload sizes") {
  for (size_t maxPayload :
       {size_t{3}, size_t{4}, size_t{10}, size_t{100}, size_t{700}, size_t{1188}, size_t{1200},
        size_t{1400}, size_t{65535}, size_t{1} << 20}) {
    CAPTURE(maxPayload);
    H264Packetizer p;
    H264Depacketizer d;
    for (const Bytes* frame : {&Idr(), &P1(), &P2(), &Idr2()}) {
      bool key = false;
      auto wire = RoundTrip(p, *frame, maxPayload, &key);
      CHECK(key == H264ContainsKeyFrame(*frame));
      // Inspect: the first payload starts the frame and a NAL unit; OR over the frame says key.
      bool anyKey = false;
      for (size_t i = 0; i < wire.size(); ++i) {
        auto info = d.Inspect(wire[i]);
        REQUIRE(info.ok());
        CHECK_FALSE(info.value().empty);
        const bool continuation = TypeOf(wire[i]) == 28 && (wire[i][1] & 0x80) == 0;
        CHECK(info.value().startsUnit == !continuation);
        // These pictures are one slice each, so every NAL unit start is a prefix NAL unit or a
        // picture's first slice.
        CHECK(info.value().startsFrame == info.value().startsUnit);
        if (i == 0) CHECK(info.value().startsFrame);
        anyKey = anyKey || info.value().keyFrame;
      }
      CHECK(anyKey == key);
    }
    // Every frame carried its own SPS/PPS, so nothing was inserted.
    CHECK(p.parameterSetsInserted() == 0);
    CHECK(p.keyPicturesWithoutParameterSets() == 0);
  }
}

TEST_CASE("H.264 at 1200 bytes: SPS+PPS+SEI in one STAP-A, the IDR in even FU-A fragments") {
  H264Packetizer p;
  auto frame = Shared(Idr());
  auto payloads = PacketizeChecked(p, frame, 1200);
  auto wire = Wire(payloads);
  REQUIRE(wire.size() == 5);

  // STAP-A (RFC 6184 §5.7.1): header with NRI the max of the units', then size + NAL each.
  const std::vector<Bytes> nals = NalsOf(Idr());
  REQUIRE(nals[0].size() == 22);
  REQUIRE(nals[1].size() == 4);
  REQUIRE(nals[2].size() == 691);
  Bytes stap = {static_cast<uint8_t>(0x60 | 24)};  // SPS/PPS have NRI 3
  for (size_t i = 0; i < 3; ++i) {
    stap.push_back(static_cast<uint8_t>(nals[i].size() >> 8));
    stap.push_back(static_cast<uint8_t>(nals[i].size()));
    stap.insert(stap.end(), nals[i].begin(), nals[i].end());
  }
  CHECK(wire[0] == stap);
  CHECK(payloads[0].source.get() != frame.get());  // a small buffer of its own
  CHECK(payloads[0].prefixSize == 0);

  // FU-A (§5.8): indicator F|NRI|28, header S|E|R|type; 3889 bytes after the NAL header split
  // 973, 972, 972, 972.
  const uint8_t nalHeader = nals[3][0];
  REQUIRE((nalHeader & 0x1F) == 5);
  size_t body = 0;
  for (size_t i = 1; i < 5; ++i) {
    CHECK(wire[i][0] == ((nalHeader & 0xE0) | 28));
    const uint8_t s = i == 1 ? 0x80 : 0, e = i == 4 ? 0x40 : 0;
    CHECK(wire[i][1] == (s | e | 5));
    CHECK(payloads[i].source.get() == frame.get());  // a slice of the frame, not a copy
    CHECK(payloads[i].prefixSize == 2);
    body += payloads[i].length;
  }
  CHECK(payloads[1].length == 973);
  CHECK(payloads[4].length == 972);
  CHECK(body == nals[3].size() - 1);
  CHECK(payloads[1].offset == 4623 - 3890 + 1);
}

TEST_CASE("H.264 with aggregation off sends one packet per NAL unit, as the C SDK does") {
  NalPacketizerOptions options;
  options.aggregate = false;
  H264Packetizer p(options);
  auto wire = RoundTrip(p, Idr(), 1200);
  REQUIRE(wire.size() == 7);
  CHECK(TypeOf(wire[0]) == 7);
  CHECK(TypeOf(wire[1]) == 8);
  CHECK(TypeOf(wire[2]) == 6);
  for (size_t i = 3; i < 7; ++i) CHECK(TypeOf(wire[i]) == 28);
}

TEST_CASE("H.264 length-prefixed input gives the same packets as Annex-B input") {
  for (size_t maxPayload : {size_t{3}, size_t{50}, size_t{1200}, size_t{100000}}) {
    CAPTURE(maxPayload);
    H264Packetizer annexB, avcc4, avcc2;
    NalPacketizerOptions two;
    two.framing = NalFraming::kLengthPrefixed2;
    H264Packetizer explicit2(two);
    for (const Bytes* frame : {&Idr(), &P1(), &P2(), &Idr2()}) {
      const auto nals = NalsOf(*frame);
      auto expected = Wire(PacketizeChecked(annexB, Shared(*frame), maxPayload));
      CHECK(Wire(PacketizeChecked(avcc4, Shared(LengthPrefixed(nals, 4)), maxPayload)) == expected);
      CHECK(Wire(PacketizeChecked(explicit2, Shared(LengthPrefixed(nals, 2)), maxPayload)) ==
            expected);
    }
  }
  // 1-byte lengths, for small NAL units.
  const std::vector<Bytes> small = {
      {0x67, 0x42, 0xC0, 0x1F, 0xDA}, {0x68, 0xCE, 0x3C, 0x80}, {0x65, 0x88, 0x84, 0x21, 0x43}};
  NalPacketizerOptions one;
  one.framing = NalFraming::kLengthPrefixed1;
  H264Packetizer a, b(one);
  CHECK(Wire(PacketizeChecked(b, Shared(LengthPrefixed(small, 1)), 8)) ==
        Wire(PacketizeChecked(a, Shared(AnnexB(small)), 8)));
}

TEST_CASE("H.264: an IDR without SPS/PPS gets the cached ones in a STAP-A ahead of it") {
  H264Packetizer p;
  const Bytes bareIdr2 = Without(Idr2(), {7, 8});
  const auto idrNals = NalsOf(Idr());
  const auto idr2Nals = NalsOf(Idr2());

  RoundTrip(p, Idr(), 1200);
  RoundTrip(p, P1(), 1200);
  auto payloads = PacketizeChecked(p, Shared(bareIdr2), 1200);
  auto wire = Wire(payloads);
  // The first payload: STAP-A of the SPS and PPS from the first IDR, same bytes.
  REQUIRE(TypeOf(wire[0]) == 24);
  Bytes stap = {0x78, 0, 22};
  stap.insert(stap.end(), idrNals[0].begin(), idrNals[0].end());
  stap.insert(stap.end(), {0, 4});
  stap.insert(stap.end(), idrNals[1].begin(), idrNals[1].end());
  CHECK(wire[0] == stap);
  CHECK(p.parameterSetsInserted() == 1);
  // What the receiver rebuilds: the IDR with the parameter sets in front.
  Frame out = DepacketizeOk(H264Depacketizer(), wire);
  CHECK(out.keyFrame);
  CHECK(out.data == AnnexB({idrNals[0], idrNals[1], idr2Nals[2]}));

  // An IDR that carries its own gets no duplicate.
  auto again = Wire(PacketizeChecked(p, Shared(Idr2()), 1200));
  CHECK(DepacketizeOk(H264Depacketizer(), again).data == Idr2());
  CHECK(p.parameterSetsInserted() == 1);
  // P frames never get them.
  CHECK(Wire(PacketizeChecked(p, Shared(P2()), 1200)).size() == 2);
  CHECK(DepacketizeOk(H264Depacketizer(), Wire(PacketizeChecked(p, Shared(P2()), 1200))).data ==
        P2());
  CHECK(p.parameterSetsInserted() == 1);
}

TEST_CASE("H.264: the inserted parameter sets follow the frame's SEI and its own SPS") {
  const auto nals = NalsOf(Idr());  // SPS PPS SEI IDR
  H264Packetizer p;
  RoundTrip(p, Idr(), 1200);

  // SEI + IDR: SPS and PPS go after the SEI, before the slice, all three in one STAP-A.
  auto wire = Wire(PacketizeChecked(p, Shared(AnnexB({nals[2], nals[3]})), 1200));
  REQUIRE(TypeOf(wire[0]) == 24);
  CHECK(DepacketizeOk(H264Depacketizer(), wire).data ==
        AnnexB({nals[2], nals[0], nals[1], nals[3]}));

  // SPS + IDR: only the PPS is missing, and it goes after the frame's SPS.
  wire = Wire(PacketizeChecked(p, Shared(AnnexB({nals[0], nals[3]})), 1200));
  CHECK(DepacketizeOk(H264Depacketizer(), wire).data == AnnexB({nals[0], nals[1], nals[3]}));
  CHECK(p.parameterSetsInserted() == 2);
}

TEST_CASE("H.264: the cache keeps the latest SPS and PPS") {
  const auto nals = NalsOf(Idr());
  Bytes otherSps = nals[0];
  otherSps.back() ^= 0x01;  // a different SPS (as far as the cache can tell)
  const Bytes otherPps = {0x68, 0xCE, 0x3C, 0x81};
  H264Packetizer p;
  RoundTrip(p, Idr(), 1200);
  RoundTrip(p, AnnexB({otherSps, otherPps, nals[3]}), 1200);
  auto wire = Wire(PacketizeChecked(p, Shared(AnnexB({nals[3]})), 1200));
  CHECK(DepacketizeOk(H264Depacketizer(), wire).data == AnnexB({otherSps, otherPps, nals[3]}));
}

TEST_CASE("H.264: an IDR before any SPS/PPS, or with repetition off, goes out as it is") {
  const Bytes bare = Without(Idr(), {7, 8});
  H264Packetizer first;
  RoundTrip(first, bare, 1200);
  CHECK(first.parameterSetsInserted() == 0);
  CHECK(first.keyPicturesWithoutParameterSets() == 1);

  NalPacketizerOptions off;
  off.repeatParameterSets = false;
  H264Packetizer p(off);
  RoundTrip(p, Idr(), 1200);
  RoundTrip(p, bare, 1200);
  CHECK(p.parameterSetsInserted() == 0);
  CHECK(p.keyPicturesWithoutParameterSets() == 1);
}

TEST_CASE("H.264: AUD and filler data are dropped") {
  const auto nals = NalsOf(Idr());
  const Bytes aud = {0x09, 0xF0}, filler = {0x0C, 0xFF, 0xFF, 0x80};
  H264Packetizer p;
  auto wire =
      Wire(PacketizeChecked(p, Shared(AnnexB({aud, nals[0], nals[1], filler, nals[3]})), 1200));
  CHECK(DepacketizeOk(H264Depacketizer(), wire).data == AnnexB({nals[0], nals[1], nals[3]}));

  // A frame of nothing else sends nothing.
  std::vector<RtpPayload> out;
  CHECK(p.Packetize(Shared(AnnexB({aud, filler})), 1200, out).ok());
  CHECK(out.empty());
}

TEST_CASE("H.264 packetizer errors leave the output and the cache alone") {
  H264Packetizer p;
  std::vector<RtpPayload> out;
  out.resize(1);  // appended to, never cleared

  Status s = p.Packetize(nullptr, 1200, out);
  CHECK(s.code() == "ERR_MEDIA_EMPTY_FRAME");
  CHECK(p.Packetize(Shared({}), 1200, out).code() == "ERR_MEDIA_EMPTY_FRAME");
  s = p.Packetize(Shared(Idr()), 2, out);
  CHECK(s.code() == "ERR_MEDIA_MAX_PAYLOAD");
  CHECK(s.message().find("at least 3") != std::string::npos);
  s = p.Packetize(Shared({0, 0, 0, 1, 0x7C, 0x85, 0x00}), 1200, out);  // an FU-A as a NAL unit
  CHECK(s.code() == "ERR_H264_BAD_NAL");
  CHECK(p.Packetize(Shared({0, 0, 0, 1, 0x00, 0x01}), 1200, out).code() == "ERR_H264_BAD_NAL");
  s = p.Packetize(Shared({0, 0, 0, 9, 0x65, 0x88}), 1200, out);
  CHECK(s.code() == "ERR_NAL_TRUNCATED");
  CHECK(s.message().find("offset 0") != std::string::npos);
  CHECK(out.size() == 1);
  CHECK(p.parameterSetsInserted() == 0);
}

TEST_CASE("H264ContainsKeyFrame") {
  CHECK(H264ContainsKeyFrame(Idr()));
  CHECK(H264ContainsKeyFrame(Idr2()));
  CHECK_FALSE(H264ContainsKeyFrame(P1()));
  CHECK(H264ContainsKeyFrame(LengthPrefixed(NalsOf(Idr()), 4)));
  CHECK_FALSE(H264ContainsKeyFrame(LengthPrefixed(NalsOf(P1()), 4)));
  CHECK_FALSE(H264ContainsKeyFrame(Bytes{0x65, 0x88}));  // neither framing
  CHECK_FALSE(H264ContainsKeyFrame(Without(Idr(), {5})));
}

TEST_CASE("H.264 depacketizer: RFC 6184 packet forms") {
  H264Depacketizer d;
  // STAP-A of an AUD and a 3-byte SPS start (RFC 6184 Figure 7 layout).
  const Bytes stap = {0x18, 0x00, 0x02, 0x09, 0xF0, 0x00, 0x03, 0x67, 0x42, 0xC0};
  Frame f = DepacketizeOk(d, {stap});
  CHECK(f.data == AnnexB({{0x09, 0xF0}, {0x67, 0x42, 0xC0}}));
  CHECK_FALSE(f.keyFrame);

  // FU-A of an IDR in three fragments, with padding-only (empty) payloads between: the NAL
  // header comes back from the indicator's F/NRI and the FU type.
  f = DepacketizeOk(d, {{0x7C, 0x85, 0xB8, 0x00}, {}, {0x7C, 0x05, 0x11}, {}, {0x7C, 0x45, 0x22}});
  CHECK(f.data == AnnexB({{0x65, 0xB8, 0x00, 0x11, 0x22}}));
  CHECK(f.keyFrame);

  // S and E in one FU: against §5.8, but a whole NAL unit.
  f = DepacketizeOk(d, {{0x5C, 0xC1, 0x9A}});
  CHECK(f.data == AnnexB({{0x41, 0x9A}}));

  // Single NAL units of every type 1-23.
  for (uint8_t t = 1; t <= 23; ++t) {
    CAPTURE(int{t});
    CHECK(DepacketizeOk(d, {{t, 0xAB}}).data == AnnexB({{t, 0xAB}}));
  }
}

TEST_CASE("H.264 depacketizer: malformed payloads are errors, not crashes") {
  struct Case {
    const char* name;
    std::vector<Bytes> payloads;
    const char* code;
  };
  const std::vector<Case> cases = {
      {"no payloads", {}, "ERR_MEDIA_EMPTY_FRAME"},
      {"padding only", {{}, {}}, "ERR_MEDIA_EMPTY_FRAME"},
      {"type 0", {{0x00, 0x01}}, "ERR_H264_BAD_NAL"},
      {"type 30", {{0x1E, 0x01}}, "ERR_H264_BAD_NAL"},
      {"type 31", {{0x1F, 0x01}}, "ERR_H264_BAD_NAL"},
      {"STAP-B", {{0x19, 0x00, 0x01, 0x00, 0x02, 0x09, 0xF0}}, "ERR_H264_UNSUPPORTED_PACKET"},
      {"MTAP16", {{0x1A, 0x00, 0x01}}, "ERR_H264_UNSUPPORTED_PACKET"},
      {"MTAP24", {{0x1B, 0x00, 0x01}}, "ERR_H264_UNSUPPORTED_PACKET"},
      {"FU-B", {{0x1D, 0x85, 0x00, 0x01, 0x11}}, "ERR_H264_UNSUPPORTED_PACKET"},
      {"STAP-A header only", {{0x18}}, "ERR_H264_TRUNCATED"},
      {"STAP-A size past the end", {{0x18, 0x00, 0x05, 0x67, 0x42}}, "ERR_H264_TRUNCATED"},
      {"STAP-A half a size field", {{0x18, 0x00, 0x01, 0x09, 0x00}}, "ERR_H264_TRUNCATED"},
      {"STAP-A zero-size unit", {{0x18, 0x00, 0x00}}, "ERR_H264_TRUNCATED"},
      {"STAP-A holding an FU-A", {{0x18, 0x00, 0x02, 0x7C, 0x85}}, "ERR_H264_BAD_NAL"},
      {"STAP-A holding type 0", {{0x18, 0x00, 0x01, 0x00}}, "ERR_H264_BAD_NAL"},
      {"FU-A without FU header", {{0x7C}}, "ERR_H264_TRUNCATED"},
      {"FU-A middle without start", {{0x7C, 0x05, 0xAA}}, "ERR_H264_FU_SEQUENCE"},
      {"FU-A end without start", {{0x7C, 0x45, 0xAA}}, "ERR_H264_FU_SEQUENCE"},
      {"FU-A start twice", {{0x7C, 0x85, 0xAA}, {0x7C, 0x85, 0xBB}}, "ERR_H264_FU_SEQUENCE"},
      {"FU-A without end", {{0x7C, 0x85, 0xAA}, {0x7C, 0x05, 0xBB}}, "ERR_H264_FU_SEQUENCE"},
      {"FU-A interrupted", {{0x7C, 0x85, 0xAA}, {0x41, 0x9A}}, "ERR_H264_FU_SEQUENCE"},
      {"FU-A type changes", {{0x7C, 0x85, 0xAA}, {0x7C, 0x41, 0xBB}}, "ERR_H264_FU_SEQUENCE"},
      {"FU-A of a STAP-A", {{0x7C, 0x98, 0xAA}}, "ERR_H264_BAD_NAL"},
      {"FU-A of type 0", {{0x7C, 0xC0, 0xAA}}, "ERR_H264_BAD_NAL"},
      {"an end after a complete frame", {{0x65, 0x88}, {0x7C, 0x45, 0xAA}}, "ERR_H264_FU_SEQUENCE"},
  };
  H264Depacketizer d;
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(ErrorCode(d, c.payloads) == c.code);
  }
}

TEST_CASE("H.264 Inspect") {
  H264Depacketizer d;
  auto info = [&](const Bytes& p) {
    auto r = d.Inspect(p);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    return r.value();
  };
  CHECK(info({}).empty);
  // IDR slice, first_mb_in_slice 0 (first bit 1): starts a frame, key.
  PayloadInfo i = info({0x65, 0x88, 0x84});
  CHECK(i.startsUnit);
  CHECK(i.startsFrame);
  CHECK(i.keyFrame);
  // A second slice of a P picture (first_mb_in_slice not 0).
  i = info({0x41, 0x3A, 0x84});
  CHECK(i.startsUnit);
  CHECK_FALSE(i.startsFrame);
  CHECK_FALSE(i.keyFrame);
  // STAP-A beginning with an SPS.
  i = info({0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xCE});
  CHECK(i.startsFrame);
  CHECK(i.keyFrame);
  // STAP-A of SEI only: starts a frame, not key.
  i = info({0x18, 0x00, 0x02, 0x06, 0x05});
  CHECK(i.startsFrame);
  CHECK_FALSE(i.keyFrame);
  // FU-A start / middle / end of an IDR.
  i = info({0x7C, 0x85, 0x88});
  CHECK(i.startsUnit);
  CHECK(i.startsFrame);
  CHECK(i.keyFrame);
  i = info({0x7C, 0x05, 0x00});
  CHECK_FALSE(i.startsUnit);
  CHECK_FALSE(i.startsFrame);
  CHECK(i.keyFrame);
  i = info({0x7C, 0x41, 0x00});
  CHECK_FALSE(i.startsUnit);
  CHECK_FALSE(i.keyFrame);

  CHECK(d.Inspect(Bytes{0x19, 0x00}).status().code() == "ERR_H264_UNSUPPORTED_PACKET");
  CHECK(d.Inspect(Bytes{0x18, 0x00, 0x09}).status().code() == "ERR_H264_TRUNCATED");
  CHECK(d.Inspect(Bytes{0x7C}).status().code() == "ERR_H264_TRUNCATED");
  CHECK(d.Inspect(Bytes{0x00}).status().code() == "ERR_H264_BAD_NAL");
}
