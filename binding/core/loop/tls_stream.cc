#include "loop/tls_stream.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "net/address.h"

namespace kvs::loop {
namespace {

Status SslFailure(const char* code, const std::string& what) {
  return Status::Fail(code, what + ": " + crypto::TakeOpenSslErrors());
}

}  // namespace

Result<std::unique_ptr<TlsStream>> TlsStream::Client(const TlsOptions& options) {
  crypto::EnsureOpenSslInitialised();
  ERR_clear_error();
  auto s = std::make_unique<TlsStream>(Key{});
  s->ctx_.reset(SSL_CTX_new(TLS_client_method()));
  if (!s->ctx_) return SslFailure("ERR_TLS_CONFIG", "SSL_CTX_new");
  SSL_CTX_set_min_proto_version(s->ctx_.get(), TLS1_2_VERSION);
  const bool verify = !options.insecureAcceptAnyCertificate;
  if (verify) {
    if (options.serverName.empty()) {
      return Status::Fail("ERR_TLS_CONFIG", "verifying the TURN server needs its name");
    }
    const int loaded = options.caFile.empty() ? SSL_CTX_set_default_verify_paths(s->ctx_.get())
                                              : SSL_CTX_load_verify_locations(
                                                    s->ctx_.get(), options.caFile.c_str(), nullptr);
    if (loaded != 1) {
      return SslFailure("ERR_TLS_CONFIG",
                        "cannot load trust anchors from \"" +
                            (options.caFile.empty() ? std::string("default") : options.caFile) +
                            "\"");
    }
    SSL_CTX_set_verify(s->ctx_.get(), SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(s->ctx_.get(), SSL_VERIFY_NONE, nullptr);
  }
  s->ssl_.reset(SSL_new(s->ctx_.get()));
  if (!s->ssl_) return SslFailure("ERR_TLS_CONFIG", "SSL_new");
  SSL* ssl = s->ssl_.get();
  const bool isIp = net::Address::Parse(options.serverName, 0).has_value();
  if (!options.serverName.empty() && !isIp) {
    SSL_set_tlsext_host_name(ssl, options.serverName.c_str());  // SNI is for names only
  }
  if (verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    const int ok = isIp ? X509_VERIFY_PARAM_set1_ip_asc(param, options.serverName.c_str())
                        : SSL_set1_host(ssl, options.serverName.c_str());
    if (ok != 1) return SslFailure("ERR_TLS_CONFIG", "bad server name " + options.serverName);
  }
  s->in_ = BIO_new(BIO_s_mem());
  s->out_ = BIO_new(BIO_s_mem());
  if (s->in_ == nullptr || s->out_ == nullptr) {
    BIO_free(s->in_);
    BIO_free(s->out_);
    return SslFailure("ERR_TLS_CONFIG", "BIO_new");
  }
  BIO_set_mem_eof_return(s->in_, -1);  // an empty input means "wait", not EOF
  SSL_set_bio(ssl, s->in_, s->out_);
  SSL_set_connect_state(ssl);
  return s;
}

Status TlsStream::Start() {
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_.get());
  if (r != 1 && SSL_get_error(ssl_.get(), r) != SSL_ERROR_WANT_READ) {
    failed_ = true;
    return SslFailure("ERR_TLS_HANDSHAKE", "TLS handshake");
  }
  return Status::Ok();
}

Status TlsStream::Feed(ByteSpan ciphertext, const std::function<void(ByteSpan)>& plaintext) {
  if (failed_) return Status::Fail("ERR_TLS", "the TLS stream has failed");
  ERR_clear_error();
  if (ciphertext.size > 0 && BIO_write(in_, ciphertext.data, static_cast<int>(ciphertext.size)) !=
                                 static_cast<int>(ciphertext.size)) {
    failed_ = true;
    return SslFailure("ERR_TLS", "BIO_write");
  }
  SSL* ssl = ssl_.get();
  if (!established_) {
    const int r = SSL_do_handshake(ssl);
    if (r != 1) {
      if (SSL_get_error(ssl, r) == SSL_ERROR_WANT_READ) return Status::Ok();
      failed_ = true;
      const long verify = SSL_get_verify_result(ssl);  // NOLINT: OpenSSL's type
      if (verify != X509_V_OK) {
        ERR_clear_error();
        return Status::Fail("ERR_TLS_VERIFY", std::string("TURN server certificate: ") +
                                                  X509_verify_cert_error_string(verify));
      }
      return SslFailure("ERR_TLS_HANDSHAKE", "TLS handshake");
    }
    established_ = true;
    Status s = Flush();
    if (!s.ok()) return s;
  }
  uint8_t buf[16 * 1024];
  for (int i = 0; i < 1024; ++i) {  // bounded: 16 MiB per feed is far beyond any chunk
    const int n = SSL_read(ssl, buf, sizeof buf);
    if (n > 0) {
      plaintext(ByteSpan(buf, static_cast<size_t>(n)));
      continue;
    }
    const int e = SSL_get_error(ssl, n);
    if (e == SSL_ERROR_WANT_READ) return Status::Ok();
    if (e == SSL_ERROR_ZERO_RETURN) {
      peerClosed_ = true;
      return Status::Ok();
    }
    failed_ = true;
    return SslFailure("ERR_TLS", "TLS read");
  }
  return Status::Ok();
}

Status TlsStream::Write(ByteSpan plaintext) {
  if (failed_) return Status::Fail("ERR_TLS", "the TLS stream has failed");
  if (plaintext.size == 0) return Status::Ok();
  pending_.insert(pending_.end(), plaintext.data, plaintext.data + plaintext.size);
  return established_ ? Flush() : Status::Ok();
}

Status TlsStream::Flush() {
  ERR_clear_error();
  size_t offset = 0;
  while (offset < pending_.size()) {
    const int n =
        SSL_write(ssl_.get(), pending_.data() + offset, static_cast<int>(pending_.size() - offset));
    if (n <= 0) {
      failed_ = true;
      pending_.clear();
      return SslFailure("ERR_TLS", "TLS write");
    }
    offset += static_cast<size_t>(n);
  }
  pending_.clear();
  return Status::Ok();
}

void TlsStream::Shutdown() {
  if (failed_ || !established_) return;
  ERR_clear_error();
  SSL_shutdown(ssl_.get());
  failed_ = true;  // nothing more may be written
  ERR_clear_error();
}

std::vector<uint8_t> TlsStream::TakeCiphertext() {
  std::vector<uint8_t> out(BIO_ctrl_pending(out_));
  if (!out.empty()) {
    const int n = BIO_read(out_, out.data(), static_cast<int>(out.size()));
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  return out;
}

}  // namespace kvs::loop
