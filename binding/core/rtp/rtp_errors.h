// The stable error codes of the RTP and RTCP codecs, in one place. Every rejection by a parser
// or writer in binding/core/rtp carries one of these as its Status code; the message says
// which field was wrong.
#pragma once

namespace kvs::rtp {

// RTP (rtp_packet.h, rtp_header_extensions.h, rtp_extension_codecs.h)
// Shorter than the fixed header, the CSRC list or the header extension it announces.
inline constexpr char kErrRtpTruncated[] = "ERR_RTP_TRUNCATED";
// Version field not 2.
inline constexpr char kErrRtpVersion[] = "ERR_RTP_VERSION";
// P bit set with a pad count of zero or larger than what follows the header.
inline constexpr char kErrRtpPadding[] = "ERR_RTP_PADDING";
// An RFC 8285 element runs past the extension block.
inline constexpr char kErrRtpExtension[] = "ERR_RTP_EXTENSION";
// More RFC 8285 elements than HeaderExtensions::kCapacity.
inline constexpr char kErrRtpTooManyExtensions[] = "ERR_RTP_TOO_MANY_EXTENSIONS";
// A typed extension (abs-send-time, transport-cc, mid, rid) of the wrong size or empty.
inline constexpr char kErrRtpExtensionValue[] = "ERR_RTP_EXTENSION_VALUE";
// Writer input out of range: payload type, CSRC count, extension id, size or duplicate id.
inline constexpr char kErrRtpInvalidArgument[] = "ERR_RTP_INVALID_ARGUMENT";
// The caller's buffer cannot hold what is to be written.
inline constexpr char kErrRtpBufferTooSmall[] = "ERR_RTP_BUFFER_TOO_SMALL";

// RTCP (rtcp_*.h)
// Fewer than 4 bytes left for a header, or a body shorter than the fields its type needs.
inline constexpr char kErrRtcpTruncated[] = "ERR_RTCP_TRUNCATED";
// Version field not 2.
inline constexpr char kErrRtcpVersion[] = "ERR_RTCP_VERSION";
// The length field points past the end of the compound packet.
inline constexpr char kErrRtcpLength[] = "ERR_RTCP_LENGTH";
// P bit set with a pad count of zero or larger than the packet's body.
inline constexpr char kErrRtcpPadding[] = "ERR_RTCP_PADDING";
// A typed parser was handed a packet of another type or FMT.
inline constexpr char kErrRtcpWrongType[] = "ERR_RTCP_WRONG_TYPE";
// Structurally wrong contents: an SDES chunk without its end, a FIR without entries...
inline constexpr char kErrRtcpMalformed[] = "ERR_RTCP_MALFORMED";
// Transport-wide CC feedback that makes no sense: zero packets, a zero-length run, the
// reserved symbol, chunks or deltas that run out before the packet status count.
inline constexpr char kErrRtcpTwcc[] = "ERR_RTCP_TWCC";
// Application layer feedback that is not a well-formed REMB.
inline constexpr char kErrRtcpRemb[] = "ERR_RTCP_REMB";
// Builder input out of range (too many blocks or items, a TWCC delta that does not fit...).
inline constexpr char kErrRtcpInvalidArgument[] = "ERR_RTCP_INVALID_ARGUMENT";
// A compound packet that breaks RFC 3550 §6.1 (first packet not SR/RR, no SDES CNAME).
inline constexpr char kErrRtcpCompound[] = "ERR_RTCP_COMPOUND";

}  // namespace kvs::rtp
