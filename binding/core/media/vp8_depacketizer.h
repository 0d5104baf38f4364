// Rebuilds VP8 frames from RFC 7741 payloads: strips each payload descriptor, whatever optional
// fields it carries (X; I with a 7- or 15-bit PictureID; L with TL0PICIDX; T and/or K with the
// TID/Y/KEYIDX byte) and concatenates the rest.
//
// Checked: the first payload must start partition 0 (S=1, PID=0) and no later one may; all
// payloads that carry a PictureID carry the same one; no payload ends inside its descriptor or
// right after it (ERR_VP8_TRUNCATED, ERR_VP8_FRAME_START, ERR_VP8_PICTURE_ID).
#pragma once

#include <cstdint>
#include <optional>

#include "media/rtp_payload.h"

namespace kvs::media {

// One payload descriptor, as parsed.
struct Vp8Descriptor {
  bool nonReference = false;  // N
  bool start = false;         // S
  uint8_t partitionId = 0;    // PID
  std::optional<uint16_t> pictureId;
  bool pictureId15Bits = false;  // M
  std::optional<uint8_t> tl0PicIdx;
  std::optional<uint8_t> tid;     // with layerSync, when T=1
  bool layerSync = false;         // Y
  std::optional<uint8_t> keyIdx;  // when K=1
  size_t size = 0;                // descriptor bytes before the VP8 payload
};

// Parses the descriptor at the front of a payload; ERR_VP8_TRUNCATED when the payload ends
// inside it or leaves no VP8 payload byte after it.
Result<Vp8Descriptor> ParseVp8Descriptor(ByteSpan payload);

class Vp8Depacketizer final : public Depacketizer {
 public:
  Result<Frame> Depacketize(const std::vector<ByteSpan>& payloadsInSeqOrder) const override;
  Result<PayloadInfo> Inspect(ByteSpan payload) const override;
};

}  // namespace kvs::media
