// H.264 profile-level-id (RFC 6184 §8.1, Table 5).
#include <doctest/doctest.h>

#include <cctype>
#include <string>
#include <vector>

#include "media/h264_profile.h"

using namespace kvs;
using namespace kvs::media;

TEST_CASE("profile-level-id: RFC 6184 Table 5 and the values browsers offer") {
  struct Case {
    const char* value;
    H264Profile profile;
    const char* level;
  };
  const std::vector<Case> cases = {
      // Constrained Baseline, three ways (Table 5: 42 x1xx0000, 4D 1xxx0000, 58 11xx0000).
      {"42e01f", H264Profile::kConstrainedBaseline, "3.1"},  // the C SDK's and Chromium's
      {"42c01f", H264Profile::kConstrainedBaseline, "3.1"},  // x264's baseline
      {"424033", H264Profile::kConstrainedBaseline, "5.1"},
      {"4d8028", H264Profile::kConstrainedBaseline, "4"},
      {"58c01e", H264Profile::kConstrainedBaseline, "3"},
      // Baseline (42 x0xx0000, 58 10xx0000).
      {"42001f", H264Profile::kBaseline, "3.1"},
      {"42801f", H264Profile::kBaseline, "3.1"},
      {"42000a", H264Profile::kBaseline, "1"},  // the default when absent
      {"588014", H264Profile::kBaseline, "2"},
      // Main (4D 0x0x0000), Extended (58 00xx0000).
      {"4d001f", H264Profile::kMain, "3.1"},
      {"4d401f", H264Profile::kMain, "3.1"},
      {"4d1029", H264Profile::kMain, "4.1"},
      {"58001f", H264Profile::kExtended, "3.1"},
      {"58301f", H264Profile::kExtended, "3.1"},
      // The High family.
      {"640032", H264Profile::kHigh, "5"},
      {"640c1f", H264Profile::kConstrainedHigh, "3.1"},  // Chromium's constrained high
      {"640834", H264Profile::kProgressiveHigh, "5.2"},
      {"6e001f", H264Profile::kHigh10, "3.1"},
      {"7a001f", H264Profile::kHigh422, "3.1"},
      {"f4001f", H264Profile::kHigh444, "3.1"},
      {"6e101f", H264Profile::kHigh10Intra, "3.1"},
      {"7a101f", H264Profile::kHigh422Intra, "3.1"},
      {"f4101f", H264Profile::kHigh444Intra, "3.1"},
      {"2c101f", H264Profile::kCavlc444Intra, "3.1"},
      // Upper case is fine.
      {"42E01F", H264Profile::kConstrainedBaseline, "3.1"},
      // Level 1b: level_idc 11 with constraint_set3 in Baseline/Main/Extended, 9 elsewhere.
      {"42f00b", H264Profile::kConstrainedBaseline, "1b"},
      {"42e00b", H264Profile::kConstrainedBaseline, "1.1"},
      {"4d100b", H264Profile::kMain, "1b"},
      {"640009", H264Profile::kHigh, "1b"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.value);
    auto r = ParseH264ProfileLevelId(c.value);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    CHECK(r.value().profile == c.profile);
    CHECK(r.value().levelName() == c.level);
    std::string lower = c.value;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    CHECK(r.value().ToString() == lower);
  }
  auto d = ParseH264ProfileLevelId(kH264DefaultProfileLevelId);
  REQUIRE(d.ok());
  CHECK(d.value().profileIdc == 0x42);
  CHECK(d.value().profileIop == 0x00);
  CHECK(d.value().levelIdc == 10);
  CHECK(d.value().levelName() == "1");
  CHECK(std::string(H264ProfileName(d.value().profile)) == "baseline");
}

TEST_CASE("profile-level-id: what is not one") {
  struct Case {
    const char* value;
    const char* code;
  };
  const std::vector<Case> cases = {
      {"", "ERR_H264_PROFILE_LEVEL_ID"},
      {"42e01", "ERR_H264_PROFILE_LEVEL_ID"},
      {"42e01f0", "ERR_H264_PROFILE_LEVEL_ID"},
      {"42e01g", "ERR_H264_PROFILE_LEVEL_ID"},
      {" 42e01", "ERR_H264_PROFILE_LEVEL_ID"},
      {"42e03f", "ERR_H264_PROFILE_LEVEL_ID"},  // level_idc 63
      {"42e000", "ERR_H264_PROFILE_LEVEL_ID"},  // level_idc 0
      {"420010", "ERR_H264_PROFILE_LEVEL_ID"},  // level_idc 16 (level 1 is 0x0a)
      {"420f1f", "ERR_H264_UNKNOWN_PROFILE"},   // reserved bits of profile-iop set
      {"4d201f", "ERR_H264_UNKNOWN_PROFILE"},   // Main with constraint_set2
      {"58401f", "ERR_H264_UNKNOWN_PROFILE"},   // Extended 01xx0000 is not in the table
      {"64801f", "ERR_H264_UNKNOWN_PROFILE"},
      {"ff001f", "ERR_H264_UNKNOWN_PROFILE"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.value);
    auto r = ParseH264ProfileLevelId(c.value);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == c.code);
  }
}

TEST_CASE("profile-level-id: profiles match across spellings; levels order with 1b") {
  auto profileOf = [](const char* v) { return ParseH264ProfileLevelId(v).value().profile; };
  CHECK(profileOf("42e01f") == profileOf("4d8028"));
  CHECK(profileOf("42e01f") == profileOf("58c01e"));
  CHECK(profileOf("42e01f") != profileOf("42001f"));
  CHECK(profileOf("640c1f") != profileOf("640032"));

  auto rank = [](const char* v) { return ParseH264ProfileLevelId(v).value().levelRank(); };
  CHECK(rank("42e00a") < rank("42f00b"));  // 1 < 1b
  CHECK(rank("42f00b") < rank("42e00b"));  // 1b < 1.1
  CHECK(rank("640009") == rank("42f00b"));
  CHECK(rank("42e01f") < rank("42e020"));  // 3.1 < 3.2
  CHECK(rank("42e01f") > rank("42e01e"));
}
