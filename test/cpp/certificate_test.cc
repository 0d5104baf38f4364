#include <doctest/doctest.h>
#include <openssl/pem.h>

#include <cctype>

#include "dtls/certificate.h"
#include "test_util.h"

using kvs::dtls::Certificate;

namespace {

std::string ToPem(int (*write)(BIO*, void*), void* obj) {
  kvs::crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  REQUIRE(write(bio.get(), obj) == 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);  // NOLINT
  return std::string(data, static_cast<size_t>(len));
}

// 32 upper-case hex pairs joined by ':' (RFC 8122's fingerprint syntax for sha-256).
bool IsSha256Fingerprint(const std::string& fp) {
  if (fp.size() != 32 * 3 - 1) return false;
  for (size_t i = 0; i < fp.size(); ++i) {
    const char c = fp[i];
    if (i % 3 == 2 ? c != ':'
                   : !(std::isdigit(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("a generated certificate is ECDSA P-256 with an SDP-style sha-256 fingerprint") {
  auto cert = kvs::testing::NewCert();
  CHECK(EVP_PKEY_get_base_id(cert->key()) == EVP_PKEY_EC);
  CHECK(EVP_PKEY_get_bits(cert->key()) == 256);
  CHECK(IsSha256Fingerprint(cert->fingerprint()));
  CHECK_FALSE(IsSha256Fingerprint("ab:" + cert->fingerprint().substr(3)));
  CHECK(X509_verify(cert->x509(), cert->key()) == 1);  // self-signed
  CHECK(X509_cmp_current_time(X509_get0_notBefore(cert->x509())) < 0);
  CHECK(X509_cmp_current_time(X509_get0_notAfter(cert->x509())) > 0);
}

TEST_CASE("two generated certificates differ") {
  CHECK(kvs::testing::NewCert()->fingerprint() != kvs::testing::NewCert()->fingerprint());
}

TEST_CASE("a pre-generated certificate loads from PEM with the same fingerprint") {
  auto cert = kvs::testing::NewCert();
  const std::string certPem = ToPem(
      [](BIO* b, void* x) { return PEM_write_bio_X509(b, static_cast<X509*>(x)); }, cert->x509());
  const std::string keyPem = ToPem(
      [](BIO* b, void* k) {
        return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(k), nullptr, nullptr, 0, nullptr,
                                        nullptr);
      },
      cert->key());
  auto loaded = Certificate::FromPem(certPem, keyPem);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().message());
  CHECK(loaded.value()->fingerprint() == cert->fingerprint());

  auto other = kvs::testing::NewCert();
  const std::string otherKey = ToPem(
      [](BIO* b, void* k) {
        return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(k), nullptr, nullptr, 0, nullptr,
                                        nullptr);
      },
      other->key());
  auto mismatched = Certificate::FromPem(certPem, otherKey);
  REQUIRE_FALSE(mismatched.ok());
  CHECK(mismatched.status().code() == "ERR_DTLS_CERTIFICATE");
  CHECK_FALSE(Certificate::FromPem("not a pem", keyPem).ok());
}

TEST_CASE("fingerprints compare without regard to hex case") {
  CHECK(kvs::dtls::FingerprintsEqual("AB:CD:0F", "ab:cd:0f"));
  CHECK_FALSE(kvs::dtls::FingerprintsEqual("AB:CD:0F", "AB:CD:0E"));
  CHECK_FALSE(kvs::dtls::FingerprintsEqual("AB:CD", "AB:CD:0F"));
}
