#include "net/sockaddr.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace kvs::net {

Sockaddr ToSockaddr(const Address& address) {
  Sockaddr out;
  if (address.isIpv4()) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port());
    std::memcpy(&v4->sin_addr, address.ipBytes(), 4);
    out.length = sizeof(sockaddr_in);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port());
    std::memcpy(&v6->sin6_addr, address.ipBytes(), 16);
    out.length = sizeof(sockaddr_in6);
  }
  return out;
}

std::optional<Address> FromSockaddr(const sockaddr* sa) {
  if (sa == nullptr) return std::nullopt;
  if (sa->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(sa);
    std::array<uint8_t, 4> ip{};
    std::memcpy(ip.data(), &v4->sin_addr, 4);
    return Address::Ipv4(ip, ntohs(v4->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::array<uint8_t, 16> ip{};
    std::memcpy(ip.data(), &v6->sin6_addr, 16);
    return Address::Ipv6(ip, ntohs(v6->sin6_port));
  }
  return std::nullopt;
}

bool IsLoopback(const Address& address) {
  const uint8_t* ip = address.ipBytes();
  if (address.isIpv4()) return ip[0] == 127;
  static const uint8_t kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(ip, kLoopback6, 16) == 0;
}

bool IsLinkLocal(const Address& address) {
  const uint8_t* ip = address.ipBytes();
  if (address.isIpv4()) return ip[0] == 169 && ip[1] == 254;
  return ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80;
}

bool IsUnspecified(const Address& address) {
  const uint8_t* ip = address.ipBytes();
  for (size_t i = 0; i < address.ipSize(); ++i) {
    if (ip[i] != 0) return false;
  }
  return true;
}

}  // namespace kvs::net
