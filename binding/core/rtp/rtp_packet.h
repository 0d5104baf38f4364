// RTP packets (RFC 3550 §5.1): parsing a datagram into a view of its fields without
// allocating, and writing a header (with CSRCs, RFC 8285 extensions and the P bit) or a whole
// packet into a caller's buffer. Used for every packet on the media path, so nothing here
// allocates except the ByteWriter overloads (which append to a vector) and rejections (whose
// Status carries a message).
//
//   RtpPacketView p;  // reuse it for every packet: parsing into it copies nothing
//   if (Status s = ParseRtp(datagram, &p); !s.ok()) { count s.code(); drop; }
//   if (auto twcc = p.extensions.Find(twccId)) { auto seq = ParseTransportSequenceNumber(*twcc); }
//   if (p.paddingOnly()) { probe or keep-alive: no media }
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/status.h"
#include "rtp/array_view.h"
#include "rtp/rtp_header_extensions.h"

namespace kvs::rtp {

inline constexpr uint8_t kRtpVersion = 2;
inline constexpr size_t kRtpFixedHeaderSize = 12;
inline constexpr size_t kMaxCsrcs = 15;
inline constexpr uint8_t kMaxPayloadType = 127;

// A parsed RTP packet: the fields, and views into the datagram (which must outlive it).
struct RtpPacketView {
  bool marker = false;
  uint8_t payloadType = 0;
  uint16_t sequenceNumber = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  uint8_t csrcCount = 0;
  ByteSpan csrcBytes;  // csrcCount * 4 bytes; read them with csrc(i)

  bool hasExtension = false;      // the X bit
  uint16_t extensionProfile = 0;  // "defined by profile": 0xBEDE, 0x100X, or another's
  ByteSpan extensionBody;         // the block after its 4-byte header (length * 4 bytes)
  HeaderExtensions extensions;    // RFC 8285 elements; empty for other profiles

  size_t headerSize = 0;    // fixed header + CSRCs + extension block: where the payload starts
  ByteSpan payload;         // between the header and the padding; may be empty
  uint8_t paddingSize = 0;  // padding bytes at the end including the count byte; 0 if P clear
  ByteSpan packet;          // the whole datagram

  uint32_t csrc(size_t i) const {
    const uint8_t* c = csrcBytes.data + 4 * i;
    return uint32_t{c[0]} << 24 | uint32_t{c[1]} << 16 | uint32_t{c[2]} << 8 | c[3];
  }
  bool hasPadding() const { return paddingSize != 0; }
  // Padding and no payload: a bandwidth probe or keep-alive, not media (RFC 3550 §5.1 allows
  // it; the sequence number still counts for loss and TWCC).
  bool paddingOnly() const { return paddingSize != 0 && payload.size == 0; }
};

// Validates and views one RTP packet: version 2, the CSRC list and the extension block inside
// the datagram, a pad count of 1..(bytes after the header), and well-formed RFC 8285 elements.
// Errors: ERR_RTP_TRUNCATED, ERR_RTP_VERSION, ERR_RTP_PADDING, ERR_RTP_EXTENSION,
// ERR_RTP_TOO_MANY_EXTENSIONS. The payload type is not checked against RTCP's range: demux
// with IsRtcp() (rtcp_packet.h) first. On error *out is unspecified.
Status ParseRtp(ByteSpan datagram, RtpPacketView* out);
// The same, returning a copy of the view (about 400 bytes: prefer the form above per packet).
Result<RtpPacketView> ParseRtp(ByteSpan datagram);

// The fields of a header to write. Views must outlive the write call only.
struct RtpHeader {
  bool marker = false;
  uint8_t payloadType = 0;  // 0-127
  uint16_t sequenceNumber = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  ArrayView<uint32_t> csrcs;              // at most 15
  ArrayView<HeaderExtension> extensions;  // written in this order; none: no X bit
  ExtensionForm extensionForm = ExtensionForm::kAuto;
  // Padding bytes after the payload including the count byte (sets the P bit). WriteRtpPacket
  // writes them; with WriteRtpHeader the caller appends them (see WriteRtpPadding).
  uint8_t paddingSize = 0;
};

// Bytes WriteRtpHeader writes for `h`, after validating it (ERR_RTP_INVALID_ARGUMENT).
Result<size_t> RtpHeaderSize(const RtpHeader& h);

// Writes the header (fixed part, CSRCs, extension block) at `out`; returns its size.
// ERR_RTP_INVALID_ARGUMENT for bad fields, ERR_RTP_BUFFER_TOO_SMALL if capacity is short.
Result<size_t> WriteRtpHeader(const RtpHeader& h, uint8_t* out, size_t capacity);
Status WriteRtpHeader(const RtpHeader& h, ByteWriter& w);

// Header, payload and h.paddingSize bytes of padding; returns the packet size.
Result<size_t> WriteRtpPacket(const RtpHeader& h, ByteSpan payload, uint8_t* out, size_t capacity);
Status WriteRtpPacket(const RtpHeader& h, ByteSpan payload, ByteWriter& w);

// RFC 3550 padding of `size` bytes (zeros, then the count): what goes after the payload when
// the P bit is set. `size` must be at least 1; `out` must hold it.
void WriteRtpPadding(uint8_t size, uint8_t* out);

}  // namespace kvs::rtp
