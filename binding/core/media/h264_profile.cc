#include "media/h264_profile.h"

#include <array>

namespace kvs::media {
namespace {

// A profile-iop pattern as RFC 6184 writes it: 8 characters, most significant bit first, 'x'
// for either value.
struct IopPattern {
  uint8_t mask = 0;
  uint8_t value = 0;
  constexpr explicit IopPattern(const char (&bits)[9]) {
    for (int i = 0; i < 8; ++i) {
      const uint8_t bit = static_cast<uint8_t>(0x80 >> i);
      if (bits[i] != 'x') mask = static_cast<uint8_t>(mask | bit);
      if (bits[i] == '1') value = static_cast<uint8_t>(value | bit);
    }
  }
  constexpr bool Matches(uint8_t iop) const { return (iop & mask) == value; }
};

struct Row {
  uint8_t profileIdc;
  IopPattern iop;
  H264Profile profile;
};

constexpr std::array<Row, 16> kTable = {{
    // RFC 6184 Table 5.
    {0x42, IopPattern("x1xx0000"), H264Profile::kConstrainedBaseline},
    {0x4D, IopPattern("1xxx0000"), H264Profile::kConstrainedBaseline},
    {0x58, IopPattern("11xx0000"), H264Profile::kConstrainedBaseline},
    {0x42, IopPattern("x0xx0000"), H264Profile::kBaseline},
    {0x58, IopPattern("10xx0000"), H264Profile::kBaseline},
    {0x4D, IopPattern("0x0x0000"), H264Profile::kMain},
    {0x58, IopPattern("00xx0000"), H264Profile::kExtended},
    {0x64, IopPattern("00000000"), H264Profile::kHigh},
    {0x6E, IopPattern("00000000"), H264Profile::kHigh10},
    {0x7A, IopPattern("00000000"), H264Profile::kHigh422},
    {0xF4, IopPattern("00000000"), H264Profile::kHigh444},
    {0x6E, IopPattern("00010000"), H264Profile::kHigh10Intra},
    {0x7A, IopPattern("00010000"), H264Profile::kHigh422Intra},
    {0xF4, IopPattern("00010000"), H264Profile::kHigh444Intra},
    {0x2C, IopPattern("00010000"), H264Profile::kCavlc444Intra},
    // H.264 (since 2012) A.2.4.2; A.2.4.1 below.
    {0x64, IopPattern("00001100"), H264Profile::kConstrainedHigh},
}};

constexpr Row kProgressiveHigh = {0x64, IopPattern("00001000"), H264Profile::kProgressiveHigh};

// H.264 Table A-1 level_idc values (9 is level 1b outside Baseline/Main/Extended).
bool KnownLevel(uint8_t idc) {
  switch (idc) {
    case 9:
    case 10:
    case 11:
    case 12:
    case 13:
    case 20:
    case 21:
    case 22:
    case 30:
    case 31:
    case 32:
    case 40:
    case 41:
    case 42:
    case 50:
    case 51:
    case 52:
    case 60:
    case 61:
    case 62:
      return true;
    default:
      return false;
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const char* H264ProfileName(H264Profile profile) {
  switch (profile) {
    case H264Profile::kConstrainedBaseline:
      return "constrained-baseline";
    case H264Profile::kBaseline:
      return "baseline";
    case H264Profile::kMain:
      return "main";
    case H264Profile::kExtended:
      return "extended";
    case H264Profile::kHigh:
      return "high";
    case H264Profile::kProgressiveHigh:
      return "progressive-high";
    case H264Profile::kConstrainedHigh:
      return "constrained-high";
    case H264Profile::kHigh10:
      return "high-10";
    case H264Profile::kHigh422:
      return "high-4:2:2";
    case H264Profile::kHigh444:
      return "high-4:4:4-predictive";
    case H264Profile::kHigh10Intra:
      return "high-10-intra";
    case H264Profile::kHigh422Intra:
      return "high-4:2:2-intra";
    case H264Profile::kHigh444Intra:
      return "high-4:4:4-intra";
    case H264Profile::kCavlc444Intra:
      return "cavlc-4:4:4-intra";
  }
  return "unknown";
}

std::optional<H264Profile> ClassifyH264Profile(uint8_t profileIdc, uint8_t profileIop) {
  for (const Row& row : kTable) {
    if (row.profileIdc == profileIdc && row.iop.Matches(profileIop)) return row.profile;
  }
  if (kProgressiveHigh.profileIdc == profileIdc && kProgressiveHigh.iop.Matches(profileIop)) {
    return kProgressiveHigh.profile;
  }
  return std::nullopt;
}

bool H264ProfileLevelId::level1b() const {
  const bool bme = profileIdc == 0x42 || profileIdc == 0x4D || profileIdc == 0x58;
  return (bme && levelIdc == 11 && (profileIop & 0x10) != 0) || levelIdc == 9;
}

int H264ProfileLevelId::levelRank() const { return level1b() ? 105 : levelIdc * 10; }

std::string H264ProfileLevelId::levelName() const {
  if (level1b()) return "1b";
  std::string name = std::to_string(levelIdc / 10);
  if (levelIdc % 10 != 0) name += "." + std::to_string(levelIdc % 10);
  return name;
}

std::string H264ProfileLevelId::ToString() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : {profileIdc, profileIop, levelIdc}) {
    s += kHex[b >> 4];
    s += kHex[b & 0xF];
  }
  return s;
}

Result<H264ProfileLevelId> ParseH264ProfileLevelId(std::string_view v) {
  std::array<uint8_t, 3> bytes{};
  bool hex = v.size() == 6;
  for (size_t i = 0; hex && i < 6; ++i) {
    const int d = HexDigit(v[i]);
    if (d < 0) {
      hex = false;
    } else {
      bytes[i / 2] = static_cast<uint8_t>(bytes[i / 2] * 16 + d);
    }
  }
  if (!hex) {
    return Status::Fail("ERR_H264_PROFILE_LEVEL_ID",
                        "profile-level-id \"" + std::string(v) + "\" is not 6 hex digits");
  }
  H264ProfileLevelId id;
  id.profileIdc = bytes[0];
  id.profileIop = bytes[1];
  id.levelIdc = bytes[2];
  auto profile = ClassifyH264Profile(id.profileIdc, id.profileIop);
  if (!profile) {
    return Status::Fail("ERR_H264_UNKNOWN_PROFILE",
                        "profile-level-id \"" + std::string(v) +
                            "\": no profile has this profile_idc and profile-iop");
  }
  id.profile = *profile;
  if (!KnownLevel(id.levelIdc)) {
    return Status::Fail("ERR_H264_PROFILE_LEVEL_ID",
                        "profile-level-id \"" + std::string(v) + "\": level_idc " +
                            std::to_string(id.levelIdc) + " is not an H.264 level");
  }
  return id;
}

}  // namespace kvs::media
