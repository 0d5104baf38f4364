#include "loop/tcp_socket.h"

#include <string>

#include "net/sockaddr.h"

namespace kvs::loop {
namespace {

Status UvFailure(const std::string& what, int rc) {
  return Status::Fail("ERR_SOCKET", what + ": " + uv_strerror(rc));
}

// A queued write owns its bytes until libuv is done with them.
struct PendingWrite {
  uv_write_t request{};
  std::vector<char> bytes;
  std::shared_ptr<HandleBlock> socket;  // the socket block outlives its queued writes
};

}  // namespace

TcpSocket::TcpSocket(Key, EventLoop& loop)
    : block_(NewHandleBlock<Block>()), connectTimer_(std::make_unique<Timer>(loop)) {
  uv_tcp_init(loop.uv(), &block_->tcp);
}

TcpSocket::~TcpSocket() {
  block_->callbacks = {};  // nothing reaches an owner that is gone
  CloseHandle(*block_);
}

void TcpSocket::CloseWith(Block& b, const Status& why) {
  if (b.closed) return;
  std::shared_ptr<HandleBlock> keep = b.self;  // the callback may destroy the socket
  auto onClose = std::move(b.callbacks.onClose);
  b.callbacks = {};
  CloseHandle(b);
  if (onClose) onClose(why);
}

int TcpSocket::StartReading(Block& b) {
  sockaddr_storage name{};
  int len = sizeof name;
  if (uv_tcp_getsockname(&b.tcp, reinterpret_cast<sockaddr*>(&name), &len) == 0) {
    b.local = net::FromSockaddr(reinterpret_cast<sockaddr*>(&name)).value_or(net::Address());
  }
  return uv_read_start(
      reinterpret_cast<uv_stream_t*>(&b.tcp),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* bb = static_cast<Block*>(static_cast<HandleBlock*>(h->data));
        *buf = uv_buf_init(bb->buffer.data(), static_cast<unsigned int>(bb->buffer.size()));
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* bb = static_cast<Block*>(static_cast<HandleBlock*>(s->data));
        if (bb->closed) return;
        if (nread == UV_EOF) {
          CloseWith(*bb, Status::Ok());
          return;
        }
        if (nread < 0) {
          CloseWith(*bb, UvFailure("read", static_cast<int>(nread)));
          return;
        }
        if (nread == 0) return;
        std::shared_ptr<HandleBlock> hold = bb->self;
        auto onData = bb->callbacks.onData;
        if (onData) {
          onData(ByteSpan(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread)));
        }
      });
}

Result<std::unique_ptr<TcpSocket>> TcpSocket::Connect(EventLoop& loop, const net::Address& remote,
                                                      uint32_t timeoutMs, TcpCallbacks callbacks) {
  return ConnectImpl(loop, nullptr, remote, timeoutMs, std::move(callbacks));
}

Result<std::unique_ptr<TcpSocket>> TcpSocket::ConnectFrom(EventLoop& loop,
                                                          const net::Address& local,
                                                          const net::Address& remote,
                                                          uint32_t timeoutMs,
                                                          TcpCallbacks callbacks) {
  return ConnectImpl(loop, &local, remote, timeoutMs, std::move(callbacks));
}

Result<std::unique_ptr<TcpSocket>> TcpSocket::Accept(EventLoop& loop, uv_stream_t* server,
                                                     TcpCallbacks callbacks) {
  auto socket = std::make_unique<TcpSocket>(Key{}, loop);
  Block& b = *socket->block_;
  int rc = uv_accept(server, reinterpret_cast<uv_stream_t*>(&b.tcp));
  if (rc != 0) return UvFailure("accept", rc);
  uv_tcp_nodelay(&b.tcp, 1);
  sockaddr_storage peer{};
  int len = sizeof peer;
  if (uv_tcp_getpeername(&b.tcp, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
    socket->remote_ =
        net::FromSockaddr(reinterpret_cast<sockaddr*>(&peer)).value_or(net::Address());
  }
  b.callbacks = std::move(callbacks);
  b.callbacks.onConnect = nullptr;
  b.connected = true;
  rc = StartReading(b);
  if (rc != 0) return UvFailure("read_start", rc);
  return socket;
}

Result<std::unique_ptr<TcpSocket>> TcpSocket::ConnectImpl(EventLoop& loop,
                                                          const net::Address* local,
                                                          const net::Address& remote,
                                                          uint32_t timeoutMs,
                                                          TcpCallbacks callbacks) {
  auto socket = std::make_unique<TcpSocket>(Key{}, loop);
  socket->remote_ = remote;
  Block& b = *socket->block_;
  b.callbacks = std::move(callbacks);
  uv_tcp_nodelay(&b.tcp, 1);  // small STUN and ChannelData frames must not wait for Nagle
  if (local != nullptr) {
    const net::Sockaddr from = net::ToSockaddr(*local);
    int rc = uv_tcp_bind(&b.tcp, from.get(), 0);
    if (rc != 0) return UvFailure("bind " + local->ToString(), rc);
  }
  const net::Sockaddr sa = net::ToSockaddr(remote);
  b.connect.data = &b;
  int rc = uv_tcp_connect(&b.connect, &b.tcp, sa.get(), [](uv_connect_t* req, int status) {
    auto* blk = static_cast<Block*>(req->data);
    if (blk->closed) return;  // destroyed or timed out: already reported
    std::shared_ptr<HandleBlock> keep = blk->self;
    auto onConnect = std::move(blk->callbacks.onConnect);
    blk->callbacks.onConnect = nullptr;
    if (status != 0) {
      blk->callbacks = {};
      CloseHandle(*blk);
      if (onConnect) onConnect(UvFailure("connect", status));
      return;
    }
    blk->connected = true;
    int r = StartReading(*blk);
    if (r != 0) {
      blk->callbacks = {};
      CloseHandle(*blk);
      if (onConnect) onConnect(UvFailure("read_start", r));
      return;
    }
    if (onConnect) onConnect(Status::Ok());
  });
  if (rc != 0) return UvFailure("connect to " + remote.ToString(), rc);
  std::weak_ptr<Block> weak = socket->block_;
  socket->connectTimer_->Start(timeoutMs, [weak, remote] {
    auto blk = weak.lock();
    if (!blk || blk->closed || blk->connected) return;
    auto onConnect = std::move(blk->callbacks.onConnect);
    blk->callbacks = {};
    CloseHandle(*blk);  // cancels the connect request
    if (onConnect) {
      onConnect(
          Status::Fail("ERR_SOCKET_TIMEOUT", "connect to " + remote.ToString() + " timed out"));
    }
  });
  return socket;
}

size_t TcpSocket::queuedBytes() const {
  if (block_->closed) return 0;
  return uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&block_->tcp));
}

Status TcpSocket::Write(ByteSpan data) {
  Block& b = *block_;
  if (b.closed || !b.connected) {
    return Status::Fail("ERR_INVALID_STATE", "TCP socket to " + remote_.ToString() +
                                                 (b.closed ? " is closed" : " not connected"));
  }
  if (data.size == 0) return Status::Ok();
  auto* stream = reinterpret_cast<uv_stream_t*>(&b.tcp);
  size_t offset = 0;
  // uv_try_write refuses while writes are queued, so the stream order holds.
  if (queuedBytes() == 0) {
    uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(data.data)),
                               static_cast<unsigned int>(data.size));
    int n = uv_try_write(stream, &buf, 1);
    if (n >= 0) {
      offset = static_cast<size_t>(n);
    } else if (n != UV_EAGAIN) {
      Status s = UvFailure("write to " + remote_.ToString(), n);
      CloseWith(b, s);
      return s;
    }
    if (offset == data.size) return Status::Ok();
  } else if (queuedBytes() >= maxQueuedBytes_) {
    return Status::Fail("ERR_SOCKET_BUFFER_FULL",
                        "TCP send queue to " + remote_.ToString() + " is full");
  }
  auto pending = std::make_unique<PendingWrite>();
  pending->bytes.assign(reinterpret_cast<const char*>(data.data) + offset,
                        reinterpret_cast<const char*>(data.data) + data.size);
  pending->socket = b.self;
  pending->request.data = pending.get();
  uv_buf_t copy =
      uv_buf_init(pending->bytes.data(), static_cast<unsigned int>(pending->bytes.size()));
  int rc = uv_write(&pending->request, stream, &copy, 1, [](uv_write_t* req, int status) {
    std::unique_ptr<PendingWrite> done(static_cast<PendingWrite*>(req->data));
    auto* blk = static_cast<Block*>(done->socket.get());
    if (status != 0 && status != UV_ECANCELED) CloseWith(*blk, UvFailure("write", status));
  });
  if (rc != 0) {
    Status s = UvFailure("write to " + remote_.ToString(), rc);
    CloseWith(b, s);
    return s;
  }
  pending.release();  // owned by the request until its callback
  return Status::Ok();
}

}  // namespace kvs::loop
