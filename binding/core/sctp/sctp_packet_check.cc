#include "sctp/sctp_packet_check.h"

#include <cstdint>
#include <string>

namespace kvs::sctp {
namespace {

constexpr size_t kCommonHeader = 12;
constexpr size_t kChunkHeader = 4;
constexpr size_t kParamHeader = 4;

// Where a chunk's TLV list starts (after the chunk header), or 0 if it has none we check.
size_t TlvOffset(uint8_t type) {
  switch (type) {
    case 1:  // INIT: initiate tag, a_rwnd, streams, initial TSN (16 bytes), then params
    case 2:  // INIT ACK: the same layout
      return 16;
    case 4:    // HEARTBEAT: one Heartbeat Info parameter
    case 5:    // HEARTBEAT ACK
    case 6:    // ABORT: error causes
    case 9:    // ERROR: error causes
    case 130:  // RE-CONFIG (RFC 6525): parameters
      return 0;
    default:
      return SIZE_MAX;
  }
}

std::string At(size_t offset) { return " at offset " + std::to_string(offset); }

}  // namespace

Status CheckInboundPacket(ByteSpan packet) {
  if (packet.size < kCommonHeader + kChunkHeader) {
    return Status::Fail("ERR_SCTP_PACKET_TRUNCATED",
                        "SCTP packet of " + std::to_string(packet.size) + " bytes");
  }
  size_t off = kCommonHeader;
  while (packet.size - off >= kChunkHeader) {
    ByteReader h(packet.sub(off, kChunkHeader));
    const uint8_t type = h.u8();
    h.u8();  // flags
    const size_t length = h.u16();
    if (length < kChunkHeader || length > packet.size - off) {
      return Status::Fail("ERR_SCTP_CHUNK_LENGTH",
                          "chunk length " + std::to_string(length) + At(off));
    }
    const size_t tlv = TlvOffset(type);
    if (tlv != SIZE_MAX) {
      const size_t bodyLength = length - kChunkHeader;
      if (bodyLength < tlv) {
        return Status::Fail("ERR_SCTP_CHUNK_LENGTH",
                            "chunk type " + std::to_string(type) + " too short" + At(off));
      }
      const ByteSpan body = packet.sub(off + kChunkHeader + tlv, bodyLength - tlv);
      // The parameters must tile the body: usrsctp walks INIT parameters to the end of the
      // packet, so bytes after the last whole parameter (with what follows the chunk) would
      // be read as one more, perhaps of length 0.
      size_t p = 0;
      while (p < body.size) {
        if (body.size - p < kParamHeader) {
          return Status::Fail("ERR_SCTP_PARAM_LENGTH",
                              std::to_string(body.size - p) + " bytes after the last parameter " +
                                  "of chunk type " + std::to_string(type) + At(off));
        }
        ByteReader ph(body.sub(p, kParamHeader));
        ph.u16();  // type
        const size_t plen = ph.u16();
        if (plen < kParamHeader || plen > body.size - p) {
          return Status::Fail("ERR_SCTP_PARAM_LENGTH", "parameter length " + std::to_string(plen) +
                                                           " in chunk type " +
                                                           std::to_string(type) + At(off));
        }
        p += (plen + 3) & ~size_t(3);  // the last parameter may omit its padding
      }
    }
    off += (length + 3) & ~size_t(3);
    if (off > packet.size) break;  // the last chunk may omit its padding
  }
  return Status::Ok();
}

}  // namespace kvs::sctp
