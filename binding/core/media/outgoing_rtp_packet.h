// One RTP packet handed out by a SendStream, without a copy of its payload: a small header area
// (the RTP header with its extensions and, for RTX, the 2-byte original sequence number) and a
// media::RtpPayload slice of the frame (the zero-copy contract of rtp_payload.h).
//
// The caller writes it into its own send buffer (the one copy of the payload bytes on the send
// path), protects it with SRTP in place and sends it:
//
//   for (const OutgoingRtpPacket& p : out.packets) {
//     if (p.size() + SrtpSession::kMaxRtpTrailer > buffer.size()) ...;  // cannot happen at the MTU
//     p.WriteTo(buffer.data());
//     auto n = srtp.ProtectRtp(buffer.data(), p.size(), buffer.size());
//     send(buffer, n) or stream.OnPacketSendFailed(p, ...);
//   }
//   out.Clear();  // keeps the vectors' capacity: no allocation per packet next time
//
// Ownership: the packet holds a reference to the frame's bytes (SharedBytes), so it may be kept
// (a pacer's queue) as long as the caller likes; the stream keeps its own reference in the
// retransmission history. Nothing in it points into the stream.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "media/rtp_payload.h"

namespace kvs::media {

struct OutgoingRtpPacket {
  // 12 fixed + 4 extension header + mid (1 + 16) + abs-send-time (1 + 3) + transport-cc (1 + 2)
  // = 40, rounded to 32 bits, + 2 for the RTX OSN, and spare room.
  static constexpr size_t kMaxHeaderSize = 48;

  std::array<uint8_t, kMaxHeaderSize> header{};  // what goes before the payload slice
  uint8_t headerSize = 0;
  RtpPayload payload;

  // The header's fields, for routing and bookkeeping (they are already in `header`).
  uint32_t ssrc = 0;
  uint16_t sequenceNumber = 0;
  uint32_t timestamp = 0;
  uint8_t payloadType = 0;
  bool marker = false;
  // A retransmission (answering a NACK): over RTX (ssrc and payloadType are RTX's, and the
  // header area ends with the OSN) or, without RTX, the original packet with its original
  // sequence number.
  bool retransmission = false;
  // The media sequence number this packet carries: equal to sequenceNumber except for RTX.
  uint16_t originalSequenceNumber = 0;
  // The transport-wide sequence number written in the header (transport-cc negotiated).
  bool hasTransportSequence = false;
  uint16_t transportSequence = 0;
  // When the stream handed it out (monotonic µs); OnPacketSent's delay is measured from here.
  int64_t createdUs = 0;
  // The stream's count of frames before this packet's frame (for framesDiscardedOnSend).
  uint64_t frameNumber = 0;

  // Header area plus payload: the bytes WriteTo writes (before SRTP's trailer).
  size_t size() const { return headerSize + payload.size(); }
  // Writes size() bytes at out.
  void WriteTo(uint8_t* out) const;
  // Bytes of RTP payload as W3C stats count them (RTX: without the OSN).
  size_t payloadBytes() const { return payload.size(); }

  // A pacer that sends later may restamp abs-send-time (when negotiated) with the real send
  // time, so that receive-side estimation sees when the packet left. No-op otherwise.
  void SetAbsSendTime(int64_t sendUs);
  // Offset of the abs-send-time value in `header`, 0 when there is none.
  uint8_t absSendTimeOffset = 0;
};

}  // namespace kvs::media
