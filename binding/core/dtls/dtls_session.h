// One DTLS 1.2 association over ICE, as client or server by `a=setup`. Pure state machine:
// it never touches a socket or a clock. The owner feeds datagrams and timer expiries, and
// sends what TakeOutgoing() returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/openssl.h"
#include "dtls/certificate.h"
#include "dtls/datagram_bio.h"
#include "srtp/srtp_keys.h"
#include "srtp/srtp_profile.h"

namespace kvs::dtls {

enum class DtlsRole { kClient, kServer };
enum class DtlsState { kNew, kConnecting, kConnected, kFailed, kClosed };

struct DtlsConfig {
  DtlsRole role = DtlsRole::kClient;
  std::shared_ptr<const Certificate> certificate;
  // Offered (client) or accepted (server) SRTP profiles, most preferred first.
  std::vector<srtp::SrtpProfile> srtpProfiles;
  // The sha-256 fingerprint from the peer's SDP. The peer's certificate must match it.
  std::string remoteFingerprint;
  long mtu = 1200;  // NOLINT: OpenSSL's type; the C SDK's default MTU
};

class DtlsSession {
  struct Key {};  // only Create() constructs

 public:
  static Result<std::unique_ptr<DtlsSession>> Create(DtlsConfig config);
  DtlsSession(Key, DtlsConfig config);
  DtlsSession(const DtlsSession&) = delete;
  DtlsSession& operator=(const DtlsSession&) = delete;

  // The client sends its ClientHello; the server waits for one.
  Status Start();
  // A datagram from the peer that RFC 7983 demultiplexing classed as DTLS.
  Status HandleDatagram(const uint8_t* data, size_t len);
  // Call when TimeUntilRetransmit() has elapsed.
  Status HandleTimeout();
  // How long until a handshake retransmission is due; nullopt when none is pending.
  std::optional<std::chrono::microseconds> TimeUntilRetransmit() const;
  // Application data (SCTP) once connected.
  Status Send(const uint8_t* data, size_t len);
  // Sends close_notify.
  void Close();

  std::vector<std::vector<uint8_t>> TakeOutgoing();
  // Application data records (SCTP packets), each as it is decrypted, from inside
  // HandleDatagram. With no handler they are dropped and counted: nothing piles up.
  void SetApplicationDataHandler(std::function<void(ByteSpan)> handler) {
    onApplicationData_ = std::move(handler);
  }
  uint64_t droppedApplicationRecords() const { return droppedApplicationRecords_; }

  DtlsState state() const { return state_; }
  const Status& failure() const { return failure_; }
  DtlsRole role() const { return config_.role; }
  std::string protocolVersion() const;
  std::string cipher() const;
  const std::string& peerFingerprint() const { return peerFingerprint_; }
  // The peer's certificate, DER, base64 (W3C RTCCertificateStats); empty before the handshake.
  std::string peerCertificateBase64() const;
  std::optional<srtp::SrtpProfile> selectedSrtpProfile() const;
  Result<srtp::SrtpKeys> ExportSrtpKeys() const;

 private:
  Status Init();
  Status Advance();
  Status Fail(Status status);
  static int VerifyPeer(X509_STORE_CTX* store, void* arg);

  DtlsConfig config_;
  DtlsState state_ = DtlsState::kNew;
  Status failure_;
  std::string peerFingerprint_;
  bool fingerprintMismatch_ = false;
  // Declared before ssl_, which holds a BIO pointing at it: destroyed after ssl_.
  DatagramQueues queues_;
  std::function<void(ByteSpan)> onApplicationData_;
  uint64_t droppedApplicationRecords_ = 0;
  std::vector<uint8_t> readBuffer_;  // one record at a time; kept to avoid a per-read allocation
  crypto::SslCtxPtr ctx_;
  crypto::SslPtr ssl_;
};

}  // namespace kvs::dtls
