// Opus (RFC 7587) and G.711 (RFC 3551) payloads, with real libopus packets and G.711 frames
// (test/cpp/fixtures/media); and the codec factory of payload_formats.h.
#include <doctest/doctest.h>

#include <string>

#include "media/audio_payload.h"
#include "media/payload_formats.h"
#include "media_test_util.h"

using namespace kvs;
using namespace kvs::media;
using namespace kvs::media::testing;

TEST_CASE("Opus and G.711: one payload per frame, the frame itself, marker off") {
  struct Case {
    AudioCodec codec;
    std::vector<std::string_view> frames;
  };
  const std::vector<Case> cases = {
      {AudioCodec::kOpus, {fixtures::kOpus1, fixtures::kOpus2, fixtures::kOpus50}},
      {AudioCodec::kPcmu, {fixtures::kPcmu1, fixtures::kPcmu2}},
      {AudioCodec::kPcma, {fixtures::kPcma1, fixtures::kPcma2}},
  };
  for (const Case& c : cases) {
    CAPTURE(AudioCodecName(c.codec));
    AudioPacketizer p(c.codec);
    AudioDepacketizer d(c.codec);
    for (std::string_view hex : c.frames) {
      auto frame = Fixture(hex);
      for (size_t maxPayload : {frame->size(), size_t{1200}, size_t{1} << 20}) {
        auto payloads = PacketizeChecked(p, frame, maxPayload, /*video=*/false);
        REQUIRE(payloads.size() == 1);
        CHECK(payloads[0].source.get() == frame.get());
        CHECK(payloads[0].offset == 0);
        CHECK(payloads[0].prefixSize == 0);
        Frame out = DepacketizeOk(d, {{}, payloads[0].ToBytes(), {}});
        CHECK(out.data == *frame);
        CHECK(out.keyFrame);
      }
    }
  }
  // 20 ms of G.711 at 8 kHz is 160 bytes (media-facts.md).
  CHECK(FromHex(fixtures::kPcmu1).size() == 160);
}

TEST_CASE("Audio errors name both sizes; several payloads are refused") {
  AudioPacketizer p(AudioCodec::kOpus);
  std::vector<RtpPayload> out;
  Status s = p.Packetize(Fixture(fixtures::kOpus1), 79, out);  // an 80-byte packet
  CHECK(s.code() == "ERR_MEDIA_FRAME_TOO_LARGE");
  CHECK(s.message().find("80") != std::string::npos);
  CHECK(s.message().find("79") != std::string::npos);
  CHECK(p.Packetize(Shared({}), 1200, out).code() == "ERR_MEDIA_EMPTY_FRAME");
  CHECK(p.Packetize(nullptr, 1200, out).code() == "ERR_MEDIA_EMPTY_FRAME");
  CHECK(out.empty());

  AudioDepacketizer d(AudioCodec::kPcmu);
  CHECK(ErrorCode(d, {}) == "ERR_MEDIA_EMPTY_FRAME");
  CHECK(ErrorCode(d, {{}}) == "ERR_MEDIA_EMPTY_FRAME");
  CHECK(ErrorCode(d, {{0xFF}, {0x7F}}) == "ERR_AUDIO_MULTIPLE_PAYLOADS");

  auto empty = d.Inspect(ByteSpan());
  REQUIRE(empty.ok());
  CHECK(empty.value().empty);
  auto one = d.Inspect(Bytes{0xFF});
  REQUIRE(one.ok());
  CHECK(one.value().startsFrame);
  CHECK(one.value().keyFrame);
}

TEST_CASE("MakePacketizer / MakeDepacketizer give each codec its payload format") {
  struct Case {
    sdp::Codec codec;
    std::string_view frame;
    size_t payloads;  // at 1200 bytes
  };
  const std::vector<Case> cases = {
      {sdp::Codec::kH264, fixtures::kH264Idr, 5}, {sdp::Codec::kH265, fixtures::kH265Idr, 6},
      {sdp::Codec::kVp8, fixtures::kVp8Key, 7},   {sdp::Codec::kOpus, fixtures::kOpus1, 1},
      {sdp::Codec::kPcmu, fixtures::kPcmu1, 1},   {sdp::Codec::kPcma, fixtures::kPcma1, 1},
  };
  for (const Case& c : cases) {
    CAPTURE(sdp::InfoOf(c.codec).name);
    auto p = MakePacketizer(c.codec);
    auto d = MakeDepacketizer(c.codec);
    REQUIRE(p);
    REQUIRE(d);
    auto frame = Fixture(c.frame);
    const bool video = sdp::InfoOf(c.codec).kind == sdp::MediaKind::kVideo;
    auto wire = Wire(PacketizeChecked(*p, frame, 1200, video));
    CHECK(wire.size() == c.payloads);
    CHECK(DepacketizeOk(*d, wire).data == *frame);
  }
}
