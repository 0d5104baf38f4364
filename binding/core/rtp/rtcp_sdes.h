// Source description (RFC 3550 §6.5), SDES (202): chunks of an SSRC and its items, each chunk
// ended by one to four zero octets so that the next starts on a 32-bit boundary. WebRTC sends
// only CNAME; the other items are kept as bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "rtp/rtcp_packet.h"

namespace kvs::rtp {

inline constexpr uint8_t kSdesEnd = 0;
inline constexpr uint8_t kSdesCname = 1;
inline constexpr uint8_t kSdesName = 2;
inline constexpr uint8_t kSdesEmail = 3;
inline constexpr uint8_t kSdesPhone = 4;
inline constexpr uint8_t kSdesLoc = 5;
inline constexpr uint8_t kSdesTool = 6;
inline constexpr uint8_t kSdesNote = 7;
inline constexpr uint8_t kSdesPriv = 8;
inline constexpr size_t kMaxSdesItemSize = 255;

struct SdesItem {
  uint8_t type = kSdesCname;  // 1-255 (0 ends a chunk and cannot be an item)
  std::string value;          // at most 255 bytes, as on the wire (PRIV: prefix and value)

  bool operator==(const SdesItem& o) const { return type == o.type && value == o.value; }
};

struct SdesChunk {
  uint32_t ssrc = 0;
  std::vector<SdesItem> items;

  // The first CNAME item's value, or nullptr.
  const std::string* cname() const {
    for (const SdesItem& i : items) {
      if (i.type == kSdesCname) return &i.value;
    }
    return nullptr;
  }
  bool operator==(const SdesChunk& o) const { return ssrc == o.ssrc && items == o.items; }
};

struct Sdes {
  std::vector<SdesChunk> chunks;  // at most 31

  // The usual packet: one chunk with one CNAME.
  static Sdes Cname(uint32_t ssrc, std::string cname) {
    return Sdes{{SdesChunk{ssrc, {SdesItem{kSdesCname, std::move(cname)}}}}};
  }
  bool operator==(const Sdes& o) const { return chunks == o.chunks; }
};

// Reads SC chunks. ERR_RTCP_WRONG_TYPE, or ERR_RTCP_MALFORMED when a chunk or item runs past
// the body or a chunk lacks its terminating zero octet. Bytes after the SC chunks are ignored.
Result<Sdes> ParseSdes(const RtcpPacketView& p);

// ERR_RTCP_INVALID_ARGUMENT for more than 31 chunks, an item over 255 bytes, or item type 0.
Status WriteRtcp(const Sdes& sdes, ByteWriter& w);

}  // namespace kvs::rtp
