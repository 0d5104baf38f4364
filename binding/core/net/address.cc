#include "net/address.h"

#include <arpa/inet.h>

#include <cstring>
#include <tuple>

namespace kvs::net {

Address Address::Ipv4(const std::array<uint8_t, 4>& ip, uint16_t port) {
  Address a;
  a.family_ = Family::kIpv4;
  std::memcpy(a.ip_.data(), ip.data(), 4);
  a.port_ = port;
  return a;
}

Address Address::Ipv6(const std::array<uint8_t, 16>& ip, uint16_t port) {
  Address a;
  a.family_ = Family::kIpv6;
  a.ip_ = ip;
  a.port_ = port;
  return a;
}

std::optional<Address> Address::Parse(std::string_view ip, uint16_t port) {
  if (ip.empty() || ip.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  if (ip.find('\0') != std::string_view::npos) return std::nullopt;
  char text[INET6_ADDRSTRLEN] = {};
  std::memcpy(text, ip.data(), ip.size());
  std::array<uint8_t, 4> v4{};
  if (inet_pton(AF_INET, text, v4.data()) == 1) return Ipv4(v4, port);
  std::array<uint8_t, 16> v6{};
  if (inet_pton(AF_INET6, text, v6.data()) == 1) return Ipv6(v6, port);
  return std::nullopt;
}

std::string Address::IpString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(isIpv4() ? AF_INET : AF_INET6, ip_.data(), text, sizeof text);
  return text;
}

std::string Address::ToString() const {
  const std::string port = std::to_string(port_);
  return isIpv4() ? IpString() + ":" + port : "[" + IpString() + "]:" + port;
}

bool operator<(const Address& a, const Address& b) {
  return std::tie(a.family_, a.ip_, a.port_) < std::tie(b.family_, b.ip_, b.port_);
}

}  // namespace kvs::net
