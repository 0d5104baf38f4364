// VP8 over RTP, RFC 7741. Each payload starts with a 4-byte descriptor: X=1, S=1 on the first
// packet of the frame and 0 after, PID=0 (the frame is not split at partition boundaries), then
// I=1 and a 15-bit PictureID (M=1) that increments per frame and wraps at 2^15. The frame is
// split as evenly as the payload size allows. N (non-reference) is never set: telling would
// mean parsing the compressed header.
#pragma once

#include "media/rtp_payload.h"

namespace kvs::media {

struct Vp8PacketizerOptions {
  // The PictureID of the first frame (15 bits). RFC 7741 suggests a random start; the caller
  // picks it (this code keeps no random source).
  uint16_t initialPictureId = 0;
};

class Vp8Packetizer final : public Packetizer {
 public:
  static constexpr size_t kDescriptorSize = 4;

  explicit Vp8Packetizer(const Vp8PacketizerOptions& options = {});
  Status Packetize(const SharedBytes& frame, size_t maxPayload,
                   std::vector<RtpPayload>& out) override;
  uint16_t nextPictureId() const { return pictureId_; }

 private:
  uint16_t pictureId_;
};

// The P bit (bit 0 of the frame tag's first byte) is 0 in a key frame (RFC 6386 §9.1).
bool Vp8IsKeyFrame(ByteSpan frame);

}  // namespace kvs::media
