#include "net/demux.h"

namespace kvs::net {

PacketClass Classify(ByteSpan d) {
  if (d.size == 0) return PacketClass::kUnknown;
  const uint8_t b = d.data[0];
  if (b <= 3) return d.size >= 20 ? PacketClass::kStun : PacketClass::kUnknown;
  if (b >= 16 && b <= 19) return PacketClass::kZrtp;
  if (b >= 20 && b <= 63) return d.size >= 13 ? PacketClass::kDtls : PacketClass::kUnknown;
  if (b >= 64 && b <= 79) return d.size >= 4 ? PacketClass::kChannelData : PacketClass::kUnknown;
  if (b >= 128 && b <= 191) {
    if (d.size < 2) return PacketClass::kUnknown;
    const uint8_t type = d.data[1];
    if (type >= 192 && type <= 223) return d.size >= 8 ? PacketClass::kRtcp : PacketClass::kUnknown;
    return d.size >= 12 ? PacketClass::kRtp : PacketClass::kUnknown;
  }
  return PacketClass::kUnknown;
}

const char* ToString(PacketClass c) {
  switch (c) {
    case PacketClass::kStun:
      return "stun";
    case PacketClass::kZrtp:
      return "zrtp";
    case PacketClass::kDtls:
      return "dtls";
    case PacketClass::kChannelData:
      return "channel-data";
    case PacketClass::kRtp:
      return "rtp";
    case PacketClass::kRtcp:
      return "rtcp";
    case PacketClass::kUnknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace kvs::net
