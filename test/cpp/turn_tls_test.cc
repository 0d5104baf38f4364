// loop::TlsStream (the TLS layer of "turns:") without sockets: against an OpenSSL server on
// memory BIOs in the same thread.
#include <doctest/doctest.h>

#include <openssl/ssl.h>

#include <string>

#include "crypto/openssl.h"
#include "dtls/certificate.h"
#include "loop/tls_stream.h"

using kvs::ByteSpan;
using kvs::loop::TlsOptions;
using kvs::loop::TlsStream;

namespace {

ByteSpan Span(const std::string& s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// A TLS server on memory BIOs with a fresh self-signed certificate.
struct MemoryServer {
  kvs::crypto::SslCtxPtr ctx{SSL_CTX_new(TLS_server_method())};
  kvs::crypto::SslPtr ssl;
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  std::string received;

  MemoryServer() {
    auto cert = kvs::dtls::Certificate::GenerateEcdsaP256();
    REQUIRE(cert.ok());
    REQUIRE(SSL_CTX_use_certificate(ctx.get(), cert.value()->x509()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(ctx.get(), cert.value()->key()) == 1);
    ssl.reset(SSL_new(ctx.get()));
    BIO_set_mem_eof_return(in, -1);
    SSL_set_bio(ssl.get(), in, out);
    SSL_set_accept_state(ssl.get());
  }
  // Takes the client's bytes, answers, and collects what it decrypts.
  std::vector<uint8_t> Exchange(const std::vector<uint8_t>& fromClient) {
    if (!fromClient.empty()) BIO_write(in, fromClient.data(), static_cast<int>(fromClient.size()));
    SSL_do_handshake(ssl.get());
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl.get(), buf, sizeof buf)) > 0) received.append(buf, n);
    std::vector<uint8_t> reply(BIO_ctrl_pending(out));
    if (!reply.empty()) BIO_read(out, reply.data(), static_cast<int>(reply.size()));
    return reply;
  }
  std::vector<uint8_t> Send(const std::string& text) {
    SSL_write(ssl.get(), text.data(), static_cast<int>(text.size()));
    return Exchange({});
  }
};

}  // namespace

TEST_CASE("TLS stream: handshake and data both ways over memory, writes held until established") {
  kvs::crypto::EnsureOpenSslInitialised();
  MemoryServer server;
  TlsOptions options;
  options.insecureAcceptAnyCertificate = true;  // the server's certificate is throwaway
  auto made = TlsStream::Client(options);
  REQUIRE(made.ok());
  auto client = made.take();
  REQUIRE(client->Start().ok());
  REQUIRE(client->Write(Span("early")).ok());  // before the handshake: held
  std::string plain;
  auto sink = [&](ByteSpan d) { plain.append(reinterpret_cast<const char*>(d.data), d.size); };
  for (int i = 0; i < 10 && !client->established(); ++i) {
    auto reply = server.Exchange(client->TakeCiphertext());
    REQUIRE(client->Feed(reply, sink).ok());
  }
  REQUIRE(client->established());
  // Every server record goes to the client, in order (TLS 1.3 session tickets included).
  REQUIRE(client->Feed(server.Exchange(client->TakeCiphertext()), sink).ok());
  CHECK(server.received == "early");
  REQUIRE(client->Write(Span(" and later")).ok());
  REQUIRE(client->Feed(server.Exchange(client->TakeCiphertext()), sink).ok());
  CHECK(server.received == "early and later");
  auto fed = client->Feed(server.Send("hello client"), sink);
  REQUIRE_MESSAGE(fed.ok(), fed.message());
  CHECK(plain == "hello client");
  CHECK_FALSE(client->peerClosed());
}

TEST_CASE("TLS stream: verifying needs a server name; a missing CA file is a config error") {
  kvs::crypto::EnsureOpenSslInitialised();
  TlsOptions noName;
  auto a = TlsStream::Client(noName);
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().code() == "ERR_TLS_CONFIG");
  TlsOptions missing;
  missing.serverName = "127.0.0.1";
  missing.caFile = "/nonexistent/ca.pem";
  auto b = TlsStream::Client(missing);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == "ERR_TLS_CONFIG");
}

TEST_CASE(
    "TLS stream: an untrusted self-signed certificate fails the handshake as ERR_TLS_VERIFY") {
  kvs::crypto::EnsureOpenSslInitialised();
  MemoryServer server;
  TlsOptions options;
  options.serverName = "localhost";
  auto made = TlsStream::Client(options);  // OpenSSL's default store: does not know it
  REQUIRE(made.ok());
  auto client = made.take();
  REQUIRE(client->Start().ok());
  kvs::Status last;
  for (int i = 0; i < 10 && last.ok() && !client->established(); ++i) {
    last = client->Feed(server.Exchange(client->TakeCiphertext()), [](ByteSpan) {});
  }
  CHECK(last.code() == "ERR_TLS_VERIFY");
  CHECK_FALSE(client->established());
  CHECK(client->Write(Span("x")).code() == "ERR_TLS");
}

TEST_CASE("TLS stream: garbage from the server is a handshake error") {
  kvs::crypto::EnsureOpenSslInitialised();
  TlsOptions options;
  options.insecureAcceptAnyCertificate = true;
  auto client = TlsStream::Client(options).take();
  REQUIRE(client->Start().ok());
  const std::string junk = "HTTP/1.1 400 Bad Request\r\n\r\n";
  auto s = client->Feed(Span(junk), [](ByteSpan) {});
  CHECK(s.code() == "ERR_TLS_HANDSHAKE");
}
