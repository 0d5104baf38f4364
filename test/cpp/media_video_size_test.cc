// Picture sizes from H.264 / H.265 SPS and VP8 key frames: the committed ffmpeg frames, and
// SPSs written field by field here (cropping, High profile scaling lists, POC type 1, fields,
// sub-layers, emulation prevention), and malformed input.
#include "media/video_size.h"

#include <doctest/doctest.h>

#include "media/bit_reader.h"
#include "media/nal_units.h"
#include "media_stream_test_util.h"
#include "media_test_util.h"

using namespace kvs;
using namespace kvs::media;
using kvs::media::testing::FromHex;

namespace {

// Writes RBSP bits, then the NAL unit with emulation prevention (H.264 §7.4.1).
class BitWriter {
 public:
  void U(unsigned n, uint64_t v) {
    for (unsigned i = n; i-- > 0;) Bit(i < 64 ? (v >> i) & 1 : 0);
  }
  void Ue(uint32_t v) {
    const uint64_t x = uint64_t{v} + 1;
    unsigned bits = 0;
    while ((x >> bits) > 1) ++bits;
    U(bits, 0);
    U(bits + 1, x);
  }
  void Se(int64_t v) { Ue(static_cast<uint32_t>(v > 0 ? 2 * v - 1 : -2 * v)); }
  std::vector<uint8_t> Nal(std::vector<uint8_t> header) {
    Bit(1);  // rbsp_stop_one_bit
    while (bits_ != 0) Bit(0);
    std::vector<uint8_t> out = std::move(header);
    int zeros = 0;
    for (uint8_t b : rbsp_) {
      if (zeros >= 2 && b <= 3) {
        out.push_back(3);
        zeros = 0;
      }
      out.push_back(b);
      zeros = b == 0 ? zeros + 1 : 0;
    }
    return out;
  }

 private:
  void Bit(uint64_t b) {
    cur_ = static_cast<uint8_t>(cur_ << 1 | (b & 1));
    if (++bits_ == 8) {
      rbsp_.push_back(cur_);
      cur_ = 0;
      bits_ = 0;
    }
  }
  std::vector<uint8_t> rbsp_;
  uint8_t cur_ = 0;
  unsigned bits_ = 0;
};

struct H264Sps {
  uint32_t profileIdc = 66;
  uint32_t levelIdc = 40;
  uint32_t chromaFormatIdc = 1;
  bool scalingMatrix = false;
  uint32_t pocType = 0;
  uint32_t widthMbs = 40, heightMapUnits = 30;
  bool frameMbsOnly = true;
  uint32_t cropLeft = 0, cropRight = 0, cropTop = 0, cropBottom = 0;
};

std::vector<uint8_t> WriteH264Sps(const H264Sps& s) {
  BitWriter w;
  w.U(8, s.profileIdc);
  w.U(8, 0);  // constraint flags
  w.U(8, s.levelIdc);
  w.Ue(0);  // sps id
  if (s.profileIdc == 100) {
    w.Ue(s.chromaFormatIdc);
    if (s.chromaFormatIdc == 3) w.U(1, 0);
    w.Ue(0);
    w.Ue(0);
    w.U(1, 0);
    w.U(1, s.scalingMatrix);
    if (s.scalingMatrix) {
      for (int i = 0; i < 8; ++i) {
        w.U(1, 1);  // list present
        const int size = i < 6 ? 16 : 64;
        for (int j = 0; j < size; ++j) w.Se(j == 0 ? 8 : 1);  // 16, 17, 18...
      }
    }
  }
  w.Ue(0);  // log2_max_frame_num_minus4
  w.Ue(s.pocType);
  if (s.pocType == 0) {
    w.Ue(2);
  } else if (s.pocType == 1) {
    w.U(1, 0);
    w.Se(-3);
    w.Se(5);
    w.Ue(3);
    w.Se(1);
    w.Se(-1);
    w.Se(2);
  }
  w.Ue(1);    // max_num_ref_frames
  w.U(1, 0);  // gaps
  w.Ue(s.widthMbs - 1);
  w.Ue(s.heightMapUnits - 1);
  w.U(1, s.frameMbsOnly);
  if (!s.frameMbsOnly) w.U(1, 0);
  w.U(1, 1);  // direct_8x8_inference
  const bool crop = s.cropLeft || s.cropRight || s.cropTop || s.cropBottom;
  w.U(1, crop);
  if (crop) {
    w.Ue(s.cropLeft);
    w.Ue(s.cropRight);
    w.Ue(s.cropTop);
    w.Ue(s.cropBottom);
  }
  w.U(1, 0);  // vui_parameters_present_flag
  return w.Nal({0x67});
}

VideoSize Ok(Result<VideoSize> r) {
  REQUIRE_MESSAGE(r.ok(), r.status().code() << ": " << r.status().message());
  return r.value();
}

std::vector<uint8_t> FirstNalOfType(const std::vector<uint8_t>& annexB, bool h265, unsigned type) {
  auto split = SplitAnnexB(annexB);
  REQUIRE(split.ok());
  for (const NalUnit& u : split.value()) {
    const uint8_t h = annexB[u.offset];
    if ((h265 ? (h >> 1) & 0x3F : h & 0x1F) == type) {
      return {annexB.begin() + u.offset, annexB.begin() + u.offset + u.length};
    }
  }
  FAIL("no NAL unit of type " << type);
  return {};
}

}  // namespace

TEST_CASE("VideoSize: the committed ffmpeg frames") {
  const auto& frames = kvs::media::testing::SampleH264Frames();
  CHECK(Ok(ParseH264SpsSize(FirstNalOfType(*frames[0], false, 7))) == VideoSize{640, 480});
  CHECK(Ok(ParseH264SpsSize(FirstNalOfType(FromHex(fixtures::kH264Idr), false, 7))) ==
        VideoSize{320, 240});
  CHECK(Ok(ParseH265SpsSize(FirstNalOfType(FromHex(fixtures::kH265Idr), true, 33))) ==
        VideoSize{320, 240});
  CHECK(Ok(ParseVp8FrameSize(FromHex(fixtures::kVp8Key))) == VideoSize{320, 240});
  CHECK(ParseVp8FrameSize(FromHex(fixtures::kVp8Inter1)).status().code() ==
        "ERR_VP8_NOT_KEY_FRAME");
}

TEST_CASE("VideoSize: H.264 SPS fields that move the size") {
  H264Sps s;
  CHECK(Ok(ParseH264SpsSize(WriteH264Sps(s))) == VideoSize{640, 480});
  SUBCASE("1080p: 1088 lines cropped by 4 (in 2-line units for 4:2:0)") {
    s.widthMbs = 120;
    s.heightMapUnits = 68;
    s.cropBottom = 4;
    CHECK(Ok(ParseH264SpsSize(WriteH264Sps(s))) == VideoSize{1920, 1080});
  }
  SUBCASE("High profile with scaling matrices before the size") {
    s.profileIdc = 100;
    s.scalingMatrix = true;
    s.widthMbs = 80;
    s.heightMapUnits = 45;
    CHECK(Ok(ParseH264SpsSize(WriteH264Sps(s))) == VideoSize{1280, 720});
  }
  SUBCASE("High 4:4:4 crops in luma units") {
    s.profileIdc = 100;
    s.chromaFormatIdc = 3;
    s.cropRight = 3;
    CHECK(Ok(ParseH264SpsSize(WriteH264Sps(s))) == VideoSize{637, 480});
  }
  SUBCASE("POC type 1 with its offsets") {
    s.pocType = 1;
    CHECK(Ok(ParseH264SpsSize(WriteH264Sps(s))) == VideoSize{640, 480});
  }
  SUBCASE("field coding: map units are two macroblock rows") {
    s.frameMbsOnly = false;
    s.heightMapUnits = 15;
    s.cropBottom = 2;  // the crop unit is SubHeightC 2 * 2 fields: 8 lines
    CHECK(Ok(ParseH264SpsSize(WriteH264Sps(s))) == VideoSize{640, 472});
  }
}

TEST_CASE("VideoSize: malformed SPS are errors, never crashes") {
  auto nal = WriteH264Sps({});
  for (size_t n = 0; n < nal.size() - 1; ++n) {
    auto r = ParseH264SpsSize(ByteSpan(nal.data(), n));
    CHECK_FALSE(r.ok());
  }
  H264Sps crop;
  crop.cropRight = 400;  // 800 columns of 640
  CHECK(ParseH264SpsSize(WriteH264Sps(crop)).status().code() == "ERR_SPS_INVALID");
  H264Sps huge;
  huge.widthMbs = 5000;
  CHECK(ParseH264SpsSize(WriteH264Sps(huge)).status().code() == "ERR_SPS_INVALID");
  CHECK(ParseH264SpsSize(FromHex("68ce3c80")).status().code() == "ERR_SPS_INVALID");  // a PPS
  CHECK(ParseH265SpsSize(FromHex("4201")).status().code() == "ERR_SPS_TRUNCATED");
  CHECK(ParseH265SpsSize(FromHex("4001")).status().code() == "ERR_SPS_INVALID");  // a VPS
  // An exp-Golomb code of 40 leading zeros.
  CHECK_FALSE(ParseH264SpsSize(FromHex("6742c01f0000000000ff")).ok());
  CHECK(ParseVp8FrameSize(FromHex("506d009d012a40")).status().code() == "ERR_VP8_TRUNCATED");
  CHECK(ParseVp8FrameSize(FromHex("506d00aabbcc4001f000")).status().code() == "ERR_VP8_INVALID");
}

TEST_CASE("VideoSize: H.265 SPS with sub-layers and a conformance window") {
  BitWriter w;
  w.U(4, 0);  // vps id
  w.U(3, 2);  // max_sub_layers_minus1
  w.U(1, 1);
  w.U(88, 0);     // general profile (in two writes: U takes up to 64 bits)
  w.U(8, 120);    // general_level_idc
  w.U(1, 1);      // sub-layer 0: profile present
  w.U(1, 1);      //              level present
  w.U(1, 0);      // sub-layer 1: no profile
  w.U(1, 1);      //              level present
  w.U(2 * 6, 0);  // reserved_zero_2bits for i = 2..7
  w.U(88, 0);     // sub-layer 0 profile
  w.U(8, 90);     // sub-layer 0 level
  w.U(8, 93);     // sub-layer 1 level
  w.Ue(0);        // sps id
  w.Ue(1);        // 4:2:0
  w.Ue(1920);
  w.Ue(1088);
  w.U(1, 1);  // conformance window
  w.Ue(0);
  w.Ue(0);
  w.Ue(0);
  w.Ue(4);  // 8 lines at SubHeightC 2
  auto nal = w.Nal({0x42, 0x01});
  CHECK(Ok(ParseH265SpsSize(nal)) == VideoSize{1920, 1080});
}

TEST_CASE("RbspBitReader: exp-Golomb values and the error flag") {
  BitWriter w;
  for (uint32_t v : {0u, 1u, 2u, 7u, 255u, 65535u, 0xFFFFFFFEu}) w.Ue(v);
  for (int64_t v : {0, 1, -1, 2, -2, 1000, -1000}) w.Se(v);
  auto nal = w.Nal({0x00});
  RbspBitReader r(ByteSpan(nal).sub(1, nal.size() - 1));
  for (uint32_t v : {0u, 1u, 2u, 7u, 255u, 65535u, 0xFFFFFFFEu}) CHECK(r.Ue() == v);
  for (int64_t v : {0, 1, -1, 2, -2, 1000, -1000}) CHECK(r.Se() == v);
  CHECK(r.ok());
  CHECK(r.Flag());  // rbsp_stop_one_bit, then at most 7 alignment bits
  (void)r.Bits(8);
  CHECK_FALSE(r.ok());
  CHECK(r.Ue() == 0);
}

TEST_CASE("RbspBitReader: emulation prevention bytes are not part of the RBSP") {
  // 00 00 03 01 is RBSP 00 00 01; 00 00 03 03 keeps the second 03 (it follows a removed one).
  const std::vector<uint8_t> nal = {0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x03, 0xAB};
  RbspBitReader r(nal);
  CHECK(r.Bits(8) == 0x00);
  CHECK(r.Bits(16) == 0x0001);
  CHECK(r.Bits(16) == 0x0000);
  CHECK(r.Bits(8) == 0x03);
  CHECK(r.Bits(8) == 0xAB);
  CHECK(r.ok());
  CHECK(r.Bits(1) == 0);
  CHECK_FALSE(r.ok());
  // An SPS whose profile, constraint and level bytes are 00 00 00 gets 00 00 03 00 on the
  // wire; the parser reads through it.
  H264Sps s;
  s.profileIdc = 0;
  s.levelIdc = 0;
  auto sps = WriteH264Sps(s);
  REQUIRE(sps.size() > 4);
  CHECK(sps[3] == 0x03);
  CHECK(Ok(ParseH264SpsSize(sps)) == VideoSize{640, 480});
}
