#include <doctest/doctest.h>

#include "net/sockaddr.h"

using kvs::net::Address;

TEST_CASE("addresses convert to sockaddr and back") {
  for (const char* ip : {"192.0.2.7", "2001:db8::1", "::1", "127.0.0.1"}) {
    CAPTURE(ip);
    auto a = Address::Parse(ip, 3478);
    REQUIRE(a.has_value());
    const kvs::net::Sockaddr sa = kvs::net::ToSockaddr(*a);
    CHECK(sa.length == (a->isIpv4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6)));
    auto back = kvs::net::FromSockaddr(sa.get());
    REQUIRE(back.has_value());
    CHECK(*back == *a);
  }
  CHECK_FALSE(kvs::net::FromSockaddr(nullptr).has_value());
}

TEST_CASE("address classes") {
  CHECK(kvs::net::IsLoopback(*Address::Parse("127.3.2.1", 0)));
  CHECK(kvs::net::IsLoopback(*Address::Parse("::1", 0)));
  CHECK_FALSE(kvs::net::IsLoopback(*Address::Parse("192.0.2.1", 0)));
  CHECK(kvs::net::IsLinkLocal(*Address::Parse("169.254.1.1", 0)));
  CHECK(kvs::net::IsLinkLocal(*Address::Parse("fe80::1", 0)));
  CHECK_FALSE(kvs::net::IsLinkLocal(*Address::Parse("fec0::1", 0)));
  CHECK(kvs::net::IsUnspecified(*Address::Parse("0.0.0.0", 0)));
  CHECK(kvs::net::IsUnspecified(*Address::Parse("::", 0)));
}
