// The SRTP protection profiles negotiated through DTLS use_srtp (RFC 5764, RFC 7714).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace kvs::srtp {

enum class SrtpProfile { kAesCm128HmacSha1_80, kAesCm128HmacSha1_32, kAeadAes128Gcm };

struct SrtpProfileInfo {
  SrtpProfile profile;
  std::string_view name;         // RFC name, used in the JS API
  std::string_view opensslName;  // name in SSL_CTX_set_tlsext_use_srtp
  // The "Profile" column of IANA's DTLS-SRTP registry: what W3C stats call srtpCipher.
  std::string_view ianaName;
  unsigned long opensslId;  // NOLINT: SRTP_PROTECTION_PROFILE::id
  size_t keyLength;
  size_t saltLength;
};

const SrtpProfileInfo& InfoOf(SrtpProfile profile);
std::optional<SrtpProfile> ProfileFromName(std::string_view name);
std::optional<SrtpProfile> ProfileFromOpenSslId(unsigned long id);  // NOLINT

}  // namespace kvs::srtp
