// libFuzzer target for the jitter buffer (binding/core/media/jitter_buffer.h) with each
// depacketizer, and for the picture size and Opus TOC parsers the media streams run on what
// peers send. Not built by CMake. From the repository root:
//
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
//     -Ibinding/core test/fuzz/jitter_buffer_fuzz.cc binding/core/media/*.cc \
//     binding/core/rtp/*.cc binding/core/sdp/*.cc -o build/jitter_buffer_fuzz
//   mkdir -p build/jitter_buffer_corpus
//   ./build/jitter_buffer_fuzz -max_total_time=120 -max_len=4096 build/jitter_buffer_corpus \
//     test/fuzz/corpus/jitter_buffer
//
// Input layout: byte 0 picks the codec (low 3 bits), a small or large ring (bit 3), a short
// or long wait (bit 4); then records until the input ends: a signed sequence step, a signed
// timestamp step (in 1/50 s of the clock), flags (marker; padding only), a time step (ms), a
// payload length and that many payload bytes. Every payload is also given to the SPS / VP8 /
// Opus parsers.
//
// Properties checked (abort on violation): the bounds hold (packets, and bytes unless one
// packet alone is over them); the head never moves back once something was resolved; after
// Tick(now) no deadline is overdue; and a Tick past every deadline leaves nothing held (the
// buffer cannot stall).
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "media/audio_payload.h"
#include "media/audio_samples.h"
#include "media/h264_depacketizer.h"
#include "media/h265_depacketizer.h"
#include "media/jitter_buffer.h"
#include "media/video_size.h"
#include "media/vp8_depacketizer.h"

using namespace kvs;
using namespace kvs::media;

namespace {

void Check(bool ok) {
  if (!ok) abort();
}

struct Codec {
  sdp::Codec codec;
  uint32_t clock;
};

std::unique_ptr<Depacketizer> MakeDepacketizer(sdp::Codec c) {
  switch (c) {
    case sdp::Codec::kH264:
      return std::make_unique<H264Depacketizer>();
    case sdp::Codec::kH265:
      return std::make_unique<H265Depacketizer>();
    case sdp::Codec::kVp8:
      return std::make_unique<Vp8Depacketizer>();
    case sdp::Codec::kOpus:
      return std::make_unique<AudioDepacketizer>(AudioCodec::kOpus);
    case sdp::Codec::kPcmu:
      return std::make_unique<AudioDepacketizer>(AudioCodec::kPcmu);
    default:
      return std::make_unique<AudioDepacketizer>(AudioCodec::kPcma);
  }
}

void ParseSizes(ByteSpan p) {
  auto a = ParseH264SpsSize(p);
  if (a.ok()) Check(a.value().width > 0 && a.value().height > 0);
  auto b = ParseH265SpsSize(p);
  if (b.ok()) Check(b.value().width > 0 && b.value().height > 0);
  (void)ParseVp8FrameSize(p);  // any result is fine: only memory safety is at stake
  auto s = OpusPacketSamples(p);
  if (s.ok()) Check(s.value() <= 5760);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const Codec kCodecs[] = {{sdp::Codec::kH264, 90000}, {sdp::Codec::kH265, 90000},
                                  {sdp::Codec::kVp8, 90000},  {sdp::Codec::kOpus, 48000},
                                  {sdp::Codec::kPcmu, 8000},  {sdp::Codec::kPcma, 8000}};
  const Codec& codec = kCodecs[(data[0] & 7) % 6];
  JitterBufferConfig config;
  config.codec = codec.codec;
  config.clockRate = codec.clock;
  config.maxPackets = (data[0] & 8) != 0 ? 16 : 512;
  config.maxBytes = (data[0] & 8) != 0 ? 2000 : 1 << 20;
  config.missingWaitUs = (data[0] & 16) != 0 ? 30'000 : 2'000'000;
  auto depacketizer = MakeDepacketizer(codec.codec);
  JitterBuffer jb(config, *depacketizer);
  JitterBufferOutput out;

  const size_t capacity = config.maxPackets < 16 ? 16 : config.maxPackets;
  int64_t seq = 1000, ts = 90000, now = 0;
  int64_t lastHead = INT64_MIN;
  bool resolved = false;
  size_t at = 1;
  while (at + 5 <= size) {
    seq += static_cast<int8_t>(data[at]);
    ts += int64_t{static_cast<int8_t>(data[at + 1])} * codec.clock / 50;
    const uint8_t flags = data[at + 2];
    now += data[at + 3] * 1000;
    size_t len = data[at + 4];
    at += 5;
    if (len > size - at) len = size - at;
    const bool padding = (flags & 2) != 0;
    std::vector<uint8_t> datagram(data + at, data + at + len);
    at += len;
    ParseSizes(datagram);
    const size_t payload = padding ? 0 : datagram.size();
    out.Clear();
    (void)jb.Insert(seq, ts, (flags & 1) != 0, std::move(datagram), 0, payload, now, out);
    Check(jb.heldPackets() <= capacity);
    Check(jb.heldBytes() <= config.maxBytes || jb.heldPackets() == 1);
    resolved = resolved || !out.frames.empty() || !out.dropped.empty();
    if (resolved) {
      Check(lastHead == INT64_MIN || jb.head() >= lastHead);
      lastHead = jb.head();
    }
    for (const ReceivedFrame& f : out.frames) Check(!f.data.empty());
    if ((flags & 4) != 0) {
      out.Clear();
      jb.Tick(now, out);
      Check(jb.NextDeadlineUs() > now);
    }
  }
  // Nothing held survives its deadline.
  out.Clear();
  jb.Tick(now + config.missingWaitUs + 1, out);
  Check(jb.heldPackets() == 0);
  return 0;
}
