#include "media/vp8_packetizer.h"

#include <limits>
#include <string>

namespace kvs::media {

Vp8Packetizer::Vp8Packetizer(const Vp8PacketizerOptions& options)
    : pictureId_(static_cast<uint16_t>(options.initialPictureId & 0x7FFF)) {}

Status Vp8Packetizer::Packetize(const SharedBytes& frame, size_t maxPayload,
                                std::vector<RtpPayload>& out) {
  if (!frame || frame->empty()) return Status::Fail("ERR_MEDIA_EMPTY_FRAME", "VP8 frame is empty");
  if (frame->size() > std::numeric_limits<uint32_t>::max()) {
    return Status::Fail("ERR_MEDIA_FRAME_TOO_LARGE",
                        "VP8 frame of " + std::to_string(frame->size()) + " bytes");
  }
  if (maxPayload <= kDescriptorSize) {
    return Status::Fail("ERR_MEDIA_MAX_PAYLOAD", "VP8 needs a payload size over " +
                                                     std::to_string(kDescriptorSize) +
                                                     " bytes, got " + std::to_string(maxPayload));
  }
  const size_t n = frame->size();
  const size_t room = maxPayload - kDescriptorSize;
  const size_t count = (n + room - 1) / room;
  const size_t base = n / count, extra = n % count;
  size_t at = 0;
  for (size_t k = 0; k < count; ++k) {
    const size_t len = base + (k < extra ? 1 : 0);
    RtpPayload p;
    p.source = frame;
    p.offset = static_cast<uint32_t>(at);
    p.length = static_cast<uint32_t>(len);
    p.prefixSize = kDescriptorSize;
    p.prefix[0] = k == 0 ? 0x90 : 0x80;  // X, and S on the first packet; PID 0
    p.prefix[1] = 0x80;                  // I
    p.prefix[2] = static_cast<uint8_t>(0x80 | (pictureId_ >> 8));  // M, PictureID high bits
    p.prefix[3] = static_cast<uint8_t>(pictureId_ & 0xFF);
    p.marker = k + 1 == count;
    out.push_back(std::move(p));
    at += len;
  }
  pictureId_ = static_cast<uint16_t>((pictureId_ + 1) & 0x7FFF);
  return Status::Ok();
}

bool Vp8IsKeyFrame(ByteSpan frame) { return frame.size > 0 && (frame.data[0] & 1) == 0; }

}  // namespace kvs::media
