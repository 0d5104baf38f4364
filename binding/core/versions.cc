#include "versions.h"

#include <openssl/crypto.h>

#include "crypto/openssl.h"
#include "srtp/srtp_session.h"

#ifndef KVS_USRSCTP_VERSION
#error "KVS_USRSCTP_VERSION must be defined by the build (deps/manifest.json)"
#endif

namespace kvs {

LinkedVersions GetLinkedVersions() {
  crypto::EnsureOpenSslInitialised();
  LinkedVersions v;
  v.openssl = OpenSSL_version(OPENSSL_VERSION);
  std::string platform = OpenSSL_version(OPENSSL_PLATFORM);
  const std::string prefix = "platform: ";
  if (platform.rfind(prefix, 0) == 0) platform.erase(0, prefix.size());
  v.opensslPlatform = platform;
  v.libsrtp2 = srtp::LibSrtpVersion();
  v.usrsctp = KVS_USRSCTP_VERSION;
  return v;
}

}  // namespace kvs
