#include "rtp/rtcp_sdes.h"

#include <string>

#include "rtp/rtp_errors.h"

namespace kvs::rtp {

namespace {

Status Malformed(const std::string& what) { return Status::Fail(kErrRtcpMalformed, what); }

}  // namespace

Result<Sdes> ParseSdes(const RtcpPacketView& p) {
  if (p.type != kRtcpSdes) {
    return Status::Fail(kErrRtcpWrongType,
                        "packet type " + std::to_string(p.type) + " is not SDES");
  }
  ByteReader r(p.body);
  Sdes sdes;
  sdes.chunks.reserve(p.count);
  for (size_t c = 0; c < p.count; ++c) {
    const size_t chunkStart = r.position();
    SdesChunk chunk;
    chunk.ssrc = r.u32();
    if (!r.ok()) return Malformed("SDES chunk " + std::to_string(c) + " lacks its SSRC");
    for (;;) {
      const uint8_t type = r.u8();
      if (!r.ok()) return Malformed("SDES chunk " + std::to_string(c) + " has no end");
      if (type == kSdesEnd) break;
      const uint8_t length = r.u8();
      const std::string_view value = r.text(length);
      if (!r.ok()) {
        return Malformed("SDES item " + std::to_string(type) + " runs past the packet");
      }
      chunk.items.push_back(SdesItem{type, std::string(value)});
    }
    // The end octet and the zeros after it reach the next 32-bit boundary of the chunk.
    const size_t used = r.position() - chunkStart;
    const size_t pad = (4 - used % 4) % 4;
    if (!r.skip(pad)) return Malformed("SDES chunk " + std::to_string(c) + " is not padded");
    sdes.chunks.push_back(std::move(chunk));
  }
  return sdes;
}

Status WriteRtcp(const Sdes& sdes, ByteWriter& w) {
  if (sdes.chunks.size() > kMaxRtcpCount) {
    return Status::Fail(kErrRtcpInvalidArgument,
                        std::to_string(sdes.chunks.size()) + " SDES chunks (at most 31)");
  }
  size_t total = kRtcpHeaderSize;
  for (const SdesChunk& chunk : sdes.chunks) {
    size_t size = 4;
    for (const SdesItem& item : chunk.items) {
      if (item.type == kSdesEnd || item.value.size() > kMaxSdesItemSize) {
        return Status::Fail(kErrRtcpInvalidArgument,
                            "SDES item type " + std::to_string(item.type) + " of " +
                                std::to_string(item.value.size()) + " bytes");
      }
      size += 2 + item.value.size();
    }
    total += (size + 4) / 4 * 4;  // at least one end octet
  }
  if (total > kMaxRtcpPacketSize) {
    return Status::Fail(kErrRtcpInvalidArgument, "SDES packet over the RTCP length limit");
  }
  const size_t start = BeginRtcpPacket(w, static_cast<uint8_t>(sdes.chunks.size()), kRtcpSdes);
  for (const SdesChunk& chunk : sdes.chunks) {
    const size_t chunkStart = w.size();
    w.u32(chunk.ssrc);
    for (const SdesItem& item : chunk.items) {
      w.u8(item.type);
      w.u8(static_cast<uint8_t>(item.value.size()));
      w.text(item.value);
    }
    w.u8(kSdesEnd);
    while ((w.size() - chunkStart) % 4 != 0) w.u8(0);
  }
  EndRtcpPacket(w, start);
  return Status::Ok();
}

}  // namespace kvs::rtp
