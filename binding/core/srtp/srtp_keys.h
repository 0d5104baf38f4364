// SRTP master keys derived from a DTLS handshake (RFC 5764 §4.2).
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "srtp/srtp_profile.h"

namespace kvs::srtp {

struct SrtpKeys {
  SrtpProfile profile;
  // Each is master key followed by master salt, the layout libsrtp expects.
  std::vector<uint8_t> localKeySalt;   // protects what we send
  std::vector<uint8_t> remoteKeySalt;  // unprotects what the peer sends
};

// Splits the exporter output (client key | server key | client salt | server salt).
Result<SrtpKeys> SplitExportedKeyingMaterial(SrtpProfile profile, const std::vector<uint8_t>& ekm,
                                             bool weAreDtlsClient);

// The exporter output length a profile needs.
size_t KeyingMaterialLength(SrtpProfile profile);

}  // namespace kvs::srtp
