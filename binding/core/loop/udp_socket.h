// A UDP socket on the loop thread: bound to one local address, delivering each datagram to
// a callback with its source. Destroying it closes it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
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

  std::shared_ptr<Block> block_;
  net::Address local_;
};

}  // namespace kvs::loop
