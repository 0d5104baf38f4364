// The machine's network interfaces, for host candidates.
#pragma once

#include <string>
#include <vector>

#include "net/socket_address.h"

namespace kvs::loop {

struct LocalInterface {
  std::string name;
  net::SocketAddress address;  // port 0
  bool loopback = false;
};

std::vector<LocalInterface> ListInterfaces();

}  // namespace kvs::loop
