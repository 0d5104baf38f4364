#include "srtp/srtp_profile.h"

#include <array>

namespace kvs::srtp {
namespace {

// Key and salt lengths from RFC 5764 §4.1.2 and RFC 7714 §12; ids from the IANA registry.
constexpr std::array<SrtpProfileInfo, 3> kProfiles = {{
    {SrtpProfile::kAesCm128HmacSha1_80, "AES_CM_128_HMAC_SHA1_80", "SRTP_AES128_CM_SHA1_80",
     "SRTP_AES128_CM_HMAC_SHA1_80", 0x0001, 16, 14},
    {SrtpProfile::kAesCm128HmacSha1_32, "AES_CM_128_HMAC_SHA1_32", "SRTP_AES128_CM_SHA1_32",
     "SRTP_AES128_CM_HMAC_SHA1_32", 0x0002, 16, 14},
    {SrtpProfile::kAeadAes128Gcm, "AEAD_AES_128_GCM", "SRTP_AEAD_AES_128_GCM",
     "SRTP_AEAD_AES_128_GCM", 0x0007, 16, 12},
}};

}  // namespace

const SrtpProfileInfo& InfoOf(SrtpProfile profile) {
  for (const auto& info : kProfiles) {
    if (info.profile == profile) return info;
  }
  return kProfiles[0];  // unreachable: every enumerator is in the table
}

std::optional<SrtpProfile> ProfileFromName(std::string_view name) {
  for (const auto& info : kProfiles) {
    if (info.name == name) return info.profile;
  }
  return std::nullopt;
}

std::optional<SrtpProfile> ProfileFromOpenSslId(unsigned long id) {  // NOLINT
  for (const auto& info : kProfiles) {
    if (info.opensslId == id) return info.profile;
  }
  return std::nullopt;
}

}  // namespace kvs::srtp
