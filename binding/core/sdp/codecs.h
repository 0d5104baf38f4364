// The codecs we negotiate, with the C SDK's payload types and fmtp (reference c-sdk.md §3), and
// the rules for recognising them in a peer's SDP (RFC 6184 for H.264's profile-level-id).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/session_description.h"

namespace kvs::sdp {

enum class MediaKind { kAudio, kVideo };
enum class Codec { kH264, kH265, kVp8, kOpus, kPcmu, kPcma };

struct CodecInfo {
  Codec codec;
  MediaKind kind;
  const char* name;  // the rtpmap encoding name as we write it
  uint32_t clockRate;
  uint32_t channels;       // 0 = not written
  uint8_t payloadType;     // what we offer
  uint8_t rtxPayloadType;  // what we offer for its RTX stream; 0 = no RTX for this codec
  const char* fmtp;        // what we offer; "" = none
};

const CodecInfo& InfoOf(Codec c);
const char* MediaKindName(MediaKind k);  // "audio", "video"
// Our codecs of one kind, in our preference order (the order the C SDK lists them).
std::vector<Codec> DefaultCodecs(MediaKind k);

// The header extensions we negotiate (RFC 8285), with the ids our offers give them. An answer
// keeps the offer's ids.
inline constexpr const char* kTwccExtensionUri =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr const char* kMidExtensionUri = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr const char* kAbsSendTimeExtensionUri =
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr uint16_t kTwccExtensionId = 1;
inline constexpr uint16_t kAbsSendTimeExtensionId = 2;
inline constexpr uint16_t kMidExtensionId = 3;

// The value of `key` in an fmtp string ("a=1;b=2"); keys compare case-insensitively.
std::optional<std::string> FmtpParameter(std::string_view fmtp, std::string_view key);

// H.264 profiles by RFC 6184 Table 5 (profile_idc and the constraint flags of profile-level-id).
enum class H264Profile {
  kConstrainedBaseline,
  kBaseline,
  kMain,
  kExtended,
  kConstrainedHigh,
  kHigh,
  kOther
};
// Parses the 6-hex-digit profile-level-id; nullopt if it is not one.
std::optional<H264Profile> H264ProfileOf(std::string_view profileLevelId);

// How well a peer's payload type fits one of our codecs: nullopt if it does not, otherwise a
// score (higher is better) used to pick among several fitting ones (Chromium offers many H.264
// variants). Matches by encoding name (any case), clock rate, channel count, and for H.264 by
// packetization-mode (must be 1) and profile (must be Constrained Baseline).
std::optional<int> MatchScore(Codec ours, const RtpFormat& theirs);

// Which of our codecs a payload type is, if any (the best-scoring one).
std::optional<Codec> IdentifyCodec(const RtpFormat& f);

// True for "rtx/<clock>" formats; `apt` is the payload type it repairs.
std::optional<uint8_t> RtxAssociatedPayloadType(const RtpFormat& f);

}  // namespace kvs::sdp
