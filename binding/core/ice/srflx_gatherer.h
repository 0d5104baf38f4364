// Server-reflexive candidates (RFC 8445 §5.1.1.2): a STUN Binding request from each host
// socket to each STUN server, and the mapped address the server saw. Pure: the transport
// sends what TakeOutgoing() returns and feeds back responses and the time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "ice/ice_agent.h"
#include "net/address.h"

namespace kvs::ice {

struct StunServerStats {
  std::string url;
  uint64_t requestsSent = 0;  // first transmissions
  uint64_t responsesReceived = 0;
  uint64_t totalRoundTripTimeMs = 0;  // answers to requests sent once only (Karn)
  uint64_t roundTripTimeSamples = 0;
};

struct ServerReflexive {
  int socketId;
  net::Address base;    // the host socket's address
  net::Address mapped;  // what the server saw
  size_t server;        // index of the server
};

class SrflxGatherer {
 public:
  SrflxGatherer(RandomSource random, uint32_t initialRtoMs = 250, uint32_t maxTransmissions = 4);

  // Returns the server's index for stats.
  size_t AddServer(const std::string& url, const net::Address& address);
  // Queries every server of the host's family from this host socket.
  void AddHost(int socketId, const net::Address& host, uint64_t nowMs);

  // A STUN datagram on a host socket: true if it answered one of our requests. A new
  // mapped address different from the host's own is returned as a candidate.
  bool HandleResponse(int socketId, const net::Address& from, ByteSpan datagram, uint64_t nowMs,
                      std::optional<ServerReflexive>* found);
  void Tick(uint64_t nowMs);
  std::vector<OutgoingPacket> TakeOutgoing();
  bool done() const { return pending_.empty(); }
  const std::vector<StunServerStats>& stats() const { return stats_; }

 private:
  struct Pending {
    int socketId;
    net::Address base;
    size_t server;
    uint64_t firstSentMs;
    uint64_t nextSendMs;
    uint32_t rtoMs;
    uint32_t transmissions;
    std::vector<uint8_t> bytes;
  };

  RandomSource random_;
  uint32_t initialRtoMs_;
  uint32_t maxTransmissions_;
  std::vector<net::Address> servers_;
  std::vector<StunServerStats> stats_;
  std::map<std::string, Pending> pending_;  // by transaction id
  std::vector<OutgoingPacket> outgoing_;
  std::vector<std::pair<int, net::Address>> seen_;  // (socket, mapped) already reported
};

}  // namespace kvs::ice
