#include "loop/tcp_listener.h"

#include <string>

#include "net/sockaddr.h"

namespace kvs::loop {
namespace {

Status UvFailure(const std::string& what, int rc) {
  return Status::Fail("ERR_SOCKET", what + ": " + uv_strerror(rc));
}

// A handful of peers connect to a passive candidate; the backlog only bounds bursts.
constexpr int kBacklog = 16;

}  // namespace

TcpListener::TcpListener(Key, EventLoop& loop) : block_(NewHandleBlock<Block>()) {
  block_->loop = &loop;
  uv_tcp_init(loop.uv(), &block_->tcp);
}

TcpListener::~TcpListener() {
  block_->handlers = {};
  CloseHandle(*block_);
}

Result<std::unique_ptr<TcpListener>> TcpListener::Listen(EventLoop& loop, const net::Address& local,
                                                         Handlers handlers) {
  auto listener = std::make_unique<TcpListener>(Key{}, loop);
  Block& b = *listener->block_;
  b.handlers = std::move(handlers);
  const net::Sockaddr sa = net::ToSockaddr(local);
  int rc = uv_tcp_bind(&b.tcp, sa.get(), local.isIpv6() ? UV_TCP_IPV6ONLY : 0);
  if (rc != 0) return UvFailure("bind " + local.ToString(), rc);
  sockaddr_storage bound{};
  int len = sizeof bound;
  rc = uv_tcp_getsockname(&b.tcp, reinterpret_cast<sockaddr*>(&bound), &len);
  if (rc != 0) return UvFailure("getsockname", rc);
  listener->local_ =
      net::FromSockaddr(reinterpret_cast<sockaddr*>(&bound)).value_or(net::Address());
  rc = uv_listen(reinterpret_cast<uv_stream_t*>(&b.tcp), kBacklog, [](uv_stream_t* s, int status) {
    auto* blk = static_cast<Block*>(static_cast<HandleBlock*>(s->data));
    if (blk->closed || status != 0) return;  // a failed accept leaves the listener as it was
    std::shared_ptr<HandleBlock> keep = blk->self;
    auto socket = TcpSocket::Accept(*blk->loop, s, {});
    if (!socket.ok()) return;
    ++blk->accepted;
    auto onAccepted = blk->handlers.onAccepted;
    if (onAccepted) onAccepted(socket.take());
  });
  if (rc != 0) return UvFailure("listen " + listener->local_.ToString(), rc);
  return listener;
}

}  // namespace kvs::loop
