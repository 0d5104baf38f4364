// A UDP socket on the loop thread: bound to one local address, delivering each datagram to
// a callback with its source. Destroying it closes it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "loop/event_loop.h"
#include "loop/handle.h"
#include "net/address.h"

namespace kvs::loop {

struct UdpStats {
  uint64_t datagramsSent = 0;
  uint64_t bytesSent = 0;
  uint64_t datagramsReceived = 0;
  uint64_t bytesReceived = 0;
  uint64_t sendErrors = 0;
  uint64_t receiveErrors = 0;
};

class UdpSocket {
  struct Key {};

 public:
  using OnDatagram = std::function<void(const net::Address& from, ByteSpan data)>;

  // Port 0 picks a free port. The callback may destroy the socket.
  static Result<std::unique_ptr<UdpSocket>> Bind(EventLoop& loop, const net::Address& local,
                                                 OnDatagram onDatagram);
  // Multicast (mDNS, RFC 6762): a socket on a well-known port that other processes of the
  // host share (SO_REUSEADDR), sending with TTL 255 and looping its own sends back to the
  // host's other listeners (a browser on the same host answers through the loop).
  static Result<std::unique_ptr<UdpSocket>> BindMulticast(EventLoop& loop,
                                                          const net::Address& local,
                                                          OnDatagram onDatagram);
  // Joins `group` on one interface: for IPv4 its address ("10.0.0.2"), for IPv6 its name.
  //   ERR_SOCKET
  Status JoinGroup(const net::Address& group, const std::string& interface);
  // Sends to `group` out of one interface (named as for JoinGroup), and only that one.
  Status SendToGroup(const net::Address& group, const std::string& interface, ByteSpan data);
  UdpSocket(Key, EventLoop& loop);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // Sends at once when the kernel takes it; otherwise copies and queues it in libuv.
  Status SendTo(const net::Address& to, ByteSpan data);
  const net::Address& local() const { return local_; }
  const UdpStats& stats() const { return block_->stats; }

 private:
  struct Block : HandleBlock {
    uv_udp_t udp{};
    OnDatagram onDatagram;
    UdpStats stats;
    std::vector<char>* buffer = nullptr;  // the loop's (EventLoop::udpReceiveBuffer)
    uv_handle_t* handle() override { return reinterpret_cast<uv_handle_t*>(&udp); }
  };

  static Result<std::unique_ptr<UdpSocket>> BindWith(EventLoop& loop, const net::Address& local,
                                                     OnDatagram onDatagram, unsigned flags);

  std::shared_ptr<Block> block_;
  net::Address local_;
};

}  // namespace kvs::loop
