// H.265 over RTP (RFC 7798, no DONL): the packetizer, the depacketizer, and round trips of real
// x265 frames (test/cpp/fixtures/media).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "media/h265_depacketizer.h"
#include "media/h265_packetizer.h"
#include "media_test_util.h"

using namespace kvs;
using namespace kvs::media;
using namespace kvs::media::testing;

namespace {

const Bytes& Idr() {
  static const Bytes b = FromHex(fixtures::kH265Idr);  // VPS SPS PPS SEI IDR_N_LP
  return b;
}
const Bytes& P1() {
  static const Bytes b = FromHex(fixtures::kH265P1);
  return b;
}
const Bytes& P2() {
  static const Bytes b = FromHex(fixtures::kH265P2);
  return b;
}
const Bytes& Idr2() {
  static const Bytes b = FromHex(fixtures::kH265Idr2);
  return b;
}

unsigned TypeOf(const Bytes& nalOrPacket) { return (nalOrPacket.at(0) >> 1) & 0x3Fu; }

Bytes Without(const Bytes& frame, std::initializer_list<unsigned> types) {
  std::vector<Bytes> kept;
  for (const Bytes& n : NalsOf(frame)) {
    if (std::find(types.begin(), types.end(), TypeOf(n)) == types.end()) kept.push_back(n);
  }
  return AnnexB(kept);
}

// A NAL unit with the given type, LayerId and TID, and a body.
Bytes Nal(unsigned type, unsigned layer, unsigned tid, std::initializer_list<uint8_t> body) {
  Bytes n;
  n.push_back(static_cast<uint8_t>((type << 1) | (layer >> 5)));
  n.push_back(static_cast<uint8_t>(((layer & 0x1F) << 3) | tid));
  for (uint8_t b : body) n.push_back(b);  // (insert() trips a GCC 12 -Warray-bounds false alarm)
  return n;
}

std::vector<Bytes> RoundTrip(Packetizer& p, const Bytes& frame, size_t maxPayload,
                             bool* keyFrame = nullptr) {
  auto wire = Wire(PacketizeChecked(p, Shared(frame), maxPayload));
  Frame out = DepacketizeOk(H265Depacketizer(), wire);
  if (keyFrame) *keyFrame = out.keyFrame;
  CHECK(out.data == frame);
  return wire;
}

}  // namespace

TEST_CASE("H.265 round trip of real frames at many payload sizes") {
  for (size_t maxPayload : {size_t{4}, size_t{5}, size_t{16}, size_t{100}, size_t{1200},
                            size_t{1400}, size_t{65535}, size_t{1} << 20}) {
    CAPTURE(maxPayload);
    H265Packetizer p;
    H265Depacketizer d;
    for (const Bytes* frame : {&Idr(), &P1(), &P2(), &Idr2()}) {
      bool key = false;
      auto wire = RoundTrip(p, *frame, maxPayload, &key);
      CHECK(key == H265ContainsKeyFrame(*frame));
      bool anyKey = false;
      for (size_t i = 0; i < wire.size(); ++i) {
        auto info = d.Inspect(wire[i]);
        REQUIRE(info.ok());
        const bool continuation = TypeOf(wire[i]) == 49 && (wire[i][2] & 0x80) == 0;
        CHECK(info.value().startsUnit == !continuation);
        // One slice segment per picture: every NAL unit start is a prefix one or a first slice.
        CHECK(info.value().startsFrame == info.value().startsUnit);
        anyKey = anyKey || info.value().keyFrame;
      }
      CHECK(anyKey == key);
    }
    CHECK(p.parameterSetsInserted() == 0);
  }
  CHECK(H265ContainsKeyFrame(Idr()));
  CHECK_FALSE(H265ContainsKeyFrame(P1()));
}

TEST_CASE("H.265 at 1200 bytes: VPS+SPS+PPS in one AP, large NAL units in FUs") {
  H265Packetizer p;
  auto frame = Shared(Idr());
  auto payloads = PacketizeChecked(p, frame, 1200);
  auto wire = Wire(payloads);
  const auto nals = NalsOf(Idr());
  REQUIRE(nals.size() == 5);
  REQUIRE(nals[3].size() > 1200);  // the x265 SEI with its settings string

  // AP (RFC 7798 §4.4.2): payload header type 48 (LayerId 0, TID 1), then size + NAL each.
  Bytes ap = {48 << 1, 0x01};
  for (size_t i = 0; i < 3; ++i) {
    ap.push_back(static_cast<uint8_t>(nals[i].size() >> 8));
    ap.push_back(static_cast<uint8_t>(nals[i].size()));
    ap.insert(ap.end(), nals[i].begin(), nals[i].end());
  }
  CHECK(wire[0] == ap);

  // Then FUs (§4.4.3) of the SEI and of the IDR: payload header type 49 with the NAL's LayerId
  // and TID, FU header S|E|FuType, and the NAL's bytes after its 2-byte header.
  size_t i = 1;
  for (size_t n = 3; n < 5; ++n) {
    const size_t body = nals[n].size() - 2;
    const size_t count = (body + 1196) / 1197;
    size_t carried = 0;
    for (size_t k = 0; k < count; ++k, ++i) {
      REQUIRE(i < wire.size());
      CHECK(wire[i][0] == ((nals[n][0] & 0x81) | (49 << 1)));
      CHECK(wire[i][1] == nals[n][1]);
      CHECK(wire[i][2] == ((k == 0 ? 0x80 : 0) | (k + 1 == count ? 0x40 : 0) | TypeOf(nals[n])));
      CHECK(payloads[i].source.get() == frame.get());
      CHECK(payloads[i].prefixSize == 3);
      carried += payloads[i].length;
    }
    CHECK(carried == body);
  }
  CHECK(i == wire.size());
}

TEST_CASE("H.265 AP header: F is ORed, LayerId and TID are the minimum") {
  H265Packetizer p;
  const Bytes a = Nal(39, 3, 2, {0x01, 0x02});
  Bytes b = Nal(1, 1, 4, {0x80, 0x03});
  b[0] |= 0x80;  // F
  auto wire = Wire(PacketizeChecked(p, Shared(AnnexB({a, b})), 1200));
  REQUIRE(wire.size() == 1);
  CHECK(wire[0][0] == (0x80 | (48 << 1)));
  CHECK(wire[0][1] == ((1 << 3) | 2));
  CHECK(DepacketizeOk(H265Depacketizer(), wire).data == AnnexB({a, b}));
}

TEST_CASE("H.265: an IRAP without VPS/SPS/PPS gets the cached ones in an AP ahead of it") {
  const auto nals = NalsOf(Idr());
  H265Packetizer p;
  RoundTrip(p, Idr(), 1200);
  RoundTrip(p, P1(), 1200);

  const Bytes bare = Without(Idr2(), {32, 33, 34});
  auto wire = Wire(PacketizeChecked(p, Shared(bare), 1200));
  CHECK(p.parameterSetsInserted() == 1);
  const auto idr2 = NalsOf(Idr2());
  // Inserted right before the slice, after the frame's SEI: VPS, SPS, PPS in order.
  CHECK(DepacketizeOk(H265Depacketizer(), wire).data ==
        AnnexB({idr2[3], nals[0], nals[1], nals[2], idr2[4]}));

  // The three are aggregated together (the SEI before them is too large to join them).
  bool sawAp = false;
  for (const Bytes& w : wire) {
    if (TypeOf(w) != 48) continue;
    sawAp = true;
    CHECK(w.size() == 2 + 6 + nals[0].size() + nals[1].size() + nals[2].size());
  }
  CHECK(sawAp);

  // With its own, no duplicate; an IRAP lacking only the PPS gets only the PPS.
  RoundTrip(p, Idr2(), 1200);
  CHECK(p.parameterSetsInserted() == 1);
  wire = Wire(PacketizeChecked(p, Shared(Without(Idr2(), {34})), 1200));
  CHECK(DepacketizeOk(H265Depacketizer(), wire).data ==
        AnnexB({idr2[0], idr2[1], idr2[3], idr2[2], idr2[4]}));
  CHECK(p.parameterSetsInserted() == 2);

  // Before any parameter set was seen: sent as is and counted.
  H265Packetizer fresh;
  RoundTrip(fresh, bare, 1200);
  CHECK(fresh.keyPicturesWithoutParameterSets() == 1);
}

TEST_CASE("H.265: length-prefixed input gives the same packets; AUD and filler are dropped") {
  const auto nals = NalsOf(Idr());
  H265Packetizer a, b;
  CHECK(Wire(PacketizeChecked(a, Shared(LengthPrefixed(nals, 4)), 1000)) ==
        Wire(PacketizeChecked(b, Shared(Idr()), 1000)));

  const Bytes aud = Nal(35, 0, 1, {0x50}), filler = Nal(38, 0, 1, {0xFF, 0x80});
  H265Packetizer c;
  auto wire = Wire(PacketizeChecked(c, Shared(AnnexB({aud, nals[0], filler, nals[4]})), 1200));
  CHECK(DepacketizeOk(H265Depacketizer(), wire).data == AnnexB({nals[0], nals[4]}));
}

TEST_CASE("H.265 packetizer errors") {
  H265Packetizer p;
  std::vector<RtpPayload> out;
  CHECK(p.Packetize(Shared(Idr()), 3, out).code() == "ERR_MEDIA_MAX_PAYLOAD");
  CHECK(p.Packetize(Shared({}), 1200, out).code() == "ERR_MEDIA_EMPTY_FRAME");
  // A 1-byte NAL unit cannot hold the 2-byte header.
  Status s = p.Packetize(Shared({0, 0, 0, 1, 0x40, 0, 0, 0, 1, 0x02, 0x01}), 1200, out);
  CHECK(s.code() == "ERR_H265_BAD_NAL");
  CHECK(s.message().find("offset 4") != std::string::npos);
  // RTP's own packet types in a frame.
  CHECK(p.Packetize(Shared(AnnexB({Nal(48, 0, 1, {0})})), 1200, out).code() == "ERR_H265_BAD_NAL");
  CHECK(p.Packetize(Shared(AnnexB({Nal(49, 0, 1, {0})})), 1200, out).code() == "ERR_H265_BAD_NAL");
  // TID 0 is forbidden, and a receiver refuses it.
  s = p.Packetize(Shared(AnnexB({Nal(1, 0, 0, {0x80})})), 1200, out);
  CHECK(s.code() == "ERR_H265_BAD_NAL");
  CHECK(s.message().find("TID 0") != std::string::npos);
  CHECK(out.empty());
}

TEST_CASE("H.265 depacketizer: malformed payloads are errors, not crashes") {
  struct Case {
    const char* name;
    std::vector<Bytes> payloads;
    const char* code;
  };
  const std::vector<Case> cases = {
      {"no payloads", {}, "ERR_MEDIA_EMPTY_FRAME"},
      {"padding only", {{}}, "ERR_MEDIA_EMPTY_FRAME"},
      {"1-byte payload", {{0x02}}, "ERR_H265_TRUNCATED"},
      {"TID 0", {{0x02, 0x00, 0xAF}}, "ERR_H265_BAD_NAL"},
      {"PACI", {{50 << 1, 0x01, 0x00, 0x00}}, "ERR_H265_UNSUPPORTED_PACKET"},
      {"type 63", {{63 << 1, 0x01, 0x00}}, "ERR_H265_UNSUPPORTED_PACKET"},
      {"AP header only", {{48 << 1, 0x01}}, "ERR_H265_TRUNCATED"},
      {"AP size past the end", {{48 << 1, 0x01, 0x00, 0x09, 0x40, 0x01}}, "ERR_H265_TRUNCATED"},
      {"AP half a size field",
       {{48 << 1, 0x01, 0x00, 0x02, 0x40, 0x01, 0x00}},
       "ERR_H265_TRUNCATED"},
      {"AP unit shorter than a header", {{48 << 1, 0x01, 0x00, 0x01, 0x40}}, "ERR_H265_TRUNCATED"},
      {"AP holding an FU", {{48 << 1, 0x01, 0x00, 0x02, 49 << 1, 0x01}}, "ERR_H265_BAD_NAL"},
      {"AP unit with TID 0", {{48 << 1, 0x01, 0x00, 0x02, 0x40, 0x00}}, "ERR_H265_BAD_NAL"},
      {"FU without FU header", {{49 << 1, 0x01}}, "ERR_H265_TRUNCATED"},
      {"FU middle without start", {{49 << 1, 0x01, 0x13, 0xAA}}, "ERR_H265_FU_SEQUENCE"},
      {"FU end without start", {{49 << 1, 0x01, 0x53, 0xAA}}, "ERR_H265_FU_SEQUENCE"},
      {"FU start twice",
       {{49 << 1, 0x01, 0x93, 0xAA}, {49 << 1, 0x01, 0x93, 0xBB}},
       "ERR_H265_FU_SEQUENCE"},
      {"FU without end", {{49 << 1, 0x01, 0x93, 0xAA}}, "ERR_H265_FU_SEQUENCE"},
      {"FU interrupted", {{49 << 1, 0x01, 0x93, 0xAA}, {0x02, 0x01, 0x80}}, "ERR_H265_FU_SEQUENCE"},
      {"FU type changes",
       {{49 << 1, 0x01, 0x93, 0xAA}, {49 << 1, 0x01, 0x41, 0xBB}},
       "ERR_H265_FU_SEQUENCE"},
      {"FU of an AP", {{49 << 1, 0x01, 0xB0, 0xAA}}, "ERR_H265_BAD_NAL"},
  };
  H265Depacketizer d;
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(ErrorCode(d, c.payloads) == c.code);
  }
}

TEST_CASE("H.265 depacketizer: FU header rebuilds the NAL header; padding is skipped") {
  H265Depacketizer d;
  // An IDR_W_RADL (19) with LayerId 0, TID 1, in two FUs with an empty payload between.
  Frame f = DepacketizeOk(
      d, {{49 << 1, 0x01, 0x80 | 19, 0xAF, 0x01}, {}, {49 << 1, 0x01, 0x40 | 19, 0x02}});
  CHECK(f.data == AnnexB({{19 << 1, 0x01, 0xAF, 0x01, 0x02}}));
  CHECK(f.keyFrame);
  // F and LayerId come from the payload header.
  f = DepacketizeOk(d, {{0x80 | (49 << 1) | 1, 0x0A, 0xC1, 0x55}});
  CHECK(f.data == AnnexB({{0x80 | (1 << 1) | 1, 0x0A, 0x55}}));
  CHECK_FALSE(f.keyFrame);
}

TEST_CASE("H.265 Inspect") {
  H265Depacketizer d;
  auto info = [&](const Bytes& p) {
    auto r = d.Inspect(p);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    return r.value();
  };
  CHECK(info({}).empty);
  PayloadInfo i = info(Nal(19, 0, 1, {0x80}));  // IDR, first slice segment
  CHECK(i.startsUnit);
  CHECK(i.startsFrame);
  CHECK(i.keyFrame);
  i = info(Nal(1, 0, 1, {0x40}));  // a later slice segment of a TRAIL_R picture
  CHECK(i.startsUnit);
  CHECK_FALSE(i.startsFrame);
  CHECK_FALSE(i.keyFrame);
  i = info({48 << 1, 0x01, 0x00, 0x03, 32 << 1, 0x01, 0x0C});  // AP starting with a VPS
  CHECK(i.startsFrame);
  CHECK(i.keyFrame);
  i = info({49 << 1, 0x01, 0x80 | 21, 0x80});  // FU start of a CRA
  CHECK(i.startsUnit);
  CHECK(i.startsFrame);
  CHECK(i.keyFrame);
  i = info({49 << 1, 0x01, 21, 0x00});  // and a middle fragment
  CHECK_FALSE(i.startsUnit);
  CHECK(i.keyFrame);
  CHECK(d.Inspect(Bytes{0x02}).status().code() == "ERR_H265_TRUNCATED");
  CHECK(d.Inspect(Bytes{50 << 1, 0x01}).status().code() == "ERR_H265_UNSUPPORTED_PACKET");
}
