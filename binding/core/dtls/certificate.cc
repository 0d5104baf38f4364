#include "dtls/certificate.h"

#include <vector>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cctype>

namespace kvs::dtls {
namespace {

Status OpenSslFailure(const char* what) {
  return Status::Fail("ERR_DTLS_CERTIFICATE",
                      std::string(what) + ": " + crypto::TakeOpenSslErrors());
}

}  // namespace

Result<std::string> Certificate::Sha256Fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (cert == nullptr || X509_digest(cert, EVP_sha256(), md, &len) != 1) {
    return OpenSslFailure("X509_digest");
  }
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(len * 3);
  for (unsigned int i = 0; i < len; ++i) {
    if (i != 0) out.push_back(':');
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0x0f]);
  }
  return out;
}

Result<std::shared_ptr<const Certificate>> Certificate::GenerateEcdsaP256(
    std::chrono::hours validity) {
  crypto::EnsureOpenSslInitialised();
  crypto::EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslFailure("EVP_EC_gen");

  crypto::X509Ptr cert(X509_new());
  if (!cert) return OpenSslFailure("X509_new");
  // A random positive serial: peers may cache certificates by issuer and serial.
  unsigned char serial[8];
  if (RAND_bytes(serial, sizeof serial) != 1) return OpenSslFailure("RAND_bytes");
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  const bool serialOk = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  if (!serialOk) return OpenSslFailure("serial");

  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_set_version(cert.get(), 2) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("kvs-webrtc"), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 ||
      // Back-dated a day so that peers with slow clocks accept it.
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                      static_cast<long>(validity.count()) * 3600) == nullptr ||  // NOLINT
      X509_set_pubkey(cert.get(), key.get()) != 1 ||
      X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return OpenSslFailure("building the self-signed certificate");
  }
  auto fp = Sha256Fingerprint(cert.get());
  if (!fp.ok()) return fp.status();
  return std::shared_ptr<const Certificate>(
      std::make_shared<Certificate>(std::move(cert), std::move(key), fp.take()));
}

Result<std::shared_ptr<const Certificate>> Certificate::FromPem(const std::string& certPem,
                                                                const std::string& keyPem) {
  crypto::EnsureOpenSslInitialised();
  crypto::BioPtr certBio(BIO_new_mem_buf(certPem.data(), static_cast<int>(certPem.size())));
  crypto::BioPtr keyBio(BIO_new_mem_buf(keyPem.data(), static_cast<int>(keyPem.size())));
  if (!certBio || !keyBio) return OpenSslFailure("BIO_new_mem_buf");
  crypto::X509Ptr cert(PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr));
  if (!cert) return OpenSslFailure("reading the certificate PEM");
  crypto::EvpPkeyPtr key(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
  if (!key) return OpenSslFailure("reading the private key PEM");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return OpenSslFailure("the private key does not match the certificate");
  }
  auto fp = Sha256Fingerprint(cert.get());
  if (!fp.ok()) return fp.status();
  return std::shared_ptr<const Certificate>(
      std::make_shared<Certificate>(std::move(cert), std::move(key), fp.take()));
}

std::string CertificateBase64(X509* cert) {
  const int derLength = i2d_X509(cert, nullptr);
  if (derLength <= 0) return {};
  std::vector<unsigned char> der(static_cast<size_t>(derLength));
  unsigned char* p = der.data();
  if (i2d_X509(cert, &p) != derLength) return {};
  std::string out(static_cast<size_t>(4 * ((derLength + 2) / 3)) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), der.data(), derLength);
  if (n < 0) return {};
  out.resize(static_cast<size_t>(n));
  return out;
}

bool FingerprintsEqual(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace kvs::dtls
