// RFC 7983 (as updated by RFC 9443) demultiplexing: one look at the first byte of a datagram
// says which protocol it belongs to, and RFC 5761 §4 splits RTP from RTCP by the second byte
// (RTCP packet types 192-223 fall where RTP's marker bit and payload types 64-95 would be,
// a range WebRTC never assigns). Pure: no state, no I/O.
#pragma once

#include <cstdint>

#include "common/bytes.h"

namespace kvs::net {

enum class PacketClass : uint8_t {
  kStun,         // 0-3
  kZrtp,         // 16-19: not used by WebRTC, dropped
  kDtls,         // 20-63
  kChannelData,  // 64-79: TURN ChannelData
  kRtp,          // 128-191, second byte outside 192-223
  kRtcp,         // 128-191, second byte 192-223
  kUnknown,      // anything else, or too short to be what its first byte says
};

// The minimum sizes are the fixed headers: STUN 20, DTLS record 13, ChannelData 4, RTP 12,
// RTCP 8. A datagram shorter than its class's header is kUnknown.
PacketClass Classify(ByteSpan datagram);

const char* ToString(PacketClass c);

}  // namespace kvs::net
