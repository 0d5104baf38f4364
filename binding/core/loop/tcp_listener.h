// A listening TCP socket on the loop thread (ICE-TCP passive candidates, RFC 6544): bound to
// one local address, handing each accepted connection to a callback as a connected
// TcpSocket. Destroying it closes the listener; accepted sockets live on with their owner.
#pragma once

#include <functional>
#include <memory>

#include "common/status.h"
#include "loop/event_loop.h"
#include "loop/handle.h"
#include "loop/tcp_socket.h"
#include "net/address.h"

namespace kvs::loop {

class TcpListener {
  struct Key {};

 public:
  // Receives each accepted socket (its remote() is the peer), which reads from the next loop
  // iteration on: onAccepted sets its callbacks (TcpSocket::SetCallbacks) before any byte is
  // delivered.
  struct Handlers {
    std::function<void(std::unique_ptr<TcpSocket> socket)> onAccepted;
  };

  // Port 0 picks a free port.
  //   ERR_SOCKET  bind or listen failed
  static Result<std::unique_ptr<TcpListener>> Listen(EventLoop& loop, const net::Address& local,
                                                     Handlers handlers);
  TcpListener(Key, EventLoop& loop);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  const net::Address& local() const { return local_; }
  uint64_t accepted() const { return block_->accepted; }

 private:
  struct Block : HandleBlock {
    uv_tcp_t tcp{};
    EventLoop* loop = nullptr;
    Handlers handlers;
    uint64_t accepted = 0;
    uv_handle_t* handle() override { return reinterpret_cast<uv_handle_t*>(&tcp); }
  };

  std::shared_ptr<Block> block_;
  net::Address local_;
};

}  // namespace kvs::loop
