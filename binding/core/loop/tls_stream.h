// A TLS client over a byte stream that someone else carries (TURN over TLS, "turns:"):
// OpenSSL with memory BIOs, no socket. Feed it what the TCP socket read, send what
// TakeCiphertext() returns, and it hands back the plaintext. TLS 1.2 or newer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/openssl.h"

namespace kvs::loop {

struct TlsOptions {
  // The name the certificate must match: a DNS name (also sent as SNI) or an IP literal
  // (matched against the certificate's IP addresses, no SNI). Required when verifying.
  std::string serverName;
  // PEM file of the certificates to trust (the local KVS service's CA, a test server's
  // self-signed certificate). Empty: OpenSSL's default trust store.
  std::string caFile;
  // Accepts any certificate from anyone. The relay then protects nothing: whoever sits on
  // the path can read and alter the TURN traffic and the credentials' use. For tests and
  // explicit opt-in only.
  bool insecureAcceptAnyCertificate = false;
};

class TlsStream {
  struct Key {};

 public:
  //   ERR_TLS_CONFIG  no serverName while verifying, an unreadable caFile, OpenSSL setup
  static Result<std::unique_ptr<TlsStream>> Client(const TlsOptions& options);
  explicit TlsStream(Key) {}

  // Starts the handshake: the ClientHello is then in TakeCiphertext().
  Status Start();
  // Bytes read from the stream. Decrypted application data goes to `plaintext` (valid during
  // the call). Once an error is returned the stream is dead:
  //   ERR_TLS_VERIFY     the server's certificate was not trusted or did not match the name
  //   ERR_TLS_HANDSHAKE  any other handshake failure
  //   ERR_TLS            a failure after the handshake
  Status Feed(ByteSpan ciphertext, const std::function<void(ByteSpan)>& plaintext);
  // Application data to send; held until the handshake completes.
  //   ERR_TLS  the stream failed or was shut down
  Status Write(ByteSpan plaintext);
  // Sends close_notify.
  void Shutdown();
  // What must go on the wire now, in order.
  std::vector<uint8_t> TakeCiphertext();

  bool established() const { return established_; }
  // The peer sent close_notify.
  bool peerClosed() const { return peerClosed_; }

 private:
  Status Flush();

  crypto::SslCtxPtr ctx_;
  crypto::SslPtr ssl_;
  BIO* in_ = nullptr;   // owned by ssl_
  BIO* out_ = nullptr;  // owned by ssl_
  bool established_ = false;
  bool failed_ = false;
  bool peerClosed_ = false;
  std::vector<uint8_t> pending_;  // plaintext written before the handshake completed
};

}  // namespace kvs::loop
