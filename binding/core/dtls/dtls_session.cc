#include "dtls/dtls_session.h"

#include <openssl/err.h>

#include <algorithm>

namespace kvs::dtls {
namespace {

// Forward-secret AEAD suites for both key types peers use (Chromium: ECDSA; some: RSA).
constexpr const char* kCipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";

// Retransmission backoff: start at 100 ms rather than OpenSSL's 1 s, so a lost first flight
// costs little; double up to RFC 6347's 60 s ceiling.
unsigned int RetransmitTimer(SSL* /*ssl*/, unsigned int previousUs) {
  constexpr unsigned int kInitialUs = 100 * 1000;
  constexpr unsigned int kMaxUs = 60 * 1000 * 1000;
  return previousUs == 0 ? kInitialUs : std::min(previousUs * 2, kMaxUs);
}

}  // namespace

Result<std::unique_ptr<DtlsSession>> DtlsSession::Create(DtlsConfig config) {
  if (!config.certificate) {
    return Status::Fail("ERR_INVALID_ARGUMENT", "DTLS config: certificate is required");
  }
  if (config.remoteFingerprint.empty()) {
    return Status::Fail("ERR_INVALID_ARGUMENT",
                        "DTLS config: remoteFingerprint (sha-256 from the peer's SDP) is required");
  }
  if (config.srtpProfiles.empty()) {
    return Status::Fail("ERR_INVALID_ARGUMENT", "DTLS config: at least one SRTP profile");
  }
  if (config.mtu < 256 || config.mtu > 65535) {
    return Status::Fail("ERR_INVALID_ARGUMENT",
                        "DTLS config: mtu must be 256..65535, got " + std::to_string(config.mtu));
  }
  auto session = std::make_unique<DtlsSession>(Key{}, std::move(config));
  Status init = session->Init();
  if (!init.ok()) return init;
  return session;
}

DtlsSession::DtlsSession(Key, DtlsConfig config) : config_(std::move(config)) {}

Status DtlsSession::Init() {
  crypto::EnsureOpenSslInitialised();
  ERR_clear_error();
  queues_.mtu = config_.mtu;
  ctx_.reset(SSL_CTX_new(DTLS_method()));
  if (!ctx_) return Status::Fail("ERR_DTLS_INIT", crypto::TakeOpenSslErrors());
  SSL_CTX* ctx = ctx_.get();
  std::string profiles;
  for (auto p : config_.srtpProfiles) {
    if (!profiles.empty()) profiles += ':';
    profiles += srtp::InfoOf(p).opensslName;
  }
  // Both sides must present a certificate: it is what the SDP fingerprint authenticates.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, &DtlsSession::VerifyPeer, this);
  if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kCipherList) != 1 ||
      SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1 ||
      // Note the inverted convention: this one returns 0 on success.
      SSL_CTX_set_tlsext_use_srtp(ctx, profiles.c_str()) != 0 ||
      SSL_CTX_use_certificate(ctx, config_.certificate->x509()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, config_.certificate->key()) != 1) {
    return Status::Fail("ERR_DTLS_INIT", crypto::TakeOpenSslErrors());
  }
  SSL_CTX_set_read_ahead(ctx, 1);

  ssl_.reset(SSL_new(ctx));
  if (!ssl_) return Status::Fail("ERR_DTLS_INIT", crypto::TakeOpenSslErrors());
  crypto::BioPtr bio = NewDatagramBio(&queues_);
  if (!bio) return Status::Fail("ERR_DTLS_INIT", crypto::TakeOpenSslErrors());
  BIO* raw = bio.release();
  SSL_set_bio(ssl_.get(), raw, raw);  // the SSL owns the BIO from here (one reference)
  SSL_set_options(ssl_.get(), SSL_OP_NO_QUERY_MTU);
  DTLS_set_link_mtu(ssl_.get(), config_.mtu);
  DTLS_set_timer_cb(ssl_.get(), RetransmitTimer);
  if (config_.role == DtlsRole::kClient) {
    SSL_set_connect_state(ssl_.get());
  } else {
    SSL_set_accept_state(ssl_.get());
  }
  return Status::Ok();
}

int DtlsSession::VerifyPeer(X509_STORE_CTX* store, void* arg) {
  auto* self = static_cast<DtlsSession*>(arg);
  auto fp = Certificate::Sha256Fingerprint(X509_STORE_CTX_get0_cert(store));
  if (!fp.ok()) return 0;
  self->peerFingerprint_ = fp.value();
  // Self-signed is normal in WebRTC: the fingerprint from signaling is the trust anchor.
  if (!FingerprintsEqual(self->peerFingerprint_, self->config_.remoteFingerprint)) {
    self->fingerprintMismatch_ = true;
    return 0;
  }
  return 1;
}

Status DtlsSession::Start() {
  if (state_ != DtlsState::kNew) {
    return Status::Fail("ERR_INVALID_STATE", "DTLS session already started");
  }
  state_ = DtlsState::kConnecting;
  return Advance();
}

Status DtlsSession::Fail(Status status) {
  state_ = DtlsState::kFailed;
  failure_ = status;
  return status;
}

Status DtlsSession::Advance() {
  ERR_clear_error();
  if (state_ == DtlsState::kConnecting) {
    const int r = SSL_do_handshake(ssl_.get());
    if (r != 1) {
      const int err = SSL_get_error(ssl_.get(), r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::Ok();
      if (fingerprintMismatch_) {
        ERR_clear_error();
        return Fail(Status::Fail("ERR_DTLS_FINGERPRINT_MISMATCH",
                                 "the peer's certificate fingerprint " + peerFingerprint_ +
                                     " does not match the SDP fingerprint " +
                                     config_.remoteFingerprint));
      }
      return Fail(Status::Fail("ERR_DTLS_HANDSHAKE", crypto::TakeOpenSslErrors()));
    }
    if (!selectedSrtpProfile()) {
      return Fail(Status::Fail("ERR_DTLS_NO_SRTP_PROFILE",
                               "the peer agreed to no SRTP protection profile we offered"));
    }
    state_ = DtlsState::kConnected;
  }
  if (state_ != DtlsState::kConnected) return Status::Ok();
  // Drain application data; handshake retransmissions from the peer are answered here too.
  // A record carries at most 2^14 bytes of plaintext (RFC 6347 §4.1).
  if (readBuffer_.empty()) readBuffer_.resize(16 * 1024 + 256);
  for (int guard = 0; guard < 4096; ++guard) {
    const int n = SSL_read(ssl_.get(), readBuffer_.data(), static_cast<int>(readBuffer_.size()));
    if (n > 0) {
      if (onApplicationData_) {
        onApplicationData_(ByteSpan(readBuffer_.data(), static_cast<size_t>(n)));
      } else {
        ++droppedApplicationRecords_;
      }
      continue;
    }
    const int err = SSL_get_error(ssl_.get(), n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
    if (err == SSL_ERROR_ZERO_RETURN) {
      state_ = DtlsState::kClosed;
      break;
    }
    return Fail(Status::Fail("ERR_DTLS_READ", crypto::TakeOpenSslErrors()));
  }
  return Status::Ok();
}

Status DtlsSession::HandleDatagram(const uint8_t* data, size_t len) {
  if (state_ == DtlsState::kFailed || state_ == DtlsState::kClosed) return Status::Ok();
  if (len == 0 || len > 65535) {
    return Status::Fail("ERR_DTLS_DATAGRAM", "datagram length " + std::to_string(len));
  }
  queues_.inbound.emplace_back(data, data + len);
  // A server learns it is in a handshake from the ClientHello itself.
  if (state_ == DtlsState::kNew && config_.role == DtlsRole::kServer) {
    state_ = DtlsState::kConnecting;
  }
  if (state_ == DtlsState::kNew) return Status::Ok();  // a client not yet started keeps it
  return Advance();
}

Status DtlsSession::HandleTimeout() {
  if (state_ != DtlsState::kConnecting) return Status::Ok();
  if (DTLSv1_handle_timeout(ssl_.get()) < 0) {
    return Fail(Status::Fail("ERR_DTLS_TIMEOUT", crypto::TakeOpenSslErrors()));
  }
  return Status::Ok();
}

std::optional<std::chrono::microseconds> DtlsSession::TimeUntilRetransmit() const {
  if (state_ != DtlsState::kConnecting) return std::nullopt;
  timeval tv{};
  if (DTLSv1_get_timeout(ssl_.get(), &tv) != 1) return std::nullopt;
  return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
}

Status DtlsSession::Send(const uint8_t* data, size_t len) {
  if (state_ != DtlsState::kConnected) {
    return Status::Fail("ERR_INVALID_STATE", "DTLS is not connected");
  }
  ERR_clear_error();
  const int n = SSL_write(ssl_.get(), data, static_cast<int>(len));
  if (n != static_cast<int>(len)) {
    return Status::Fail("ERR_DTLS_WRITE", crypto::TakeOpenSslErrors());
  }
  return Status::Ok();
}

void DtlsSession::Close() {
  if (state_ == DtlsState::kConnected) SSL_shutdown(ssl_.get());
  if (state_ != DtlsState::kFailed) state_ = DtlsState::kClosed;
}

std::vector<std::vector<uint8_t>> DtlsSession::TakeOutgoing() {
  return std::exchange(queues_.outbound, {});
}

std::string DtlsSession::peerCertificateBase64() const {
  crypto::X509Ptr peer(SSL_get1_peer_certificate(ssl_.get()));
  return peer ? CertificateBase64(peer.get()) : std::string();
}

std::string DtlsSession::protocolVersion() const { return SSL_get_version(ssl_.get()); }

std::string DtlsSession::cipher() const {
  const char* name = SSL_get_cipher_name(ssl_.get());
  return name ? name : "";
}

std::optional<srtp::SrtpProfile> DtlsSession::selectedSrtpProfile() const {
  const SRTP_PROTECTION_PROFILE* p = SSL_get_selected_srtp_profile(ssl_.get());
  if (p == nullptr) return std::nullopt;
  return srtp::ProfileFromOpenSslId(p->id);
}

Result<srtp::SrtpKeys> DtlsSession::ExportSrtpKeys() const {
  if (state_ != DtlsState::kConnected) {
    return Status::Fail("ERR_INVALID_STATE", "SRTP keys exist only once DTLS is connected");
  }
  auto profile = selectedSrtpProfile();
  if (!profile) return Status::Fail("ERR_DTLS_NO_SRTP_PROFILE", "no SRTP profile negotiated");
  static constexpr char kLabel[] = "EXTRACTOR-dtls_srtp";  // RFC 5764 §4.2
  std::vector<uint8_t> ekm(srtp::KeyingMaterialLength(*profile));
  if (SSL_export_keying_material(ssl_.get(), ekm.data(), ekm.size(), kLabel, sizeof kLabel - 1,
                                 nullptr, 0, 0) != 1) {
    return Status::Fail("ERR_DTLS_EXPORT", crypto::TakeOpenSslErrors());
  }
  return srtp::SplitExportedKeyingMaterial(*profile, ekm, config_.role == DtlsRole::kClient);
}

}  // namespace kvs::dtls
