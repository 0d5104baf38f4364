// An IPv4 or IPv6 address and port, convertible to and from sockaddr and text. The one
// address type of the core: codecs, sockets and the ICE agent all speak it.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kvs::net {

enum class Family { kIPv4, kIPv6 };

class SocketAddress {
 public:
  SocketAddress() = default;

  // Parses a numeric IPv4 or IPv6 address (no names, no brackets).
  static std::optional<SocketAddress> FromString(std::string_view ip, uint16_t port);
  // From 4 (IPv4) or 16 (IPv6) raw network-order bytes.
  static std::optional<SocketAddress> FromBytes(const uint8_t* bytes, size_t length, uint16_t port);
  static std::optional<SocketAddress> FromSockaddr(const sockaddr* sa);

  bool valid() const { return storage_.ss_family == AF_INET || storage_.ss_family == AF_INET6; }
  Family family() const { return storage_.ss_family == AF_INET6 ? Family::kIPv6 : Family::kIPv4; }
  uint16_t port() const;
  void set_port(uint16_t port);
  // 4 or 16 network-order bytes of the address.
  std::string_view raw() const;
  // "192.0.2.1" or "2001:db8::1".
  std::string ip() const;
  // "192.0.2.1:3478" or "[2001:db8::1]:3478".
  std::string ToString() const;

  bool IsLoopback() const;
  bool IsLinkLocal() const;
  bool IsAny() const;

  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t sockaddr_len() const;

  bool operator==(const SocketAddress& other) const;
  bool operator!=(const SocketAddress& other) const { return !(*this == other); }
  bool SameIp(const SocketAddress& other) const;

 private:
  sockaddr_storage storage_{};
};

}  // namespace kvs::net
