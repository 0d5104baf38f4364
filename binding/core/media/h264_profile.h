// H.264's profile-level-id fmtp parameter (RFC 6184 §8.1): profile_idc, profile-iop (the
// constraint_set0..5 flags and two reserved bits) and level_idc, as 6 hex digits ("42e01f").
// SDP negotiation matches H.264 formats by the profile this classifies, never by the string
// (media-facts.md: Chromium offers several H.264 variants and picks a null decoder when the
// answer names the wrong one), and negotiates the level separately (RFC 6184 §8.2.2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kvs::media {

enum class H264Profile {
  kConstrainedBaseline,
  kBaseline,
  kMain,
  kExtended,
  kHigh,
  kProgressiveHigh,  // H.264 A.2.4.1: High with constraint_set4 (not in RFC 6184's table)
  kConstrainedHigh,  // H.264 A.2.4.2: High with constraint_set4 and 5 (Chromium's 640c1f)
  kHigh10,
  kHigh422,
  kHigh444,
  kHigh10Intra,
  kHigh422Intra,
  kHigh444Intra,
  kCavlc444Intra,
};

const char* H264ProfileName(H264Profile profile);  // "constrained-baseline", "high", ...

// RFC 6184 Table 5 (several profile_idc/profile-iop pairs name the same profile: 42e0, 4d80 and
// 58c0 are all Constrained Baseline), plus the two High sub-profiles above. nullopt for a pair
// the table does not list.
std::optional<H264Profile> ClassifyH264Profile(uint8_t profileIdc, uint8_t profileIop);

struct H264ProfileLevelId {
  uint8_t profileIdc = 0;
  uint8_t profileIop = 0;
  uint8_t levelIdc = 0;
  H264Profile profile = H264Profile::kConstrainedBaseline;

  // Level 1b: level_idc 11 with constraint_set3 in Baseline/Main/Extended, 9 otherwise.
  bool level1b() const;
  // A number that orders levels: level_idc × 10 (level 3.1 → 310), and 105 for 1b, which lies
  // between 1 (100) and 1.1 (110).
  int levelRank() const;
  // "1b", "3.1", "5"
  std::string levelName() const;
  // The fmtp value, 6 lowercase hex digits.
  std::string ToString() const;
};

// Parses the fmtp value: exactly 6 hex digits (either case), a profile ClassifyH264Profile
// knows, and a level_idc of H.264 Table A-1. Errors: ERR_H264_PROFILE_LEVEL_ID (syntax, level),
// ERR_H264_UNKNOWN_PROFILE.
Result<H264ProfileLevelId> ParseH264ProfileLevelId(std::string_view fmtpValue);

// What an absent profile-level-id means (RFC 6184 §8.1: "the Baseline profile, without
// additional constraints at Level 1"): level_idc 10 is 0x0a.
inline constexpr std::string_view kH264DefaultProfileLevelId = "42000a";

}  // namespace kvs::media
