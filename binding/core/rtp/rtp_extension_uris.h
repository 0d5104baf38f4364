// The URIs of the RTP header extensions WebRTC negotiates with a=extmap (RFC 8285 §5), in one
// place for the SDP layer and the media handlers. The codecs are in rtp_extension_codecs.h.
#pragma once

namespace kvs::rtp {

// RFC 8843 §15.1: the m= section's identification-tag, for BUNDLE demux.
inline constexpr char kMidUri[] = "urn:ietf:params:rtp-hdrext:sdes:mid";
// RFC 8852 §3.1 and §3.2: the simulcast stream's rid, and the rid an RTX stream repairs.
inline constexpr char kRtpStreamIdUri[] = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr char kRepairedRtpStreamIdUri[] =
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
// 24-bit 6.18 fixed-point send time, for receive-side (REMB) estimation.
inline constexpr char kAbsSendTimeUri[] =
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
// draft-holmer-rmcat-transport-wide-cc-extensions-01 §2: 16-bit transport-wide sequence.
inline constexpr char kTransportWideCcUri[] =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

}  // namespace kvs::rtp
