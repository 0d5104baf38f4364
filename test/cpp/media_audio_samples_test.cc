// Samples per audio payload (totalSamplesReceived): the Opus TOC byte (RFC 6716 §3.1) and G.711.
#include "media/audio_samples.h"

#include <doctest/doctest.h>

#include "media_stream_test_util.h"
#include "media_test_util.h"

using namespace kvs;
using namespace kvs::media;
using kvs::media::testing::FromHex;

namespace {
uint32_t Samples(std::vector<uint8_t> packet) {
  auto r = OpusPacketSamples(packet);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  return r.value();
}
}  // namespace

TEST_CASE("Opus TOC: each configuration's frame duration, times the frame count") {
  // RFC 6716 Table 2, config << 3 | code.
  struct Row {
    uint8_t config;
    uint32_t samples;
  };
  const Row rows[] = {
      {0, 480},  {1, 960},  {2, 1920}, {3, 2880},   // SILK NB 10/20/40/60 ms
      {4, 480},  {7, 2880}, {8, 480},  {11, 2880},  // SILK MB, WB
      {12, 480}, {13, 960}, {14, 480}, {15, 960},   // Hybrid SWB, FB
      {16, 120}, {17, 240}, {18, 480}, {19, 960},   // CELT NB 2.5/5/10/20 ms
      {28, 120}, {31, 960},                         // CELT FB
  };
  for (const Row& r : rows) {
    CAPTURE(r.config);
    const auto toc = static_cast<uint8_t>(r.config << 3);
    CHECK(Samples({toc}) == r.samples);                                   // code 0: one frame
    CHECK(Samples({static_cast<uint8_t>(toc | 1), 0}) == 2 * r.samples);  // code 1: two
    CHECK(Samples({static_cast<uint8_t>(toc | 2), 0}) == 2 * r.samples);  // code 2: two
  }
  // Code 3: M frames in the second byte (here 3 of 20 ms; 6 of 20 ms is the 120 ms limit).
  CHECK(Samples({0xFB, 0x03}) == 2880);
  CHECK(Samples({0xFB, 0x06}) == 5760);
}

TEST_CASE("Opus TOC: the committed samples are 20 ms each") {
  CHECK(Samples(FromHex(fixtures::kOpus1)) == 960);
  const auto sample =
      kvs::media::testing::ReadFile(kvs::media::testing::RepoPath("samples/opus/sample-001.opus"));
  CHECK(Samples(sample) == 960);
}

TEST_CASE("Opus TOC: malformed packets") {
  CHECK(OpusPacketSamples({}).status().code() == "ERR_OPUS_TRUNCATED");
  CHECK(OpusPacketSamples(FromHex("fb")).status().code() == "ERR_OPUS_TRUNCATED");
  CHECK(OpusPacketSamples(FromHex("fb00")).status().code() == "ERR_OPUS_INVALID");
  CHECK(OpusPacketSamples(FromHex("fb07")).status().code() == "ERR_OPUS_INVALID");  // 140 ms
}

TEST_CASE("G.711: one sample per byte; video has none") {
  const std::vector<uint8_t> twenty(160, 0xD5);
  CHECK(AudioPayloadSamples(sdp::Codec::kPcma, twenty).value() == 160);
  CHECK(AudioPayloadSamples(sdp::Codec::kPcmu, twenty).value() == 160);
  CHECK(AudioPayloadSamples(sdp::Codec::kH264, twenty).value() == 0);
}
