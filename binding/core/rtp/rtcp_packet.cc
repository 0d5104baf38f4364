#include "rtp/rtcp_packet.h"

#include <string>

#include "rtp/rtp_errors.h"

namespace kvs::rtp {

Result<RtcpPacketView> ParseRtcpPacket(ByteSpan data) {
  if (data.size < kRtcpHeaderSize) {
    return Status::Fail(kErrRtcpTruncated,
                        std::to_string(data.size) + " bytes left, less than a header");
  }
  const uint8_t* d = data.data;
  if ((d[0] >> 6) != kRtcpVersion) {
    return Status::Fail(kErrRtcpVersion, "version " + std::to_string(d[0] >> 6) + ", not 2");
  }
  const size_t size = 4 * (size_t{static_cast<uint16_t>(d[2] << 8 | d[3])} + 1);
  if (size > data.size) {
    return Status::Fail(kErrRtcpLength, "length says " + std::to_string(size) + " bytes, " +
                                            std::to_string(data.size) + " are left");
  }
  RtcpPacketView v;
  v.padding = (d[0] & 0x20) != 0;
  v.count = d[0] & 0x1F;
  v.type = d[1];
  v.packet = ByteSpan(d, size);
  size_t bodySize = size - kRtcpHeaderSize;
  if (v.padding) {
    const uint8_t pad = d[size - 1];
    if (pad == 0 || pad > bodySize) {
      return Status::Fail(kErrRtcpPadding, "pad count " + std::to_string(pad) + " in a body of " +
                                               std::to_string(bodySize) + " bytes");
    }
    bodySize -= pad;
  }
  v.body = ByteSpan(d + kRtcpHeaderSize, bodySize);
  return v;
}

bool RtcpReader::Next(RtcpPacketView* out) {
  if (!status_.ok() || rest_.size == 0) return false;
  auto p = ParseRtcpPacket(rest_);
  if (!p.ok()) {
    status_ = p.status();
    return false;
  }
  *out = p.value();
  rest_ = ByteSpan(rest_.data + out->packet.size, rest_.size - out->packet.size);
  return true;
}

Result<FeedbackHeader> ParseFeedbackHeader(const RtcpPacketView& p) {
  if (p.type != kRtcpRtpfb && p.type != kRtcpPsfb) {
    return Status::Fail(kErrRtcpWrongType,
                        "packet type " + std::to_string(p.type) + " is not feedback");
  }
  ByteReader r(p.body);
  FeedbackHeader h;
  h.senderSsrc = r.u32();
  h.mediaSsrc = r.u32();
  if (!r.ok()) {
    return Status::Fail(kErrRtcpTruncated, "feedback body of " + std::to_string(p.body.size) +
                                               " bytes, less than the two SSRCs");
  }
  h.fci = r.bytes(r.remaining());
  return h;
}

size_t BeginRtcpPacket(ByteWriter& w, uint8_t count, uint8_t type) {
  const size_t start = w.size();
  w.u8(static_cast<uint8_t>(kRtcpVersion << 6 | (count & 0x1F)));
  w.u8(type);
  w.u16(0);  // length, filled in by EndRtcpPacket
  return start;
}

void EndRtcpPacket(ByteWriter& w, size_t start) {
  while ((w.size() - start) % 4 != 0) w.u8(0);
  w.PatchU16(start + 2, static_cast<uint16_t>((w.size() - start) / 4 - 1));
}

}  // namespace kvs::rtp
