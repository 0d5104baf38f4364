#include "crypto/openssl.h"

#include <openssl/err.h>

#include <mutex>

namespace kvs::crypto {

void EnsureOpenSslInitialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_LOAD_SSL_STRINGS |
                         OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
                     nullptr);
  });
}

std::string TakeOpenSslErrors() {
  std::string out;
  unsigned long err;  // NOLINT: OpenSSL's type
  while ((err = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error recorded" : out;
}

}  // namespace kvs::crypto
