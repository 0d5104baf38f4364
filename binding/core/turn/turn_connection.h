// One TURN allocation on the network thread: the TurnClient state machine bound to a UDP
// socket, or to a TCP connection (optionally TLS) with RFC 8656 §12.5 framing, and a timer.
// Everything runs on the loop thread. Callbacks must not destroy the TurnConnection
// synchronously (post its destruction to the loop).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "common/bytes.h"
#include "common/status.h"
#include "loop/event_loop.h"
#include "loop/tcp_socket.h"
#include "loop/timer.h"
#include "loop/tls_stream.h"
#include "loop/udp_socket.h"
#include "net/address.h"
#include "stun/stream_framer.h"
#include "turn/turn_client.h"

namespace kvs::turn {

struct TurnConnectionConfig {
  net::Address server;
  // Credentials, transport (UDP, TCP or TLS) and timings.
  TurnClientConfig client;
  loop::TlsOptions tls;  // for TurnTransport::kTls
  // The local address of the UDP socket (an interface the ICE filter allowed); the wildcard
  // address of the server's family when unset. TCP connections let the kernel choose.
  std::optional<net::Address> local;
  uint32_t connectTimeoutMs = 5000;
  // How long Close() waits for the deallocation's answer.
  uint32_t closeTimeoutMs = 2000;
};

struct TurnConnectionCallbacks {
  std::function<void(const net::Address& relayed, const net::Address& mapped)> onAllocated;
  std::function<void(const net::Address& peer, ByteSpan data)> onData;
  // The TurnClient's codes (ERR_TURN_*), and the transport's: ERR_SOCKET,
  // ERR_SOCKET_TIMEOUT (connect), ERR_TLS_*, ERR_TURN_CONNECTION_CLOSED (the stream to
  // the server ended: closed or reset), ERR_STUN_STREAM_DESYNC. Per-peer codes
  // (ERR_TURN_PERMISSION, ERR_TURN_CHANNEL) leave the connection usable; the others end it.
  std::function<void(const Status& error)> onError;
  std::function<void()> onClosed;
};

class TurnConnection {
  struct Key {};

 public:
  // Opens the socket and starts allocating (over TCP/TLS once connected).
  //   ERR_SOCKET, ERR_TLS_CONFIG
  static Result<std::unique_ptr<TurnConnection>> Start(loop::EventLoop& loop,
                                                       TurnConnectionConfig config,
                                                       TurnConnectionCallbacks callbacks);
  TurnConnection(Key, loop::EventLoop& loop, TurnConnectionConfig config,
                 TurnConnectionCallbacks callbacks);
  // Without Close() first, the allocation is left to expire on the server.
  ~TurnConnection();
  TurnConnection(const TurnConnection&) = delete;
  TurnConnection& operator=(const TurnConnection&) = delete;

  // See TurnClient::SendTo and AddPermission.
  Status SendTo(const net::Address& peer, ByteSpan data);
  Status AddPermission(const net::Address& peer);
  // Deletes the allocation; onClosed follows (at the latest after closeTimeoutMs).
  void Close();

  // kFailed also when the transport failed.
  TurnState state() const;
  const TurnClient& client() const { return client_; }
  // The local address of the socket to the server (known once bound or connected).
  std::optional<net::Address> localAddress() const;

 private:
  Status Open();
  void OnConnected(const Status& status);
  void OnStreamBytes(ByteSpan bytes);
  void OnServerBytes(ByteSpan packet);
  void StartAllocating();
  void Flush();
  Status WriteStream(ByteSpan bytes);
  void TransportFailed(const Status& status);
  void Finish();

  loop::EventLoop& loop_;
  TurnConnectionConfig config_;
  TurnConnectionCallbacks callbacks_;
  TurnClient client_;
  std::unique_ptr<loop::UdpSocket> udp_;
  std::unique_ptr<loop::TcpSocket> tcp_;
  std::unique_ptr<loop::TlsStream> tls_;
  stun::StreamDeframer deframer_{stun::StreamFraming::kTurn};
  loop::Timer timer_;
  loop::Timer closeTimer_;
  bool transportFailed_ = false;
  bool closing_ = false;
  bool closed_ = false;
};

}  // namespace kvs::turn
