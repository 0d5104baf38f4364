// The ICE candidate attribute (RFC 8839 §5.1): a pure codec between the text a browser or the
// signaling channel carries ("candidate:..." or "a=candidate:...") and a typed record the ICE
// agent can use. Unknown extension attributes are kept so nothing is lost on a round trip.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kvs::sdp {

enum class CandidateType { kHost, kSrflx, kPrflx, kRelay };
enum class TransportProtocol { kUdp, kTcp, kOther };
enum class TcpType { kActive, kPassive, kSo };

// What the connection-address field holds. An mDNS name ("<uuid>.local", RFC 8839 / the
// mdns-ice-candidates draft) must be resolved (or skipped) by the ICE agent before use.
enum class AddressKind { kIpv4, kIpv6, kMdnsHostname, kHostname };

struct Candidate {
  std::string foundation;
  uint16_t component = 1;  // 1 = RTP (the only one with rtcp-mux)
  // As written ("udp", "UDP", "tcp"); `protocol` is the case-insensitive reading of it.
  std::string transport = "udp";
  TransportProtocol protocol = TransportProtocol::kUdp;
  uint32_t priority = 0;
  std::string address;
  AddressKind addressKind = AddressKind::kIpv4;
  uint16_t port = 0;
  CandidateType type = CandidateType::kHost;
  std::optional<std::string> relatedAddress;
  std::optional<uint16_t> relatedPort;
  std::optional<TcpType> tcpType;
  std::optional<uint32_t> generation;
  std::optional<std::string> ufrag;
  std::optional<uint32_t> networkId;
  std::optional<uint32_t> networkCost;
  // Any other "name value" pairs, in order.
  std::vector<std::pair<std::string, std::string>> extensions;

  bool isMdns() const { return addressKind == AddressKind::kMdnsHostname; }
};

bool operator==(const Candidate& a, const Candidate& b);
inline bool operator!=(const Candidate& a, const Candidate& b) { return !(a == b); }

// Parses "candidate:..." or "a=candidate:..." (trailing CR/LF and whitespace tolerated).
// Errors are ERR_SDP_CANDIDATE with a message naming the offending field.
Result<Candidate> ParseCandidate(std::string_view text);

// "candidate:<foundation> <component> ..." without the "a=" prefix: the form trickle ICE and
// RTCIceCandidate.candidate use. The SDP writer prefixes "a=".
std::string FormatCandidate(const Candidate& c);

const char* CandidateTypeName(CandidateType t);  // "host", "srflx", "prflx", "relay"
const char* TcpTypeName(TcpType t);              // "active", "passive", "so"

}  // namespace kvs::sdp
