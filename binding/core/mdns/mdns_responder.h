// Answers multicast DNS queries for the names that hide our own host candidates, in the
// browsers' manner (draft-ietf-mmusic-mdns-ice-candidates §3.1): each host address gets a
// random UUID name under ".local", signalled instead of the address, and this responder
// answers A or AAAA queries for it. A pure state machine: the owner feeds it what arrives on
// port 5353 and sends the replies it returns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "net/address.h"

namespace kvs::mdns {

struct Reply {
  std::vector<uint8_t> bytes;
  // Unset: multicast to the group (RFC 6762 §6). Set: unicast to this address, for a query
  // that asked for it (QU) or a legacy resolver that did not send from port 5353 (§6.7).
  std::optional<net::Address> unicastTo;
};

class Responder {
 public:
  // TTL of our answers: RFC 6762 §10 recommends 120 s for host address records.
  static constexpr uint32_t kTtlSeconds = 120;

  // A fresh name for `address` (port ignored), or the one it already has. `uuid` is 16
  // random bytes, made into an RFC 4122 version 4 UUID.
  std::string NameFor(const net::Address& address, const uint8_t (&uuid)[16]);
  // A query from `from`; no reply when it asks about none of our names.
  std::optional<Reply> HandleQuery(ByteSpan datagram, const net::Address& from) const;

  size_t size() const { return names_.size(); }

 private:
  struct Entry {
    std::string name;
    net::Address address;  // port 0
  };
  std::vector<Entry> names_;
};

// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" from 16 random bytes.
std::string UuidV4(const uint8_t (&bytes)[16]);

}  // namespace kvs::mdns
