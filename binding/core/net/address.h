// A transport address: an IPv4 or IPv6 address and a port. A plain value type with no
// name resolution; literal text only, so it can sit in pure codecs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kvs::net {

enum class Family : uint8_t { kIpv4, kIpv6 };

class Address {
 public:
  // 0.0.0.0:0
  Address() = default;
  static Address Ipv4(const std::array<uint8_t, 4>& ip, uint16_t port);
  static Address Ipv6(const std::array<uint8_t, 16>& ip, uint16_t port);
  // A literal "192.0.2.1" or "2001:db8::1" (no brackets, no zone id); nullopt otherwise.
  static std::optional<Address> Parse(std::string_view ip, uint16_t port);

  Family family() const { return family_; }
  bool isIpv4() const { return family_ == Family::kIpv4; }
  bool isIpv6() const { return family_ == Family::kIpv6; }
  uint16_t port() const { return port_; }
  void setPort(uint16_t port) { port_ = port; }
  // The address bytes in network order: 4 for IPv4, 16 for IPv6.
  const uint8_t* ipBytes() const { return ip_.data(); }
  size_t ipSize() const { return isIpv4() ? 4 : 16; }

  // "192.0.2.1" or "2001:db8::1".
  std::string IpString() const;
  // "192.0.2.1:3478" or "[2001:db8::1]:3478".
  std::string ToString() const;

  friend bool operator==(const Address& a, const Address& b) {
    return a.family_ == b.family_ && a.port_ == b.port_ && a.ip_ == b.ip_;
  }
  friend bool operator!=(const Address& a, const Address& b) { return !(a == b); }
  friend bool operator<(const Address& a, const Address& b);

 private:
  Family family_ = Family::kIpv4;
  uint16_t port_ = 0;
  std::array<uint8_t, 16> ip_{};  // IPv4 uses the first 4 bytes; the rest stay zero
};

}  // namespace kvs::net
