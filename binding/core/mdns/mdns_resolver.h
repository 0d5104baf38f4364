// Resolves the ".local" names of a peer's ICE candidates (draft-ietf-mmusic-mdns-ice-
// candidates §3.2) as a pure state machine: it builds one-shot multicast queries (RFC 6762
// §5.2: A and AAAA in one message, repeated after 1 s, then doubling), reads the answers the
// owner receives on port 5353, and gives each name an outcome: an address, or a reason once
// its time is up. No sockets, no clock: the owner sends what TakeQueries() returns to the
// group on each interface it uses, feeds it what arrives and the time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "net/address.h"

namespace kvs::mdns {

struct ResolverConfig {
  // A name not answered by then is given up on (its candidate is skipped, never fatal).
  uint32_t timeoutMs = 10000;
  uint32_t firstRepeatMs = 1000;  // RFC 6762 §5.2: at least one second before the repeat
  // A tick this late for its deadline means the loop was starved: the gap does not count
  // against the timeout, so an answer waiting in the socket is read first.
  uint32_t stallThresholdMs = 500;
  // Names resolved and remembered at once; more are refused (a peer's description names a
  // handful).
  size_t maxNames = 64;
};

struct Outcome {
  std::string name;
  std::optional<net::Address> address;  // port 0
  std::string reason;                   // when unresolved
};

class Resolver {
 public:
  explicit Resolver(ResolverConfig config = {}) : config_(config) {}

  // Starts resolving (or joins the query under way). A name already resolved has its
  // outcome ready at once. Returns false when the name is refused (too many names, not a
  // valid DNS name): its outcome then says why.
  bool Resolve(const std::string& name, uint64_t nowMs);
  // A datagram from port 5353. Answers (and additional records) for names being resolved
  // settle them; everything else is ignored. Returns true when it settled a name.
  bool HandlePacket(ByteSpan datagram, uint64_t nowMs);
  void Tick(uint64_t nowMs);
  std::optional<uint64_t> NextTickMs() const;

  // Query messages to multicast, in order.
  std::vector<std::vector<uint8_t>> TakeQueries();
  std::vector<Outcome> TakeOutcomes();

  size_t pending() const;
  uint64_t queriesSent() const { return queriesSent_; }

 private:
  struct Entry {
    std::string name;
    bool resolved = false;
    net::Address address;
    uint64_t startedMs = 0;
    uint64_t nextQueryMs = 0;
    uint32_t intervalMs = 0;
  };
  void Query(Entry& e, uint64_t nowMs);
  static std::string Key(const std::string& name);

  ResolverConfig config_;
  std::map<std::string, Entry> entries_;  // by lower-cased name
  std::vector<std::vector<uint8_t>> queries_;
  std::vector<Outcome> outcomes_;
  std::optional<uint64_t> lastTickMs_;
  uint64_t queriesSent_ = 0;
};

}  // namespace kvs::mdns
