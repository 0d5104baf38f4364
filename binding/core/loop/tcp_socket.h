// An outgoing TCP connection on the loop thread: connect with a timeout, a callback per
// chunk read, writes that never block (what the kernel does not take at once is copied and
// queued in order, up to a bound), and close. Destroying it closes it; no callback runs
// after that. Same lifetime rules as UdpSocket (handle.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "loop/event_loop.h"
#include "loop/handle.h"
#include "loop/timer.h"
#include "net/address.h"

namespace kvs::loop {

struct TcpCallbacks {
  // Once: Ok when connected, or
  //   ERR_SOCKET          the connection was refused or failed
  //   ERR_SOCKET_TIMEOUT  not connected within the timeout
  std::function<void(const Status&)> onConnect;
  // A chunk of the stream, valid during the call only.
  std::function<void(ByteSpan)> onData;
  // Once, after a successful connect: Ok when the peer closed its side, ERR_SOCKET on a
  // read or write error. The socket is closed by then.
  std::function<void(const Status&)> onClose;
};

class TcpSocket {
  struct Key {};

 public:
  static constexpr size_t kDefaultMaxQueuedBytes = 4 * 1024 * 1024;

  // Callbacks may destroy the socket.
  static Result<std::unique_ptr<TcpSocket>> Connect(EventLoop& loop, const net::Address& remote,
                                                    uint32_t timeoutMs, TcpCallbacks callbacks);
  // The same, leaving from `local` (an interface address, port 0 for any port).
  static Result<std::unique_ptr<TcpSocket>> ConnectFrom(EventLoop& loop, const net::Address& local,
                                                        const net::Address& remote,
                                                        uint32_t timeoutMs, TcpCallbacks callbacks);
  // Takes the next pending connection of a listening stream (TcpListener). It is connected
  // at once: callbacks.onConnect is not called.
  static Result<std::unique_ptr<TcpSocket>> Accept(EventLoop& loop, uv_stream_t* server,
                                                   TcpCallbacks callbacks);
  TcpSocket(Key, EventLoop& loop);
  ~TcpSocket();
  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;

  // Replaces the callbacks (an accepted socket gets its owner's here). onConnect is unused
  // once connected.
  void SetCallbacks(TcpCallbacks callbacks) { block_->callbacks = std::move(callbacks); }

  // Writes in order. Nothing is written partially from the caller's view: either all of it
  // is sent or queued, or none of it.
  //   ERR_INVALID_STATE        not connected (yet, or any more)
  //   ERR_SOCKET_BUFFER_FULL   the queue already holds maxQueuedBytes (the peer is not
  //                            reading); the data is dropped
  //   ERR_SOCKET               libuv refused the write
  Status Write(ByteSpan data);
  // Bytes accepted by Write() but not yet handed to the kernel.
  size_t queuedBytes() const;
  void set_maxQueuedBytes(size_t bytes) { maxQueuedBytes_ = bytes; }
  bool connected() const { return block_->connected && !block_->closed; }
  const net::Address& remote() const { return remote_; }
  // Known once connected.
  const net::Address& local() const { return block_->local; }

 private:
  struct Block : HandleBlock {
    uv_tcp_t tcp{};
    uv_connect_t connect{};
    TcpCallbacks callbacks;
    bool connected = false;
    net::Address local;
    std::vector<char> buffer = std::vector<char>(64 * 1024);
    uv_handle_t* handle() override { return reinterpret_cast<uv_handle_t*>(&tcp); }
  };
  static void CloseWith(Block& b, const Status& why);
  static int StartReading(Block& b);
  static Result<std::unique_ptr<TcpSocket>> ConnectImpl(EventLoop& loop, const net::Address* local,
                                                        const net::Address& remote,
                                                        uint32_t timeoutMs, TcpCallbacks callbacks);

  std::shared_ptr<Block> block_;
  std::unique_ptr<Timer> connectTimer_;
  net::Address remote_;
  size_t maxQueuedBytes_ = kDefaultMaxQueuedBytes;
};

}  // namespace kvs::loop
