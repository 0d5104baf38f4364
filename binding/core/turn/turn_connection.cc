#include "turn/turn_connection.h"

#include "crypto/random.h"

namespace kvs::turn {
namespace {

TurnRandom CryptoRandom() { return crypto::UniqueBytes; }

net::Address Wildcard(const net::Address& server) {
  return server.isIpv6() ? *net::Address::Parse("::", 0) : *net::Address::Parse("0.0.0.0", 0);
}

}  // namespace

TurnConnection::TurnConnection(Key, loop::EventLoop& loop, TurnConnectionConfig config,
                               TurnConnectionCallbacks callbacks)
    : loop_(loop),
      config_(std::move(config)),
      callbacks_(std::move(callbacks)),
      client_(config_.client, CryptoRandom()),
      timer_(loop),
      closeTimer_(loop) {
  client_.onAllocated = [this](const net::Address& relayed, const net::Address& mapped) {
    if (callbacks_.onAllocated) callbacks_.onAllocated(relayed, mapped);
  };
  client_.onData = [this](const net::Address& peer, ByteSpan data) {
    if (callbacks_.onData) callbacks_.onData(peer, data);
  };
  client_.onError = [this](const Status& error) {
    if (callbacks_.onError) callbacks_.onError(error);
  };
  client_.onClosed = [this] { Finish(); };
}

TurnConnection::~TurnConnection() = default;

Result<std::unique_ptr<TurnConnection>> TurnConnection::Start(loop::EventLoop& loop,
                                                              TurnConnectionConfig config,
                                                              TurnConnectionCallbacks callbacks) {
  auto c = std::make_unique<TurnConnection>(Key{}, loop, std::move(config), std::move(callbacks));
  Status s = c->Open();
  if (!s.ok()) return s;
  return c;
}

Status TurnConnection::Open() {
  const net::Address server = config_.server;
  if (config_.client.transport == TurnTransport::kUdp) {
    auto udp = loop::UdpSocket::Bind(loop_, config_.local.value_or(Wildcard(server)),
                                     [this, server](const net::Address& from, ByteSpan data) {
                                       if (from != server)
                                         return;  // only the server speaks on this socket
                                       OnServerBytes(data);
                                     });
    if (!udp.ok()) return udp.status();
    udp_ = udp.take();
    StartAllocating();
    return Status::Ok();
  }
  if (config_.client.transport == TurnTransport::kTls) {
    auto tls = loop::TlsStream::Client(config_.tls);
    if (!tls.ok()) return tls.status();
    tls_ = tls.take();
  }
  loop::TcpCallbacks cb;
  cb.onConnect = [this](const Status& s) { OnConnected(s); };
  cb.onData = [this](ByteSpan bytes) { OnStreamBytes(bytes); };
  cb.onClose = [this](const Status& s) {
    if (closed_) return;
    if (closing_) {
      Finish();
      return;
    }
    // EOF or a reset: either way the stream and the allocation's 5-tuple are gone.
    TransportFailed(Status::Fail("ERR_TURN_CONNECTION_CLOSED",
                                 s.ok()
                                     ? "the TURN server closed the connection"
                                     : "the connection to the TURN server failed: " + s.message()));
  };
  auto tcp = loop::TcpSocket::Connect(loop_, server, config_.connectTimeoutMs, std::move(cb));
  if (!tcp.ok()) return tcp.status();
  tcp_ = tcp.take();
  return Status::Ok();
}

void TurnConnection::OnConnected(const Status& status) {
  if (!status.ok()) {
    TransportFailed(status);
    return;
  }
  if (!tls_) {
    StartAllocating();
    return;
  }
  Status s = tls_->Start();
  if (s.ok()) s = WriteStream({});
  if (!s.ok()) TransportFailed(s);
}

void TurnConnection::OnStreamBytes(ByteSpan bytes) {
  if (transportFailed_ || closed_) return;
  auto frames = [this](ByteSpan plain) {
    Status s = deframer_.Push(plain, [this](stun::FrameKind, ByteSpan frame) {
      client_.HandleIncoming(frame, loop_.NowMs());
    });
    if (!s.ok()) TransportFailed(s);
  };
  if (!tls_) {
    frames(bytes);
    Flush();
    return;
  }
  const bool wasEstablished = tls_->established();
  Status s = tls_->Feed(bytes, frames);
  if (!s.ok()) {
    TransportFailed(s);
    return;
  }
  if (!wasEstablished && tls_->established()) {
    StartAllocating();  // flushes the handshake's last flight with the Allocate
    return;
  }
  Flush();
}

void TurnConnection::OnServerBytes(ByteSpan packet) {
  if (transportFailed_ || closed_) return;
  client_.HandleIncoming(packet, loop_.NowMs());
  Flush();
}

void TurnConnection::StartAllocating() {
  Status s = client_.Start(loop_.NowMs());
  if (!s.ok()) {
    TransportFailed(s);
    return;
  }
  Flush();
}

Status TurnConnection::WriteStream(ByteSpan bytes) {
  if (!tls_) return tcp_->Write(bytes);
  Status s = tls_->Write(bytes);
  if (!s.ok()) return s;
  const std::vector<uint8_t> cipher = tls_->TakeCiphertext();
  return cipher.empty() ? Status::Ok() : tcp_->Write(cipher);
}

void TurnConnection::Flush() {
  if (transportFailed_) return;
  for (const auto& bytes : client_.TakeOutgoing()) {
    // Over UDP a lost datagram is the protocol's business (retransmissions); over a stream
    // a failed write ends the connection (the socket reports it through onClose).
    if (udp_) {
      (void)udp_->SendTo(config_.server, bytes);  // lost like any datagram; the client retries
    } else if (tcp_ && tcp_->connected()) {
      Status s = WriteStream(bytes);
      if (!s.ok() && s.code() != "ERR_SOCKET_BUFFER_FULL") {
        TransportFailed(s);
        return;
      }
    }
  }
  if (tls_ && tcp_ && tcp_->connected()) {
    // Handshake flights and close_notify.
    const std::vector<uint8_t> cipher = tls_->TakeCiphertext();
    if (!cipher.empty()) {
      Status s = tcp_->Write(cipher);
      if (!s.ok() && s.code() != "ERR_SOCKET_BUFFER_FULL") {
        TransportFailed(s);
        return;
      }
    }
  }
  const auto next = client_.NextTickMs();
  if (!next) {
    timer_.Stop();
    return;
  }
  const uint64_t now = loop_.NowMs();
  timer_.Start(*next > now ? *next - now : 0, [this] {
    client_.Tick(loop_.NowMs());
    Flush();
  });
}

void TurnConnection::TransportFailed(const Status& status) {
  if (transportFailed_ || closed_) return;
  transportFailed_ = true;
  timer_.Stop();
  if (closing_) {
    Finish();
    return;
  }
  if (callbacks_.onError) callbacks_.onError(status);
}

Status TurnConnection::SendTo(const net::Address& peer, ByteSpan data) {
  if (transportFailed_) return Status::Fail("ERR_INVALID_STATE", "the TURN transport failed");
  Status s = client_.SendTo(peer, data, loop_.NowMs());
  Flush();
  return s;
}

Status TurnConnection::AddPermission(const net::Address& peer) {
  if (transportFailed_) return Status::Fail("ERR_INVALID_STATE", "the TURN transport failed");
  Status s = client_.AddPermission(peer, loop_.NowMs());
  Flush();
  return s;
}

void TurnConnection::Close() {
  if (closing_ || closed_) return;
  closing_ = true;
  if (transportFailed_) {
    Finish();
    return;
  }
  client_.Close(loop_.NowMs());  // may finish at once (no allocation)
  if (closed_) return;
  Flush();
  closeTimer_.Start(config_.closeTimeoutMs, [this] { Finish(); });
}

void TurnConnection::Finish() {
  if (closed_) return;
  closed_ = true;
  timer_.Stop();
  closeTimer_.Stop();
  if (tls_ && tcp_ && tcp_->connected()) {
    tls_->Shutdown();
    const std::vector<uint8_t> cipher = tls_->TakeCiphertext();
    // close_notify is a courtesy: the connection is going away whether it leaves or not.
    if (!cipher.empty()) (void)tcp_->Write(cipher);
  }
  // The sockets close when the connection is destroyed; nothing more is read meanwhile.
  if (callbacks_.onClosed) callbacks_.onClosed();
}

TurnState TurnConnection::state() const {
  if (transportFailed_ && !closed_) return TurnState::kFailed;
  if (closed_) return TurnState::kClosed;
  return client_.state();
}

std::optional<net::Address> TurnConnection::localAddress() const {
  if (udp_) return udp_->local();
  if (tcp_ && tcp_->connected()) return tcp_->local();
  return std::nullopt;
}

}  // namespace kvs::turn
