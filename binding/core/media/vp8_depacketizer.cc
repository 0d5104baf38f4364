#include "media/vp8_depacketizer.h"

#include <string>

#include "media/vp8_packetizer.h"

namespace kvs::media {

Result<Vp8Descriptor> ParseVp8Descriptor(ByteSpan payload) {
  // RFC 7741 §4.2:
  //   X|R|N|S|R|PID(3)   then, when X:   I|L|T|K|RSV(4)
  //   I: M|PictureID(7) [PictureID(8) when M]   L: TL0PICIDX   T or K: TID(2)|Y|KEYIDX(5)
  ByteReader r(payload);
  Vp8Descriptor d;
  const uint8_t b0 = r.u8();
  d.nonReference = (b0 & 0x20) != 0;
  d.start = (b0 & 0x10) != 0;
  d.partitionId = static_cast<uint8_t>(b0 & 0x07);
  if ((b0 & 0x80) != 0) {
    const uint8_t ext = r.u8();
    if ((ext & 0x80) != 0) {
      const uint8_t m = r.u8();
      d.pictureId15Bits = (m & 0x80) != 0;
      d.pictureId = d.pictureId15Bits ? static_cast<uint16_t>(((m & 0x7Fu) << 8) | r.u8())
                                      : static_cast<uint16_t>(m & 0x7Fu);
    }
    if ((ext & 0x40) != 0) d.tl0PicIdx = r.u8();
    if ((ext & 0x30) != 0) {
      const uint8_t tk = r.u8();
      if ((ext & 0x20) != 0) {
        d.tid = static_cast<uint8_t>(tk >> 6);
        d.layerSync = (tk & 0x20) != 0;
      }
      if ((ext & 0x10) != 0) d.keyIdx = static_cast<uint8_t>(tk & 0x1F);
    }
  }
  if (!r.ok()) {
    return Status::Fail("ERR_VP8_TRUNCATED", "payload of " + std::to_string(payload.size) +
                                                 " bytes ends inside its descriptor");
  }
  if (r.remaining() == 0) {
    return Status::Fail("ERR_VP8_TRUNCATED", "no VP8 data after the " +
                                                 std::to_string(r.position()) + "-byte descriptor");
  }
  d.size = r.position();
  return d;
}

Result<Frame> Vp8Depacketizer::Depacketize(const std::vector<ByteSpan>& payloads) const {
  Frame frame;
  size_t total = 0;
  for (const ByteSpan& p : payloads) total += p.size;
  frame.data.reserve(total);

  bool first = true;
  std::optional<uint16_t> pictureId;
  bool pictureId15 = false;
  for (size_t i = 0; i < payloads.size(); ++i) {
    const ByteSpan p = payloads[i];
    if (p.size == 0) continue;  // padding only
    auto parsed = ParseVp8Descriptor(p);
    if (!parsed.ok()) return parsed.status();
    const Vp8Descriptor& d = parsed.value();
    const bool frameStart = d.start && d.partitionId == 0;
    if (first && !frameStart) {
      return Status::Fail(
          "ERR_VP8_FRAME_START",
          "the frame's first payload does not start partition 0 (S=" + std::to_string(d.start) +
              ", PID=" + std::to_string(d.partitionId) + ")");
    }
    if (!first && frameStart) {
      return Status::Fail("ERR_VP8_FRAME_START",
                          "payload " + std::to_string(i) + " starts another frame");
    }
    if (d.pictureId) {
      if (pictureId && (d.pictureId15Bits != pictureId15 || *d.pictureId != *pictureId)) {
        return Status::Fail("ERR_VP8_PICTURE_ID", "payload " + std::to_string(i) +
                                                      " has PictureID " +
                                                      std::to_string(*d.pictureId) +
                                                      ", the frame " + std::to_string(*pictureId));
      }
      pictureId = d.pictureId;
      pictureId15 = d.pictureId15Bits;
    }
    ByteSpan data = p.sub(d.size, p.size - d.size);
    if (first) frame.keyFrame = Vp8IsKeyFrame(data);
    frame.data.insert(frame.data.end(), data.data, data.data + data.size);
    first = false;
  }
  if (first) return Status::Fail("ERR_MEDIA_EMPTY_FRAME", "no VP8 payload bytes in the frame");
  return frame;
}

Result<PayloadInfo> Vp8Depacketizer::Inspect(ByteSpan p) const {
  PayloadInfo info;
  if (p.size == 0) {
    info.empty = true;
    return info;
  }
  auto parsed = ParseVp8Descriptor(p);
  if (!parsed.ok()) return parsed.status();
  const Vp8Descriptor& d = parsed.value();
  info.startsUnit = d.start;
  info.startsFrame = d.start && d.partitionId == 0;
  info.keyFrame = info.startsFrame && Vp8IsKeyFrame(p.sub(d.size, p.size - d.size));
  return info;
}

}  // namespace kvs::media
