#include "net/socket_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace kvs::net {

std::optional<SocketAddress> SocketAddress::FromString(std::string_view ip, uint16_t port) {
  const std::string text(ip);  // inet_pton wants a terminated string
  SocketAddress a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return a;
  }
  a.storage_ = {};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return a;
  }
  return std::nullopt;
}

std::optional<SocketAddress> SocketAddress::FromBytes(const uint8_t* bytes, size_t length,
                                                      uint16_t port) {
  SocketAddress a;
  if (length == 4) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    std::memcpy(&v4->sin_addr, bytes, 4);
    return a;
  }
  if (length == 16) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    std::memcpy(&v6->sin6_addr, bytes, 16);
    return a;
  }
  return std::nullopt;
}

std::optional<SocketAddress> SocketAddress::FromSockaddr(const sockaddr* sa) {
  if (sa == nullptr) return std::nullopt;
  SocketAddress a;
  if (sa->sa_family == AF_INET) {
    std::memcpy(&a.storage_, sa, sizeof(sockaddr_in));
    return a;
  }
  if (sa->sa_family == AF_INET6) {
    std::memcpy(&a.storage_, sa, sizeof(sockaddr_in6));
    return a;
  }
  return std::nullopt;
}

uint16_t SocketAddress::port() const {
  if (storage_.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  }
  if (storage_.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

void SocketAddress::set_port(uint16_t port) {
  if (storage_.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  } else if (storage_.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
  }
}

std::string_view SocketAddress::raw() const {
  if (storage_.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage_);
    return {reinterpret_cast<const char*>(&v4->sin_addr), 4};
  }
  if (storage_.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
    return {reinterpret_cast<const char*>(&v6->sin6_addr), 16};
  }
  return {};
}

std::string SocketAddress::ip() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (storage_.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
  } else if (storage_.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
              sizeof buf);
  }
  return buf;
}

std::string SocketAddress::ToString() const {
  if (!valid()) return "(invalid)";
  const std::string p = std::to_string(port());
  return family() == Family::kIPv6 ? "[" + ip() + "]:" + p : ip() + ":" + p;
}

bool SocketAddress::IsLoopback() const {
  const std::string_view r = raw();
  if (r.size() == 4) return static_cast<uint8_t>(r[0]) == 127;
  if (r.size() == 16) {
    static const uint8_t kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(r.data(), kLoopback6, 16) == 0;
  }
  return false;
}

bool SocketAddress::IsLinkLocal() const {
  const std::string_view r = raw();
  if (r.size() == 4) return static_cast<uint8_t>(r[0]) == 169 && static_cast<uint8_t>(r[1]) == 254;
  if (r.size() == 16) {
    return static_cast<uint8_t>(r[0]) == 0xfe && (static_cast<uint8_t>(r[1]) & 0xc0) == 0x80;
  }
  return false;
}

bool SocketAddress::IsAny() const {
  const std::string_view r = raw();
  if (r.empty()) return false;
  for (char c : r) {
    if (c != 0) return false;
  }
  return true;
}

socklen_t SocketAddress::sockaddr_len() const {
  if (storage_.ss_family == AF_INET) return sizeof(sockaddr_in);
  if (storage_.ss_family == AF_INET6) return sizeof(sockaddr_in6);
  return 0;
}

bool SocketAddress::operator==(const SocketAddress& other) const {
  return storage_.ss_family == other.storage_.ss_family && port() == other.port() &&
         raw() == other.raw();
}

bool SocketAddress::SameIp(const SocketAddress& other) const {
  return storage_.ss_family == other.storage_.ss_family && raw() == other.raw();
}

}  // namespace kvs::net
