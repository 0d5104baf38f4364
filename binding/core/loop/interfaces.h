// The machine's network interfaces, for host candidates.
#pragma once

#include <string>
#include <vector>

#include "net/address.h"

namespace kvs::loop {

struct LocalInterface {
  std::string name;
  net::Address address;  // port 0
  bool loopback = false;
};

std::vector<LocalInterface> ListInterfaces();

}  // namespace kvs::loop
