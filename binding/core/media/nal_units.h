// Splits an H.264/H.265 access unit into its NAL units, as (offset, length) slices of the frame:
// no bytes are copied. Two framings: Annex-B byte streams (ITU-T H.264 Annex B: 3- or 4-byte
// start codes) and length-prefixed NAL units (ISO/IEC 14496-15 "AVCC"/"HVCC", as MP4 demuxers
// and many hardware encoders give them) with a length size of 1, 2 or 4 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace kvs::media {

enum class NalFraming {
  // Annex-B when the frame begins with a start code, length-prefixed with 4-byte lengths
  // otherwise. A frame that begins like a start code but whose 4-byte lengths chain exactly to
  // its end is taken as length-prefixed (a first NAL unit of 256-511 bytes has the length
  // 00 00 01 xx). An app that knows its framing should say so.
  kAuto,
  kAnnexB,
  kLengthPrefixed1,
  kLengthPrefixed2,
  kLengthPrefixed4,
};

// One NAL unit, header included, emulation prevention bytes left in place.
struct NalUnit {
  uint32_t offset = 0;
  uint32_t length = 0;
};

// Annex-B: NAL units between start codes (00 00 01, or 00 00 00 01). Zero bytes before a
// start code belong to the byte stream (leading_zero_8bits, trailing_zero_8bits, the first byte
// of a 4-byte start code), never to a NAL unit: H.264 §7.4.1 and H.265 §7.4.2 forbid a NAL unit
// ending in 00. Empty NAL units are skipped. Errors: ERR_NAL_NO_START_CODE when a byte other
// than zero comes before the first start code (or there is none).
Result<std::vector<NalUnit>> SplitAnnexB(ByteSpan frame);

// Length-prefixed: a big-endian length of lengthSize bytes (1, 2 or 4) before each NAL unit.
// Zero lengths are skipped. Errors: ERR_NAL_TRUNCATED naming the offset of a length (or a
// partial length field) that runs past the end; ERR_NAL_LENGTH_SIZE for another lengthSize.
Result<std::vector<NalUnit>> SplitLengthPrefixed(ByteSpan frame, size_t lengthSize);

// Either, by `framing`. Frames over 4 GiB are ERR_MEDIA_FRAME_TOO_LARGE.
Result<std::vector<NalUnit>> SplitNalUnits(ByteSpan frame, NalFraming framing);

// Writes a 4-byte start code and the NAL unit (the depacketizers' Annex-B output).
void AppendAnnexB(std::vector<uint8_t>& out, ByteSpan nal);

}  // namespace kvs::media
