// ICE candidates as the agent sees them (RFC 8445 §5.1): resolved addresses, priorities and
// foundations. The SDP text form is the SDP codec's business.
#pragma once

#include <cstdint>
#include <string>

#include "net/address.h"

namespace kvs::ice {

enum class CandidateType { kHost, kServerReflexive, kPeerReflexive, kRelay };
enum class TransportProtocol { kUdp, kTcp };
// RFC 6544 §4.5: an active candidate connects out (port 9 in signaling), a passive one
// listens. Simultaneous-open is not gathered by browsers and not supported here.
enum class TcpType { kNone, kActive, kPassive };

const char* ToString(CandidateType type);  // "host", "srflx", "prflx", "relay"

// The C SDK's type preferences for UDP (c-sdk.md §5): host 126, prflx 110, srflx 100,
// relay 0. For TCP the C SDK has none (it has no ICE-TCP); libwebrtc's (p2p_constants.h,
// IcePriorityValue) are used, so that a UDP path wins over a TCP one between the same
// hosts: host 90, prflx 80; srflx and relay keep their UDP values.
uint32_t TypePreference(CandidateType type, TransportProtocol transport = TransportProtocol::kUdp);

// RFC 8445 §5.1.2.1: 2^24 * type preference + 2^8 * local preference + (256 - component).
uint32_t ComputePriority(CandidateType type, uint16_t localPreference, uint8_t component = 1,
                         TransportProtocol transport = TransportProtocol::kUdp);

// RFC 6544 §4.2: a TCP candidate's local preference is 2^13 * direction preference + other
// preference (0..8191). For a host that no NAT hides, active 6, passive 4 (so 2).
uint16_t TcpLocalPreference(TcpType type, uint16_t otherPreference);

struct Candidate {
  CandidateType type = CandidateType::kHost;
  TransportProtocol transport = TransportProtocol::kUdp;
  TcpType tcpType = TcpType::kNone;  // kActive or kPassive for TCP candidates
  net::Address address;              // where the peer sends (port 9 for active TCP)
  net::Address base;                 // our socket's address (local candidates)
  net::Address relatedAddress;       // raddr/rport for srflx, prflx and relay
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
