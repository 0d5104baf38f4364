#include "loop/interfaces.h"

#include <uv.h>

#include "net/sockaddr.h"

namespace kvs::loop {

std::vector<LocalInterface> ListInterfaces() {
  std::vector<LocalInterface> out;
  uv_interface_address_t* list = nullptr;
  int count = 0;
  if (uv_interface_addresses(&list, &count) != 0) return out;
  for (int i = 0; i < count; ++i) {
    auto addr = net::FromSockaddr(reinterpret_cast<const sockaddr*>(&list[i].address));
    if (!addr) continue;
    addr->setPort(0);
    out.push_back({list[i].name, *addr, list[i].is_internal != 0});
  }
  uv_free_interface_addresses(list, count);
  return out;
}

}  // namespace kvs::loop
