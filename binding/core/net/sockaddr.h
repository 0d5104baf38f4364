// Conversions between net::Address and the C socket API, and address classes the ICE agent
// filters on. Kept apart from address.h so the codecs never see <sys/socket.h>.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>

#include "net/address.h"

namespace kvs::net {

struct Sockaddr {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

Sockaddr ToSockaddr(const Address& address);
std::optional<Address> FromSockaddr(const sockaddr* sa);

bool IsLoopback(const Address& address);
bool IsLinkLocal(const Address& address);
bool IsUnspecified(const Address& address);

}  // namespace kvs::net
