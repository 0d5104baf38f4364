// ICE candidates as the agent sees them (RFC 8445 §5.1): resolved addresses, priorities and
// foundations. The SDP text form is the SDP codec's business.
#pragma once

#include <cstdint>
#include <string>

#include "net/address.h"

namespace kvs::ice {

enum class CandidateType { kHost, kServerReflexive, kPeerReflexive, kRelay };
enum class TransportProtocol { kUdp, kTcp };

const char* ToString(CandidateType type);  // "host", "srflx", "prflx", "relay"

// The C SDK's type preferences (c-sdk.md §5): host 126, prflx 110, srflx 100, relay 0.
uint32_t TypePreference(CandidateType type);

// RFC 8445 §5.1.2.1: 2^24 * type preference + 2^8 * local preference + (256 - component).
uint32_t ComputePriority(CandidateType type, uint16_t localPreference, uint8_t component = 1);

struct Candidate {
  CandidateType type = CandidateType::kHost;
  TransportProtocol transport = TransportProtocol::kUdp;
  net::Address address;         // where the peer sends
  net::Address base;            // our socket's address (local candidates)
  net::Address relatedAddress;  // raddr/rport for srflx, prflx and relay
  bool hasRelatedAddress = false;
  uint32_t priority = 0;
  std::string foundation;
  uint8_t component = 1;
  // Local candidates: which of the transport's sockets it leaves from.
  int socketId = -1;
};

// RFC 8445 §5.1.1.3: same type, base IP, server and transport share a foundation.
std::string ComputeFoundation(CandidateType type, const net::Address& base,
                              const std::string& server, TransportProtocol transport);

}  // namespace kvs::ice
