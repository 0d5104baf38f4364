#include "media/video_size.h"

#include <string>

#include "media/bit_reader.h"

namespace kvs::media {
namespace {

constexpr uint64_t kMaxDimension = 65535;

Status Truncated(const char* what) {
  return Status::Fail("ERR_SPS_TRUNCATED", std::string(what) + " ends before the picture size");
}
Status Invalid(const std::string& what) { return Status::Fail("ERR_SPS_INVALID", what); }

// H.264 §7.3.2.1.1.1: skipped, but its deltas must be read to find what follows.
void SkipScalingList(RbspBitReader& r, int size) {
  int64_t last = 8, next = 8;
  for (int j = 0; j < size && r.ok(); ++j) {
    if (next != 0) {
      const int64_t delta = r.Se();
      next = ((last + delta) % 256 + 256) % 256;
    }
    if (next != 0) last = next;
  }
}

// The profile_idc values whose SPS carries chroma_format_idc and the bit depths (H.264
// §7.3.2.1.1: High, High 10/4:2:2/4:4:4, CAVLC 4:4:4, and the SVC/MVC profiles).
bool HighProfile(uint32_t profileIdc) {
  static constexpr uint32_t kProfiles[] = {100, 110, 122, 244, 44,  83, 86,
                                           118, 128, 138, 139, 134, 135};
  for (uint32_t p : kProfiles) {
    if (p == profileIdc) return true;
  }
  return false;
}

// SubWidthC and SubHeightC (H.264 Table 6-1, H.265 Table 6-1) of a ChromaArrayType.
void ChromaSubsampling(uint32_t chromaArrayType, uint64_t& subW, uint64_t& subH) {
  subW = (chromaArrayType == 1 || chromaArrayType == 2) ? 2 : 1;
  subH = chromaArrayType == 1 ? 2 : 1;
}

Result<VideoSize> Cropped(uint64_t width, uint64_t height, uint64_t cropX, uint64_t cropY) {
  if (width > kMaxDimension || height > kMaxDimension) {
    return Invalid("picture size " + std::to_string(width) + "x" + std::to_string(height) +
                   " is out of range");
  }
  if (cropX >= width || cropY >= height) {
    return Invalid("cropping of " + std::to_string(cropX) + "x" + std::to_string(cropY) +
                   " leaves nothing of " + std::to_string(width) + "x" + std::to_string(height));
  }
  return VideoSize{static_cast<uint32_t>(width - cropX), static_cast<uint32_t>(height - cropY)};
}

}  // namespace

Result<VideoSize> ParseH264SpsSize(ByteSpan nal) {
  if (nal.size < 1 || (nal.data[0] & 0x1F) != 7) return Invalid("not an H.264 SPS NAL unit");
  RbspBitReader r(nal.sub(1, nal.size - 1));
  const uint32_t profileIdc = r.Bits(8);
  r.Skip(16);    // constraint_set flags, reserved bits, level_idc
  (void)r.Ue();  // seq_parameter_set_id: not needed for the size
  uint32_t chromaFormatIdc = 1;
  bool separateColourPlane = false;
  if (HighProfile(profileIdc)) {
    chromaFormatIdc = r.Ue();
    if (chromaFormatIdc > 3) return Invalid("chroma_format_idc over 3");
    if (chromaFormatIdc == 3) separateColourPlane = r.Flag();
    (void)r.Ue();    // bit_depth_luma_minus8
    (void)r.Ue();    // bit_depth_chroma_minus8
    r.Skip(1);       // qpprime_y_zero_transform_bypass_flag
    if (r.Flag()) {  // seq_scaling_matrix_present_flag
      const int lists = chromaFormatIdc != 3 ? 8 : 12;
      for (int i = 0; i < lists && r.ok(); ++i) {
        if (r.Flag()) SkipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }
  (void)r.Ue();  // log2_max_frame_num_minus4
  const uint32_t pocType = r.Ue();
  if (pocType == 0) {
    (void)r.Ue();  // log2_max_pic_order_cnt_lsb_minus4
  } else if (pocType == 1) {
    r.Skip(1);     // delta_pic_order_always_zero_flag
    (void)r.Se();  // offset_for_non_ref_pic
    (void)r.Se();  // offset_for_top_to_bottom_field
    const uint32_t cycle = r.Ue();
    if (cycle > 255) return Invalid("num_ref_frames_in_pic_order_cnt_cycle over 255");
    for (uint32_t i = 0; i < cycle && r.ok(); ++i) (void)r.Se();  // offset_for_ref_frame
  } else if (pocType > 2) {
    return Invalid("pic_order_cnt_type over 2");
  }
  (void)r.Ue();  // max_num_ref_frames
  r.Skip(1);     // gaps_in_frame_num_value_allowed_flag
  const uint64_t widthMbs = uint64_t{r.Ue()} + 1;
  const uint64_t heightMapUnits = uint64_t{r.Ue()} + 1;
  const bool frameMbsOnly = r.Flag();
  if (!frameMbsOnly) r.Skip(1);  // mb_adaptive_frame_field_flag
  r.Skip(1);                     // direct_8x8_inference_flag
  uint64_t left = 0, right = 0, top = 0, bottom = 0;
  if (r.Flag()) {  // frame_cropping_flag
    left = r.Ue();
    right = r.Ue();
    top = r.Ue();
    bottom = r.Ue();
  }
  if (!r.ok()) return Truncated("H.264 SPS");
  const uint64_t fieldFactor = frameMbsOnly ? 1 : 2;
  const uint32_t chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  uint64_t cropUnitX = 1, cropUnitY = fieldFactor;
  if (chromaArrayType != 0) {
    uint64_t subW = 1, subH = 1;
    ChromaSubsampling(chromaArrayType, subW, subH);
    cropUnitX = subW;
    cropUnitY = subH * fieldFactor;
  }
  return Cropped(widthMbs * 16, fieldFactor * heightMapUnits * 16, cropUnitX * (left + right),
                 cropUnitY * (top + bottom));
}

Result<VideoSize> ParseH265SpsSize(ByteSpan nal) {
  if (nal.size < 2 || ((nal.data[0] >> 1) & 0x3F) != 33) {
    return Invalid("not an H.265 SPS NAL unit");
  }
  RbspBitReader r(nal.sub(2, nal.size - 2));
  r.Skip(4);  // sps_video_parameter_set_id
  const uint32_t maxSubLayersMinus1 = r.Bits(3);
  r.Skip(1);  // sps_temporal_id_nesting_flag
  // profile_tier_level(1, maxSubLayersMinus1), H.265 §7.3.3: the general profile (88 bits)
  // and level (8), the sub-layer presence flags, then each present sub-layer's.
  r.Skip(88 + 8);
  bool profilePresent[8] = {}, levelPresent[8] = {};
  for (uint32_t i = 0; i < maxSubLayersMinus1; ++i) {
    profilePresent[i] = r.Flag();
    levelPresent[i] = r.Flag();
  }
  if (maxSubLayersMinus1 > 0) r.Skip(2 * (8 - maxSubLayersMinus1));  // reserved_zero_2bits
  for (uint32_t i = 0; i < maxSubLayersMinus1; ++i) {
    if (profilePresent[i]) r.Skip(88);
    if (levelPresent[i]) r.Skip(8);
  }
  (void)r.Ue();  // sps_seq_parameter_set_id
  const uint32_t chromaFormatIdc = r.Ue();
  if (chromaFormatIdc > 3) return Invalid("chroma_format_idc over 3");
  bool separateColourPlane = false;
  if (chromaFormatIdc == 3) separateColourPlane = r.Flag();
  const uint64_t width = r.Ue();
  const uint64_t height = r.Ue();
  uint64_t left = 0, right = 0, top = 0, bottom = 0;
  if (r.Flag()) {  // conformance_window_flag
    left = r.Ue();
    right = r.Ue();
    top = r.Ue();
    bottom = r.Ue();
  }
  if (!r.ok()) return Truncated("H.265 SPS");
  if (width == 0 || height == 0) return Invalid("picture size of 0");
  uint64_t subW = 1, subH = 1;
  ChromaSubsampling(separateColourPlane ? 0 : chromaFormatIdc, subW, subH);
  return Cropped(width, height, subW * (left + right), subH * (top + bottom));
}

Result<VideoSize> ParseVp8FrameSize(ByteSpan frame) {
  if (frame.size < 1) return Status::Fail("ERR_VP8_TRUNCATED", "empty VP8 frame");
  if ((frame.data[0] & 1) != 0) {
    return Status::Fail("ERR_VP8_NOT_KEY_FRAME", "a VP8 inter frame carries no size");
  }
  if (frame.size < 10) {
    return Status::Fail("ERR_VP8_TRUNCATED", "VP8 key frame of " + std::to_string(frame.size) +
                                                 " bytes has no room for its size");
  }
  const uint8_t* d = frame.data;
  if (d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a) {
    return Status::Fail("ERR_VP8_INVALID", "VP8 key frame without its start code");
  }
  // 14 bits of size and 2 of upscaling, little-endian (RFC 6386 §9.1); the scaling is the
  // decoder's business, the coded size is what the stream carries.
  const uint32_t width = (uint32_t{d[6]} | uint32_t{d[7]} << 8) & 0x3FFF;
  const uint32_t height = (uint32_t{d[8]} | uint32_t{d[9]} << 8) & 0x3FFF;
  return VideoSize{width, height};
}

}  // namespace kvs::media
