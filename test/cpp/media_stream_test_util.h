// Helpers shared by the media stream tests (media_send_stream_test.cc, media_receive_*,
// media_loop_test.cc...): a seeded random source, the committed sample frames, packets as
// wire bytes, and a fake clock.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "media/outgoing_rtp_packet.h"
#include "media/rtp_payload.h"
#include "media/stream_common.h"

namespace kvs::media::testing {

// xorshift64*: deterministic, good enough for intervals and loss patterns.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed == 0 ? 0x9E3779B97F4A7C15ull : seed) {}
  uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) / 9007199254740992.0; }
  bool Chance(double p) { return Uniform() < p; }

 private:
  uint64_t state_;
};

inline RandomSource SeededRandom(uint64_t seed) {
  auto rng = std::make_shared<Rng>(seed);
  return [rng](uint8_t* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(rng->Next() >> 56);
  };
}

// A random source that always yields the same byte: the SR/RR intervals then come out at a
// fixed point of their range (0x00: the minimum).
inline RandomSource ConstantRandom(uint8_t byte) {
  return [byte](uint8_t* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = byte;
  };
}

// The repository root, from this file's path (CMake compiles with absolute paths).
inline std::string RepoPath(const std::string& relative) {
  std::string here = __FILE__;
  const auto cut = here.rfind("test/cpp/");
  REQUIRE_MESSAGE(cut != std::string::npos, "cannot find the repository from " << here);
  return here.substr(0, cut) + relative;
}

inline std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "cannot read " << path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// samples/h264/frame-0001.h264 ... frame-0250.h264: 640x480 Constrained Baseline, 25 fps, an
// IDR (with SPS/PPS) every 25 frames. Frame n (1-based) of a longer stream repeats them.
inline const std::vector<SharedBytes>& SampleH264Frames() {
  static const std::vector<SharedBytes> frames = [] {
    std::vector<SharedBytes> out;
    for (int i = 1; i <= 250; ++i) {
      char name[64];
      std::snprintf(name, sizeof name, "samples/h264/frame-%04d.h264", i);
      out.push_back(MakeShared(ReadFile(RepoPath(name))));
    }
    return out;
  }();
  return frames;
}

inline std::vector<uint8_t> Wire(const OutgoingRtpPacket& p) {
  std::vector<uint8_t> out(p.size());
  p.WriteTo(out.data());
  return out;
}

inline uint16_t SeqOf(const std::vector<uint8_t>& rtp) {
  return static_cast<uint16_t>(rtp[2] << 8 | rtp[3]);
}

}  // namespace kvs::media::testing
