// A DTLS identity: a key pair and a self-signed certificate, with its SDP fingerprint.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "crypto/openssl.h"

namespace kvs::dtls {

class Certificate {
 public:
  // ECDSA P-256 is the C SDK's default: cheap to generate (about a millisecond) and what
  // browsers use themselves.
  static Result<std::shared_ptr<const Certificate>> GenerateEcdsaP256(
      std::chrono::hours validity = std::chrono::hours(24 * 30));

  // Loads a pre-generated certificate and private key (PEM).
  static Result<std::shared_ptr<const Certificate>> FromPem(const std::string& certPem,
                                                            const std::string& keyPem);

  X509* x509() const { return cert_.get(); }
  EVP_PKEY* key() const { return key_.get(); }

  // "sha-256" fingerprint as in SDP: upper-case hex pairs joined by ':'.
  const std::string& fingerprint() const { return fingerprint_; }

  // The fingerprint of any certificate, in the same form.
  static Result<std::string> Sha256Fingerprint(X509* cert);

  Certificate(crypto::X509Ptr cert, crypto::EvpPkeyPtr key, std::string fingerprint)
      : cert_(std::move(cert)), key_(std::move(key)), fingerprint_(std::move(fingerprint)) {}

 private:
  crypto::X509Ptr cert_;
  crypto::EvpPkeyPtr key_;
  std::string fingerprint_;
};

// A certificate in DER, base64-encoded (W3C RTCCertificateStats.base64Certificate); empty if
// it cannot be encoded.
std::string CertificateBase64(X509* cert);

// Compares two SDP fingerprints, ignoring the case of the hex digits.
bool FingerprintsEqual(const std::string& a, const std::string& b);

}  // namespace kvs::dtls
