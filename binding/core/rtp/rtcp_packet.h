// RTCP framing (RFC 3550 §6.4, App. A.2; RFC 4585 §6.1): the common header, a reader that
// walks a compound packet one packet at a time, the feedback header shared by RTPFB and PSFB,
// and helpers for writers. The typed packets are in rtcp_report.h, rtcp_sdes.h, rtcp_bye.h,
// rtcp_nack.h, rtcp_twcc.h, rtcp_psfb.h and rtcp_remb.h; rtcp_compound.h builds compounds.
//
//   RtcpReader reader(decrypted);
//   RtcpPacketView p;
//   while (reader.Next(&p)) {
//     if (p.type == kRtcpRtpfb && p.count == kFmtNack) { auto nack = ParseNack(p); ... }
//   }
//   if (!reader.status().ok()) { count it; the packets before the error were valid }
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/status.h"

namespace kvs::rtp {

// Packet types (RFC 3550 §12.1, RFC 4585 §6.1, RFC 3611).
inline constexpr uint8_t kRtcpSr = 200;
inline constexpr uint8_t kRtcpRr = 201;
inline constexpr uint8_t kRtcpSdes = 202;
inline constexpr uint8_t kRtcpBye = 203;
inline constexpr uint8_t kRtcpApp = 204;
inline constexpr uint8_t kRtcpRtpfb = 205;  // transport layer feedback
inline constexpr uint8_t kRtcpPsfb = 206;   // payload-specific feedback
inline constexpr uint8_t kRtcpXr = 207;

// Feedback message types, in the count field of RTPFB and PSFB packets.
inline constexpr uint8_t kFmtNack = 1;   // RTPFB, RFC 4585 §6.2.1
inline constexpr uint8_t kFmtTwcc = 15;  // RTPFB, draft-holmer-...-01 §3.1
inline constexpr uint8_t kFmtPli = 1;    // PSFB, RFC 4585 §6.3.1
inline constexpr uint8_t kFmtFir = 4;    // PSFB, RFC 5104 §4.3.1
inline constexpr uint8_t kFmtAfb = 15;   // PSFB application layer feedback (REMB)

inline constexpr uint8_t kRtcpVersion = 2;
inline constexpr size_t kRtcpHeaderSize = 4;
inline constexpr size_t kMaxRtcpCount = 31;  // the 5-bit count field
// The 16-bit length counts 32-bit words minus one.
inline constexpr size_t kMaxRtcpPacketSize = 4 * (size_t{0xFFFF} + 1);

// One packet of a compound, viewed in place.
struct RtcpPacketView {
  uint8_t type = 0;      // PT
  uint8_t count = 0;     // RC, SC or FMT (5 bits)
  bool padding = false;  // the P bit
  ByteSpan packet;       // header, body and padding: 4 * (length + 1) bytes
  ByteSpan body;         // after the 4-byte header, without the padding
};

// RFC 5761 §4: on an rtcp-mux port, RTCP is told from RTP by the second byte (the RTCP packet
// type, 192-223; RTP payload types 64-95 with either marker are kept free for this). Only
// looks; ParseRtcpPacket validates.
constexpr bool IsRtcp(const uint8_t* data, size_t size) {
  return size >= kRtcpHeaderSize && (data[0] >> 6) == kRtcpVersion && data[1] >= 192 &&
         data[1] <= 223;
}
inline bool IsRtcp(ByteSpan datagram) { return IsRtcp(datagram.data, datagram.size); }

// The first packet at the front of `data`: version 2, 4 * (length + 1) bytes available, and
// with the P bit a pad count of 1..body size. A length of 0 words is valid framing (RFC 3550
// §6.4.1 chose the offset so): a 4-byte packet with an empty body, which the typed parsers
// then reject if their type needs more. Errors: ERR_RTCP_TRUNCATED, ERR_RTCP_VERSION,
// ERR_RTCP_LENGTH, ERR_RTCP_PADDING.
Result<RtcpPacketView> ParseRtcpPacket(ByteSpan data);

// Walks a compound packet. Next() yields each packet in order and returns false at the end or
// at the first invalid packet (status() then says why; nothing after it is yielded). Every
// packet yielded lies inside the input. Lenient about order, so that it reads both RFC 3550
// compounds and RFC 5506 reduced-size packets; ValidateRtcpCompound() (rtcp_compound.h)
// checks the order.
class RtcpReader {
 public:
  explicit RtcpReader(ByteSpan compound) : rest_(compound) {}
  bool Next(RtcpPacketView* out);
  const Status& status() const { return status_; }

 private:
  ByteSpan rest_;
  Status status_;
};

// The common part of RTPFB and PSFB packets (RFC 4585 §6.1).
struct FeedbackHeader {
  uint32_t senderSsrc = 0;
  uint32_t mediaSsrc = 0;
  ByteSpan fci;  // feedback control information: the rest of the body
};
// ERR_RTCP_WRONG_TYPE unless an RTPFB/PSFB, ERR_RTCP_TRUNCATED under 8 bytes of body.
Result<FeedbackHeader> ParseFeedbackHeader(const RtcpPacketView& p);

// For writers of RTCP packets: BeginRtcpPacket writes a header with a placeholder length and
// returns its offset; EndRtcpPacket zero-pads the body to 32 bits and fills the length in.
// The writer must have checked beforehand that the packet stays within kMaxRtcpPacketSize.
size_t BeginRtcpPacket(ByteWriter& w, uint8_t count, uint8_t type);
void EndRtcpPacket(ByteWriter& w, size_t start);

}  // namespace kvs::rtp
