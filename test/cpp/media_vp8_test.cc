// VP8 over RTP (RFC 7741): the packetizer, descriptor parsing of every allowed form, the
// depacketizer, and round trips of real libvpx frames (test/cpp/fixtures/media).
#include <doctest/doctest.h>

#include <string>

#include "media/vp8_depacketizer.h"
#include "media/vp8_packetizer.h"
#include "media_test_util.h"

using namespace kvs;
using namespace kvs::media;
using namespace kvs::media::testing;

namespace {

std::vector<Bytes> Frames() {
  return {FromHex(fixtures::kVp8Key), FromHex(fixtures::kVp8Inter1), FromHex(fixtures::kVp8Inter2),
          FromHex(fixtures::kVp8Key2)};
}

Vp8Descriptor Parse(const Bytes& payload) {
  auto r = ParseVp8Descriptor(payload);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  return r.value();
}

}  // namespace

TEST_CASE("VP8 round trip of real frames at many payload sizes") {
  for (size_t maxPayload : {size_t{5}, size_t{6}, size_t{64}, size_t{1200}, size_t{1400},
                            size_t{65535}, size_t{1} << 20}) {
    CAPTURE(maxPayload);
    Vp8Packetizer p;
    Vp8Depacketizer d;
    for (const Bytes& frame : Frames()) {
      auto payloads = PacketizeChecked(p, Shared(frame), maxPayload);
      auto wire = Wire(payloads);
      Frame out = DepacketizeOk(d, wire);
      CHECK(out.data == frame);
      CHECK(out.keyFrame == Vp8IsKeyFrame(frame));
      // Even split: the slices differ by at most one byte.
      size_t lo = SIZE_MAX, hi = 0;
      for (const RtpPayload& rp : payloads) {
        lo = std::min<size_t>(lo, rp.length);
        hi = std::max<size_t>(hi, rp.length);
      }
      CHECK(hi - lo <= 1);
      for (size_t i = 0; i < wire.size(); ++i) {
        auto info = d.Inspect(wire[i]);
        REQUIRE(info.ok());
        CHECK(info.value().startsFrame == (i == 0));
        CHECK(info.value().startsUnit == (i == 0));
        CHECK(info.value().keyFrame == (i == 0 && out.keyFrame));
      }
    }
  }
  CHECK(Vp8IsKeyFrame(FromHex(fixtures::kVp8Key)));
  CHECK_FALSE(Vp8IsKeyFrame(FromHex(fixtures::kVp8Inter1)));
}

TEST_CASE("VP8 descriptor: X=1, I=1, M=1, 15-bit PictureID per frame, S on the first packet") {
  Vp8PacketizerOptions options;
  options.initialPictureId = 0x7FFE;
  Vp8Packetizer p(options);
  auto frame = Shared(FromHex(fixtures::kVp8Key));  // 7363 bytes
  auto payloads = PacketizeChecked(p, frame, 1200);
  REQUIRE(payloads.size() == 7);  // ceil(7363 / 1196)
  auto wire = Wire(payloads);
  CHECK(Bytes(wire[0].begin(), wire[0].begin() + 4) == Bytes{0x90, 0x80, 0xFF, 0xFE});
  for (size_t i = 1; i < wire.size(); ++i) {
    CHECK(Bytes(wire[i].begin(), wire[i].begin() + 4) == Bytes{0x80, 0x80, 0xFF, 0xFE});
  }
  for (const RtpPayload& rp : payloads) {
    CHECK(rp.source.get() == frame.get());  // slices of the frame
    CHECK(rp.prefixSize == 4);
  }
  // 7363 = 7 x 1051 + 6: six slices of 1052, one of 1051.
  CHECK(payloads[0].length == 1052);
  CHECK(payloads[6].length == 1051);
  CHECK(payloads[6].offset == 7363 - 1051);

  // The PictureID increments per frame and wraps at 15 bits.
  CHECK(p.nextPictureId() == 0x7FFF);
  wire = Wire(PacketizeChecked(p, Shared(FromHex(fixtures::kVp8Inter1)), 1200));
  CHECK(Bytes(wire[0].begin(), wire[0].begin() + 4) == Bytes{0x90, 0x80, 0xFF, 0xFF});
  wire = Wire(PacketizeChecked(p, Shared(FromHex(fixtures::kVp8Inter2)), 1200));
  CHECK(Bytes(wire[0].begin(), wire[0].begin() + 4) == Bytes{0x90, 0x80, 0x80, 0x00});
  CHECK(p.nextPictureId() == 1);
}

TEST_CASE("VP8 packetizer errors") {
  Vp8Packetizer p;
  std::vector<RtpPayload> out;
  CHECK(p.Packetize(Shared({}), 1200, out).code() == "ERR_MEDIA_EMPTY_FRAME");
  CHECK(p.Packetize(nullptr, 1200, out).code() == "ERR_MEDIA_EMPTY_FRAME");
  CHECK(p.Packetize(Shared({0x00}), 4, out).code() == "ERR_MEDIA_MAX_PAYLOAD");
  CHECK(out.empty());
  CHECK(p.nextPictureId() == 0);  // failures use no PictureID
}

TEST_CASE("VP8 descriptor forms of RFC 7741 §4.2, byte by byte") {
  // X=0: one byte, no extension. N=0, S=1, PID=0.
  Vp8Descriptor d = Parse({0x10, 0xAA});
  CHECK(d.size == 1);
  CHECK(d.start);
  CHECK(d.partitionId == 0);
  CHECK_FALSE(d.pictureId);

  // X=1, I=1, M=0: a 7-bit PictureID.
  d = Parse({0x90, 0x80, 0x12, 0xAA});
  CHECK(d.size == 3);
  REQUIRE(d.pictureId);
  CHECK(*d.pictureId == 0x12);
  CHECK_FALSE(d.pictureId15Bits);

  // X=1, I=1, M=1: a 15-bit PictureID.
  d = Parse({0x90, 0x80, 0x81, 0x23, 0xAA});
  CHECK(d.size == 4);
  CHECK(*d.pictureId == 0x0123);
  CHECK(d.pictureId15Bits);

  // X=1, L=1, T=1: TL0PICIDX, then TID=2, Y=1 (KEYIDX bits ignored without K).
  d = Parse({0x90, 0x60, 0x05, 0xA0 | 0x07, 0xAA});
  CHECK(d.size == 4);
  CHECK(*d.tl0PicIdx == 5);
  CHECK(*d.tid == 2);
  CHECK(d.layerSync);
  CHECK_FALSE(d.keyIdx);

  // X=1, K=1 only: the TID/Y/KEYIDX byte with KEYIDX 3.
  d = Parse({0x90, 0x10, 0x03, 0xAA});
  CHECK(d.size == 3);
  CHECK(*d.keyIdx == 3);
  CHECK_FALSE(d.tid);

  // Everything: I (M=1), L, T, K; N=1; a partition start with PID 2.
  d = Parse({0xB2 | 0x10, 0xF0, 0xFF, 0xFF, 0x09, 0x5F, 0xAA, 0xBB});
  CHECK(d.size == 6);
  CHECK(d.nonReference);
  CHECK(d.start);
  CHECK(d.partitionId == 2);
  CHECK(*d.pictureId == 0x7FFF);
  CHECK(*d.tl0PicIdx == 9);
  CHECK(*d.tid == 1);
  CHECK_FALSE(d.layerSync);
  CHECK(*d.keyIdx == 0x1F);

  // X=1 with none of I, L, T, K: two bytes.
  CHECK(Parse({0x90, 0x00, 0xAA}).size == 2);
  // Reserved bits are ignored.
  CHECK(Parse({0xD8 | 0x10, 0x8F, 0x01, 0xAA}).size == 3);
}

TEST_CASE("VP8 depacketizer strips every descriptor form and concatenates") {
  Vp8Depacketizer d;
  // A key frame (P bit 0) in three packets, each with a different descriptor form, with
  // padding-only payloads between.
  Frame f = DepacketizeOk(d, {{0x90, 0x80, 0x81, 0x23, 0x50, 0x01},
                              {},
                              {0x80, 0xC0, 0x81, 0x23, 0x07, 0x02, 0x03},
                              {0x80, 0xF0, 0x81, 0x23, 0x07, 0x40, 0x04}});
  CHECK(f.data == Bytes{0x50, 0x01, 0x02, 0x03, 0x04});
  CHECK(f.keyFrame);
  // An inter frame, 7-bit PictureID; a packet with no PictureID at all; a packet that starts
  // partition 1.
  f = DepacketizeOk(d, {{0x90, 0x80, 0x05, 0x31}, {0x00, 0x32}, {0x91, 0x80, 0x05, 0x33}});
  CHECK(f.data == Bytes{0x31, 0x32, 0x33});
  CHECK_FALSE(f.keyFrame);
}

TEST_CASE("VP8 depacketizer: malformed payloads are errors, not crashes") {
  struct Case {
    const char* name;
    std::vector<Bytes> payloads;
    const char* code;
  };
  const std::vector<Case> cases = {
      {"no payloads", {}, "ERR_MEDIA_EMPTY_FRAME"},
      {"padding only", {{}, {}}, "ERR_MEDIA_EMPTY_FRAME"},
      {"descriptor only", {{0x10}}, "ERR_VP8_TRUNCATED"},
      {"X without its byte", {{0x90}}, "ERR_VP8_TRUNCATED"},
      {"I without PictureID", {{0x90, 0x80}}, "ERR_VP8_TRUNCATED"},
      {"M without the second byte", {{0x90, 0x80, 0x81}}, "ERR_VP8_TRUNCATED"},
      {"L without TL0PICIDX", {{0x90, 0x40}}, "ERR_VP8_TRUNCATED"},
      {"T without its byte", {{0x90, 0x20}}, "ERR_VP8_TRUNCATED"},
      {"all fields, no data", {{0x90, 0xF0, 0x81, 0x23, 0x07, 0x40}}, "ERR_VP8_TRUNCATED"},
      {"first packet not a start", {{0x80, 0x80, 0x05, 0x31}}, "ERR_VP8_FRAME_START"},
      {"first packet starts partition 1", {{0x91, 0x80, 0x05, 0x31}}, "ERR_VP8_FRAME_START"},
      {"a second frame start",
       {{0x90, 0x80, 0x05, 0x31}, {0x90, 0x80, 0x05, 0x32}},
       "ERR_VP8_FRAME_START"},
      {"PictureID changes",
       {{0x90, 0x80, 0x05, 0x31}, {0x80, 0x80, 0x06, 0x32}},
       "ERR_VP8_PICTURE_ID"},
      {"PictureID width changes",
       {{0x90, 0x80, 0x05, 0x31}, {0x80, 0x80, 0x80, 0x05, 0x32}},
       "ERR_VP8_PICTURE_ID"},
      {"a later packet truncated", {{0x90, 0x80, 0x05, 0x31}, {0x80, 0x80}}, "ERR_VP8_TRUNCATED"},
  };
  Vp8Depacketizer d;
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(ErrorCode(d, c.payloads) == c.code);
  }
}

TEST_CASE("VP8 Inspect") {
  Vp8Depacketizer d;
  auto info = [&](const Bytes& p) {
    auto r = d.Inspect(p);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    return r.value();
  };
  CHECK(info({}).empty);
  PayloadInfo i = info({0x90, 0x80, 0x05, 0x50});  // start of a key frame
  CHECK(i.startsFrame);
  CHECK(i.startsUnit);
  CHECK(i.keyFrame);
  i = info({0x10, 0x51});  // start of an inter frame
  CHECK(i.startsFrame);
  CHECK_FALSE(i.keyFrame);
  i = info({0x12, 0x50});  // start of partition 2: a unit, not a frame
  CHECK(i.startsUnit);
  CHECK_FALSE(i.startsFrame);
  CHECK_FALSE(i.keyFrame);
  i = info({0x00, 0x50});  // a continuation
  CHECK_FALSE(i.startsUnit);
  CHECK_FALSE(i.keyFrame);
  CHECK(d.Inspect(Bytes{0x90, 0x80}).status().code() == "ERR_VP8_TRUNCATED");
}
