// OpenSSL ownership helpers and one-time initialisation of the statically linked copy.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace kvs::crypto {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;

// Initialises our private OpenSSL without reading the system's openssl.cnf: a device's
// config file must not change what the addon negotiates. Safe to call many times.
void EnsureOpenSslInitialised();

// Drains OpenSSL's thread-local error queue into one readable line.
std::string TakeOpenSslErrors();

}  // namespace kvs::crypto
