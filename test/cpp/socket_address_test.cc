#include <doctest/doctest.h>

#include "net/socket_address.h"

using kvs::net::Family;
using kvs::net::SocketAddress;

TEST_CASE("socket addresses parse, print and compare") {
  auto v4 = SocketAddress::FromString("192.0.2.7", 3478);
  REQUIRE(v4.has_value());
  CHECK(v4->family() == Family::kIPv4);
  CHECK(v4->ToString() == "192.0.2.7:3478");
  CHECK(v4->raw().size() == 4);
  auto v6 = SocketAddress::FromString("2001:db8::1", 5000);
  REQUIRE(v6.has_value());
  CHECK(v6->ToString() == "[2001:db8::1]:5000");
  CHECK(v6->raw().size() == 16);
  CHECK_FALSE(SocketAddress::FromString("example.org", 1).has_value());
  CHECK_FALSE(SocketAddress::FromString("300.1.1.1", 1).has_value());
  CHECK_FALSE(SocketAddress::FromString("", 1).has_value());

  auto same = SocketAddress::FromString("192.0.2.7", 3478);
  CHECK(*v4 == *same);
  same->set_port(1);
  CHECK(*v4 != *same);
  CHECK(v4->SameIp(*same));

  const uint8_t bytes[4] = {127, 0, 0, 1};
  auto lo = SocketAddress::FromBytes(bytes, 4, 9);
  REQUIRE(lo.has_value());
  CHECK(lo->IsLoopback());
  CHECK(SocketAddress::FromString("::1", 0)->IsLoopback());
  CHECK(SocketAddress::FromString("fe80::1", 0)->IsLinkLocal());
  CHECK(SocketAddress::FromString("0.0.0.0", 0)->IsAny());
  CHECK_FALSE(SocketAddress::FromBytes(bytes, 3, 0).has_value());
  auto back = SocketAddress::FromSockaddr(lo->sockaddr_ptr());
  REQUIRE(back.has_value());
  CHECK(*back == *lo);
  CHECK_FALSE(SocketAddress().valid());
}
