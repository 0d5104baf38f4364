#include "stun/stream_framer.h"

#include <algorithm>
#include <string>

#include "stun/stun_constants.h"

namespace kvs::stun {

StreamDeframer::StreamDeframer(StreamFraming framing, size_t maxFrameSize)
    : framing_(framing), maxFrameSize_(maxFrameSize) {}

Status StreamDeframer::Fail(Status s) {
  failure_ = s;
  buffer_.clear();
  return s;
}

Status StreamDeframer::FrameSize(ByteSpan head, size_t& size) const {
  size = 0;
  if (head.size == 0) return Status::Ok();
  ByteReader r(head);
  if (framing_ == StreamFraming::kRfc4571) {
    if (head.size < 2) return Status::Ok();
    size = 2 + size_t{r.u16()};
  } else if ((head.data[0] & 0xC0) == 0) {
    // Check the cookie as soon as it has arrived: a desynchronised stream fails early.
    if (head.size < 8) return Status::Ok();
    r.u16();
    const uint16_t length = r.u16();
    if (r.u32() != kMagicCookie) {
      return Status::Fail("ERR_STUN_STREAM_DESYNC", "STUN frame without the magic cookie");
    }
    if (length % 4 != 0) {
      return Status::Fail("ERR_STUN_STREAM_DESYNC",
                          "STUN length " + std::to_string(length) + " is not a multiple of 4");
    }
    size = kHeaderSize + length;
  } else if (head.data[0] >= 0x40 && head.data[0] <= 0x4F) {
    if (head.size < 4) return Status::Ok();
    r.u16();
    const size_t length = r.u16();
    size = 4 + ((length + 3) & ~size_t{3});
  } else {
    return Status::Fail("ERR_STUN_STREAM_DESYNC", "frame starts with byte " +
                                                      std::to_string(head.data[0]) +
                                                      ", neither STUN nor ChannelData");
  }
  if (size > maxFrameSize_) {
    return Status::Fail("ERR_STUN_FRAME_TOO_LARGE", "frame of " + std::to_string(size) +
                                                        " bytes exceeds the limit of " +
                                                        std::to_string(maxFrameSize_));
  }
  return Status::Ok();
}

void StreamDeframer::Emit(ByteSpan frame, const Sink& sink) const {
  if (framing_ == StreamFraming::kRfc4571) {
    sink(FrameKind::kPacket, frame.sub(2, frame.size - 2));
  } else {
    sink((frame.data[0] & 0xC0) == 0 ? FrameKind::kStun : FrameKind::kChannelData, frame);
  }
}

Status StreamDeframer::Push(ByteSpan chunk, const Sink& sink) {
  if (!failure_.ok()) return failure_;
  size_t pos = 0;
  // First finish the frame begun in an earlier chunk, a byte at a time until its header says
  // its size, then up to its end. A frame is emitted as soon as its last byte is in.
  while (!buffer_.empty()) {
    size_t size = 0;
    Status s = FrameSize(buffer_, size);
    if (!s.ok()) return Fail(s);
    if (size != 0 && buffer_.size() == size) {
      Emit(buffer_, sink);
      buffer_.clear();
      break;
    }
    if (pos == chunk.size) return Status::Ok();
    const size_t want = size == 0 ? 1 : size - buffer_.size();
    const size_t take = std::min(want, chunk.size - pos);
    buffer_.insert(buffer_.end(), chunk.data + pos, chunk.data + pos + take);
    pos += take;
  }
  // Then whole frames straight from the chunk, without copying.
  while (pos < chunk.size) {
    ByteSpan rest = chunk.sub(pos, chunk.size - pos);
    size_t size = 0;
    Status s = FrameSize(rest, size);
    if (!s.ok()) return Fail(s);
    if (size == 0 || size > rest.size) {
      buffer_.assign(rest.data, rest.data + rest.size);
      return Status::Ok();
    }
    Emit(rest.sub(0, size), sink);
    pos += size;
  }
  return Status::Ok();
}

Result<std::vector<uint8_t>> FrameRfc4571(ByteSpan packet) {
  if (packet.size > 0xFFFF) {
    return Status::Fail("ERR_STUN_FRAME_TOO_LARGE",
                        std::to_string(packet.size) + " bytes do not fit an RFC 4571 frame");
  }
  std::vector<uint8_t> out;
  out.reserve(2 + packet.size);
  ByteWriter w(out);
  w.u16(static_cast<uint16_t>(packet.size));
  w.bytes(packet);
  return out;
}

}  // namespace kvs::stun
