#include "loop/udp_socket.h"

#include "net/sockaddr.h"

#include <cstring>
#include <string>

namespace kvs::loop {
namespace {

// Socket buffers of 1 MiB each way (the kernel doubles the figure and caps it at
// net.core.rmem_max / wmem_max): a 100 KB video frame is about 85 datagrams, and the 208 KB
// default receive buffer holds about 90 of them, so one frame in flight while the network
// thread is descheduled overflowed it. libjuice (libdatachannel) asks for the same.
constexpr int kSocketBufferBytes = 1 << 20;

Status UvFailure(const char* what, int rc) {
  return Status::Fail("ERR_SOCKET", std::string(what) + ": " + uv_strerror(rc));
}

// A queued send owns its copy of the datagram until libuv is done with it.
struct PendingSend {
  uv_udp_send_t request{};
  std::vector<char> bytes;
  std::shared_ptr<HandleBlock> socket;  // the socket outlives its queued sends
};

}  // namespace

Result<std::unique_ptr<UdpSocket>> UdpSocket::Bind(EventLoop& loop, const net::Address& local,
                                                   OnDatagram onDatagram) {
  return BindWith(loop, local, std::move(onDatagram), 0);
}

Result<std::unique_ptr<UdpSocket>> UdpSocket::BindMulticast(EventLoop& loop,
                                                            const net::Address& local,
                                                            OnDatagram onDatagram) {
  auto socket = BindWith(loop, local, std::move(onDatagram), UV_UDP_REUSEADDR);
  if (!socket.ok()) return socket;
  uv_udp_t* udp = &socket.value()->block_->udp;
  int rc = uv_udp_set_multicast_ttl(udp, 255);  // RFC 6762 §11
  if (rc == 0) rc = uv_udp_set_multicast_loop(udp, 1);
  if (rc != 0) return UvFailure("multicast options", rc);
  return socket;
}

namespace {
// libuv names an IPv6 interface by a zone on the unspecified address ("::%eth0").
std::string InterfaceSpec(const net::Address& group, const std::string& interface) {
  return group.isIpv6() ? "::%" + interface : interface;
}
}  // namespace

Status UdpSocket::JoinGroup(const net::Address& group, const std::string& interface) {
  if (block_->closed) return Status::Fail("ERR_INVALID_STATE", "UDP socket is closed");
  const std::string spec = InterfaceSpec(group, interface);
  int rc =
      uv_udp_set_membership(&block_->udp, group.IpString().c_str(), spec.c_str(), UV_JOIN_GROUP);
  if (rc != 0) return UvFailure(("join " + group.IpString() + " on " + interface).c_str(), rc);
  return Status::Ok();
}

Status UdpSocket::SendToGroup(const net::Address& group, const std::string& interface,
                              ByteSpan data) {
  if (block_->closed) return Status::Fail("ERR_INVALID_STATE", "UDP socket is closed");
  const std::string spec = InterfaceSpec(group, interface);
  int rc = uv_udp_set_multicast_interface(&block_->udp, spec.c_str());
  if (rc != 0) return UvFailure(("multicast interface " + interface).c_str(), rc);
  return SendTo(group, data);
}

Result<std::unique_ptr<UdpSocket>> UdpSocket::BindWith(EventLoop& loop, const net::Address& local,
                                                       OnDatagram onDatagram, unsigned flags) {
  auto socket = std::make_unique<UdpSocket>(Key{}, loop);
  Block& b = *socket->block_;
  b.onDatagram = std::move(onDatagram);
  b.buffer = &loop.udpReceiveBuffer();
  const net::Sockaddr sa = net::ToSockaddr(local);
  int rc = uv_udp_bind(&b.udp, sa.get(), (local.isIpv6() ? UV_UDP_IPV6ONLY : 0) | flags);
  if (rc != 0) return UvFailure(("bind " + local.ToString()).c_str(), rc);
  // Best effort: a smaller buffer than asked for still works, only with less room.
  int size = kSocketBufferBytes;
  (void)uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(&b.udp), &size);
  size = kSocketBufferBytes;
  (void)uv_send_buffer_size(reinterpret_cast<uv_handle_t*>(&b.udp), &size);
  sockaddr_storage bound{};
  int len = sizeof bound;
  rc = uv_udp_getsockname(&b.udp, reinterpret_cast<sockaddr*>(&bound), &len);
  if (rc != 0) return UvFailure("getsockname", rc);
  socket->local_ = net::FromSockaddr(reinterpret_cast<sockaddr*>(&bound)).value_or(net::Address());
  rc = uv_udp_recv_start(
      &b.udp,
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* blk = static_cast<Block*>(static_cast<HandleBlock*>(h->data));
        *buf = uv_buf_init(blk->buffer->data(), static_cast<unsigned int>(blk->buffer->size()));
      },
      [](uv_udp_t* u, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr, unsigned) {
        auto* blk = static_cast<Block*>(static_cast<HandleBlock*>(u->data));
        if (nread < 0) {
          ++blk->stats.receiveErrors;
          return;
        }
        if (addr == nullptr || blk->closed) return;  // nothing more to read
        auto from = net::FromSockaddr(addr);
        if (!from) return;
        ++blk->stats.datagramsReceived;
        blk->stats.bytesReceived += static_cast<uint64_t>(nread);
        std::shared_ptr<HandleBlock> keep = blk->self;  // the callback may close the socket
        auto cb = blk->onDatagram;
        if (cb) {
          cb(*from,
             ByteSpan(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread)));
        }
      });
  if (rc != 0) return UvFailure("recv_start", rc);
  return socket;
}

UdpSocket::UdpSocket(Key, EventLoop& loop) : block_(NewHandleBlock<Block>()) {
  uv_udp_init(loop.uv(), &block_->udp);
}

UdpSocket::~UdpSocket() { CloseHandle(*block_); }

Status UdpSocket::SendTo(const net::Address& to, ByteSpan data) {
  Block& b = *block_;
  if (b.closed) return Status::Fail("ERR_INVALID_STATE", "UDP socket is closed");
  uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(data.data)),
                             static_cast<unsigned int>(data.size));
  const net::Sockaddr dest = net::ToSockaddr(to);
  int rc = uv_udp_try_send(&b.udp, &buf, 1, dest.get());
  if (rc >= 0) {
    ++b.stats.datagramsSent;
    b.stats.bytesSent += data.size;
    return Status::Ok();
  }
  if (rc != UV_EAGAIN) {
    ++b.stats.sendErrors;
    return UvFailure(("send to " + to.ToString()).c_str(), rc);
  }
  auto pending = std::make_unique<PendingSend>();
  pending->bytes.assign(buf.base, buf.base + buf.len);
  pending->socket = b.self;
  uv_buf_t copy = uv_buf_init(pending->bytes.data(), static_cast<unsigned int>(buf.len));
  pending->request.data = pending.get();
  rc = uv_udp_send(&pending->request, &b.udp, &copy, 1, dest.get(),
                   [](uv_udp_send_t* req, int status) {
                     std::unique_ptr<PendingSend> done(static_cast<PendingSend*>(req->data));
                     auto* blk = static_cast<Block*>(done->socket.get());
                     if (status == 0) {
                       ++blk->stats.datagramsSent;
                       blk->stats.bytesSent += done->bytes.size();
                     } else {
                       ++blk->stats.sendErrors;
                     }
                   });
  if (rc != 0) {
    ++b.stats.sendErrors;
    return UvFailure("send", rc);
  }
  pending.release();  // owned by the request until its callback
  return Status::Ok();
}

}  // namespace kvs::loop
