#include "ice/ice_candidate.h"

#include <openssl/sha.h>

#include <cstdio>

namespace kvs::ice {

const char* ToString(CandidateType type) {
  switch (type) {
    case CandidateType::kHost:
      return "host";
    case CandidateType::kServerReflexive:
      return "srflx";
    case CandidateType::kPeerReflexive:
      return "prflx";
    case CandidateType::kRelay:
      return "relay";
  }
  return "host";
}

uint32_t TypePreference(CandidateType type, TransportProtocol transport) {
  if (transport == TransportProtocol::kTcp) {
    if (type == CandidateType::kHost) return 90;
    if (type == CandidateType::kPeerReflexive) return 80;
  }
  switch (type) {
    case CandidateType::kHost:
      return 126;
    case CandidateType::kPeerReflexive:
      return 110;
    case CandidateType::kServerReflexive:
      return 100;
    case CandidateType::kRelay:
      return 0;
  }
  return 0;
}

uint32_t ComputePriority(CandidateType type, uint16_t localPreference, uint8_t component,
                         TransportProtocol transport) {
  return (TypePreference(type, transport) << 24) | (static_cast<uint32_t>(localPreference) << 8) |
         (256u - component);
}

uint16_t TcpLocalPreference(TcpType type, uint16_t otherPreference) {
  const uint16_t direction = type == TcpType::kActive ? 6 : type == TcpType::kPassive ? 4 : 2;
  return static_cast<uint16_t>((direction << 13) | (otherPreference & 0x1fff));
}

std::string ComputeFoundation(CandidateType type, const net::Address& base,
                              const std::string& server, TransportProtocol transport) {
  // A short digest keeps foundations opaque and within the 32-character ice-char limit.
  std::string key = std::string(ToString(type)) + "|" + base.IpString() + "|" + server + "|" +
                    (transport == TransportProtocol::kUdp ? "udp" : "tcp");
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  const uint32_t v = (static_cast<uint32_t>(digest[0]) << 24) |
                     (static_cast<uint32_t>(digest[1]) << 16) |
                     (static_cast<uint32_t>(digest[2]) << 8) | digest[3];
  return std::to_string(v);
}

}  // namespace kvs::ice
