// The picture size a video bitstream announces, for the frameWidth / frameHeight stats: the
// H.264 and H.265 sequence parameter sets (H.264 §7.3.2.1.1, H.265 §7.3.2.2, with the
// cropping / conformance window applied) and the VP8 key frame header (RFC 6386 §9.1).
// Bounds-checked on untrusted bytes (the receive path parses what the peer sent); fuzzed.
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/status.h"

namespace kvs::media {

struct VideoSize {
  uint32_t width = 0;
  uint32_t height = 0;
  bool operator==(const VideoSize& o) const { return width == o.width && height == o.height; }
};

// `nal`: one whole SPS NAL unit, header included (type 7 / type 33). Errors: ERR_SPS_TRUNCATED
// when the bits run out before the size, ERR_SPS_INVALID for a wrong NAL type or values out of
// their range (a crop larger than the picture, more than 255 POC cycle offsets, sizes over
// 65535).
Result<VideoSize> ParseH264SpsSize(ByteSpan nal);
Result<VideoSize> ParseH265SpsSize(ByteSpan nal);
// A VP8 frame; ERR_VP8_NOT_KEY_FRAME for an inter frame (they carry no size),
// ERR_VP8_TRUNCATED under 10 bytes, ERR_VP8_INVALID without the start code 9d 01 2a.
Result<VideoSize> ParseVp8FrameSize(ByteSpan frame);

}  // namespace kvs::media
