// libFuzzer target for the RTP payload formats (binding/core/media): arbitrary payload sequences
// into every depacketizer and Inspect, and arbitrary frames into every packetizer with a
// round-trip property where the packetizer accepts the frame. Not built by CMake. From the
// repository root:
//
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
//     -Ibinding/core test/fuzz/depacketizer_fuzz.cc binding/core/media/*.cc \
//     -o build/depacketizer_fuzz
//   mkdir -p build/depacketizer_corpus
//   ./build/depacketizer_fuzz -max_total_time=120 -max_len=4096 build/depacketizer_corpus \
//     test/fuzz/corpus/depacketizer
//
// The seeds in test/fuzz/corpus/depacketizer are cut from the media fixtures
// (test/cpp/fixtures/media): short frames, two-frame inputs whose first frame leaves SPS/PPS for
// the second, and payload sequences (STAP-A/AP, FU, VP8 descriptors) for each codec.
//
// Input layout: byte 0 picks the codec (low 3 bits) and a payload size (the rest, with byte 1);
// bytes 2-3 where to cut the frames. The remaining bytes are read twice: as payloads (each a
// length byte and up to that many bytes) for the depacketizer, and cut in two frames for one
// packetizer (so that the first can leave parameter sets for the second).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "media/audio_payload.h"
#include "media/h264_depacketizer.h"
#include "media/h264_packetizer.h"
#include "media/h265_depacketizer.h"
#include "media/h265_packetizer.h"
#include "media/nal_units.h"
#include "media/vp8_depacketizer.h"
#include "media/vp8_packetizer.h"

using namespace kvs;
using namespace kvs::media;

namespace {

enum Codec { kH264, kH265, kVp8, kOpus, kPcmu, kPcma, kCodecs };

void Check(bool ok) {
  if (!ok) abort();
}

std::unique_ptr<Depacketizer> MakeDepacketizer(int c) {
  switch (c) {
    case kH264:
      return std::make_unique<H264Depacketizer>();
    case kH265:
      return std::make_unique<H265Depacketizer>();
    case kVp8:
      return std::make_unique<Vp8Depacketizer>();
    case kOpus:
      return std::make_unique<AudioDepacketizer>(AudioCodec::kOpus);
    case kPcmu:
      return std::make_unique<AudioDepacketizer>(AudioCodec::kPcmu);
    default:
      return std::make_unique<AudioDepacketizer>(AudioCodec::kPcma);
  }
}

// Depacketize and Inspect agree: what Depacketize accepts, Inspect accepts payload by payload,
// and a key frame shows in some payload's Inspect.
void FuzzDepacketizer(const Depacketizer& d, const std::vector<ByteSpan>& payloads, int codec) {
  auto frame = d.Depacketize(payloads);
  bool inspectOk = true, anyKey = false, anyData = false;
  for (const ByteSpan& p : payloads) {
    auto info = d.Inspect(p);
    if (!info.ok()) {
      inspectOk = false;
      continue;
    }
    Check(info.value().empty == (p.size == 0));
    if (info.value().empty) Check(!info.value().startsUnit && !info.value().keyFrame);
    anyKey = anyKey || info.value().keyFrame;
    anyData = anyData || p.size != 0;
  }
  if (!frame.ok()) return;
  Check(inspectOk && anyData && !frame.value().data.empty());
  if (frame.value().keyFrame) Check(anyKey);
  if (codec == kH264 || codec == kH265) {
    // The output is an Annex-B stream that splits back into NAL units.
    Check(SplitAnnexB(frame.value().data).ok());
  }
}

// A reference model of what the NAL packetizers send for frame 2 after frame 1: the frame's
// NAL units less the dropped ones, and, for a key picture, the parameter sets it lacks, taken
// from the last ones seen (frame 1 or frame 2 itself never counts for what frame 2 lacks), put
// before the first slice.
struct NalModel {
  bool h265;
  unsigned Type(const uint8_t* h) const { return h265 ? (h[0] >> 1) & 0x3Fu : h[0] & 0x1Fu; }
  bool Dropped(unsigned t) const { return h265 ? t == 35 || t == 38 : t == 9 || t == 12; }
  int Slot(unsigned t) const {
    if (h265) return t >= 32 && t <= 34 ? static_cast<int>(t - 32) : -1;
    return t == 7 ? 0 : t == 8 ? 1 : -1;
  }
  size_t Slots() const { return h265 ? 3 : 2; }
  bool Key(unsigned t) const { return h265 ? t >= 16 && t <= 21 : t == 5; }
  bool Vcl(unsigned t) const { return h265 ? t <= 31 : t >= 1 && t <= 5; }

  std::vector<std::vector<uint8_t>> cache = std::vector<std::vector<uint8_t>>(3);

  std::vector<uint8_t> Expected(ByteSpan frame) {
    auto split = SplitNalUnits(frame, NalFraming::kAuto);
    Check(split.ok());
    std::vector<std::vector<uint8_t>> nals;
    bool has[3] = {false, false, false}, key = false;
    size_t firstVcl = SIZE_MAX;
    for (const NalUnit& u : split.value()) {
      const uint8_t* p = frame.data + u.offset;
      const unsigned t = Type(p);
      if (Dropped(t)) continue;
      if (Slot(t) >= 0) has[Slot(t)] = true;
      key = key || Key(t);
      if (firstVcl == SIZE_MAX && Vcl(t)) firstVcl = nals.size();
      nals.emplace_back(p, p + u.length);
    }
    if (key) {
      std::vector<std::vector<uint8_t>> inserted;
      for (size_t s = 0; s < Slots(); ++s) {
        if (!has[s] && !cache[s].empty()) inserted.push_back(cache[s]);
      }
      nals.insert(nals.begin() + static_cast<std::ptrdiff_t>(firstVcl), inserted.begin(),
                  inserted.end());
    }
    for (const NalUnit& u : split.value()) {
      const uint8_t* p = frame.data + u.offset;
      if (Slot(Type(p)) >= 0) cache[Slot(Type(p))].assign(p, p + u.length);
    }
    std::vector<uint8_t> out;
    for (const auto& n : nals) AppendAnnexB(out, n);
    return out;
  }
};

std::unique_ptr<Packetizer> MakePacketizer(int c) {
  switch (c) {
    case kH264:
      return std::make_unique<H264Packetizer>();
    case kH265:
      return std::make_unique<H265Packetizer>();
    case kVp8:
      return std::make_unique<Vp8Packetizer>();
    case kOpus:
      return std::make_unique<AudioPacketizer>(AudioCodec::kOpus);
    case kPcmu:
      return std::make_unique<AudioPacketizer>(AudioCodec::kPcmu);
    default:
      return std::make_unique<AudioPacketizer>(AudioCodec::kPcma);
  }
}

// Packetizes frames in order with one packetizer; every accepted frame must come back from the
// depacketizer as the model says.
void FuzzPacketizer(int codec, const std::vector<SharedBytes>& frames, size_t maxPayload) {
  auto packetizer = MakePacketizer(codec);
  auto depacketizer = MakeDepacketizer(codec);
  NalModel model{codec == kH265};
  const bool video = codec == kH264 || codec == kH265 || codec == kVp8;
  for (const SharedBytes& frame : frames) {
    std::vector<RtpPayload> payloads(1);  // the packetizer appends
    Status s = packetizer->Packetize(frame, maxPayload, payloads);
    if (!s.ok()) {
      Check(payloads.size() == 1);
      continue;
    }
    std::vector<std::vector<uint8_t>> wire;
    for (size_t i = 1; i < payloads.size(); ++i) {
      const RtpPayload& p = payloads[i];
      Check(p.size() <= maxPayload && p.size() > 0);
      Check(p.marker == (video && i + 1 == payloads.size()));
      Check(p.source && p.offset + static_cast<size_t>(p.length) <= p.source->size());
      wire.push_back(p.ToBytes());
    }
    const std::vector<ByteSpan> spans(wire.begin(), wire.end());
    if (codec == kH264 || codec == kH265) {
      const std::vector<uint8_t> expected = model.Expected(*frame);
      if (expected.empty()) {
        Check(wire.empty());  // nothing but AUD / filler
        continue;
      }
      auto back = depacketizer->Depacketize(spans);
      Check(back.ok() && back.value().data == expected);
      Check(back.value().keyFrame ==
            (codec == kH264 ? H264ContainsKeyFrame(*frame) : H265ContainsKeyFrame(*frame)));
    } else {
      auto back = depacketizer->Depacketize(spans);
      Check(back.ok() && back.value().data == *frame);
      if (codec == kVp8) Check(back.value().keyFrame == Vp8IsKeyFrame(*frame));
    }
    for (size_t i = 0; i < spans.size(); ++i) {
      auto info = depacketizer->Inspect(spans[i]);
      Check(info.ok());
      if (i == 0) Check(info.value().startsUnit);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const int codec = (data[0] & 7) % kCodecs;
  const unsigned sizeSel = (static_cast<unsigned>(data[0] >> 3) << 8) | data[1];
  // Mostly small payload sizes (every NAL unit fragmented), some MTU-like, a few huge.
  const size_t maxPayload = sizeSel < 6000 ? 1 + sizeSel % 300 : sizeSel < 7900 ? 1200 : 1 << 20;
  const ByteSpan rest(data + 4, size - 4);

  // Depacketizing: the rest as length-prefixed payloads (a short last one is cut).
  std::vector<ByteSpan> payloads;
  ByteReader r(rest);
  while (r.remaining() > 0) {
    const size_t n = r.u8();
    payloads.push_back(r.bytes(n < r.remaining() ? n : r.remaining()));
  }
  FuzzDepacketizer(*MakeDepacketizer(codec), payloads, codec);
  // And the rest as one payload.
  FuzzDepacketizer(*MakeDepacketizer(codec), {rest}, codec);

  // Packetizing: the rest as two frames, cut where bytes 2-3 say.
  const size_t cut = ((static_cast<size_t>(data[2]) << 8) | data[3]) % (rest.size + 1);
  std::vector<SharedBytes> frames = {
      MakeShared(std::vector<uint8_t>(rest.data, rest.data + cut)),
      MakeShared(std::vector<uint8_t>(rest.data + cut, rest.data + rest.size)),
  };
  FuzzPacketizer(codec, frames, maxPayload);
  return 0;
}
