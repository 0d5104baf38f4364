#include "sdp/candidate.h"

#include <tuple>

#include "sdp/text.h"

namespace kvs::sdp {

namespace {

constexpr const char* kErr = "ERR_SDP_CANDIDATE";

Status Fail(const std::string& what) { return Status::Fail(kErr, "candidate: " + what); }

std::string Quote(std::string_view s) { return text::QuoteForError(s); }

// RFC 8839 ice-char: ALPHA / DIGIT / "+" / "/". Foundations are 1*32 of them; some stacks use
// longer hex digests, so up to 64 are accepted.
bool IsFoundation(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

std::optional<AddressKind> ClassifyAddress(std::string_view s) {
  if (text::IsIpv4(s)) return AddressKind::kIpv4;
  if (text::IsIpv6(s)) return AddressKind::kIpv6;
  if (text::IsHostname(s)) {
    std::string_view name = s;
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    return text::EndsWithIgnoreCase(name, ".local") ? AddressKind::kMdnsHostname
                                                    : AddressKind::kHostname;
  }
  return std::nullopt;
}

std::optional<CandidateType> ParseType(std::string_view s) {
  if (s == "host") return CandidateType::kHost;
  if (s == "srflx") return CandidateType::kSrflx;
  if (s == "prflx") return CandidateType::kPrflx;
  if (s == "relay") return CandidateType::kRelay;
  return std::nullopt;
}

std::optional<TcpType> ParseTcpType(std::string_view s) {
  if (s == "active") return TcpType::kActive;
  if (s == "passive") return TcpType::kPassive;
  if (s == "so") return TcpType::kSo;
  return std::nullopt;
}

template <typename T>
Status SetOnce(std::optional<T>& slot, T value, std::string_view name) {
  if (slot.has_value()) return Fail("duplicate " + std::string(name));
  slot = std::move(value);
  return Status::Ok();
}

}  // namespace

const char* CandidateTypeName(CandidateType t) {
  switch (t) {
    case CandidateType::kHost:
      return "host";
    case CandidateType::kSrflx:
      return "srflx";
    case CandidateType::kPrflx:
      return "prflx";
    case CandidateType::kRelay:
      return "relay";
  }
  return "host";
}

const char* TcpTypeName(TcpType t) {
  switch (t) {
    case TcpType::kActive:
      return "active";
    case TcpType::kPassive:
      return "passive";
    case TcpType::kSo:
      return "so";
  }
  return "active";
}

bool operator==(const Candidate& a, const Candidate& b) {
  auto key = [](const Candidate& c) {
    return std::tie(c.foundation, c.component, c.transport, c.protocol, c.priority, c.address,
                    c.addressKind, c.port, c.type, c.relatedAddress, c.relatedPort, c.tcpType,
                    c.generation, c.ufrag, c.networkId, c.networkCost, c.extensions);
  };
  return key(a) == key(b);
}

Result<Candidate> ParseCandidate(std::string_view input) {
  std::string_view s = input;
  // A candidate is one line. Its terminator and the blanks around it go, mixed in any order
  // (stripping one kind and then the other left a "\n" in "...\n\t", which formatting then
  // dropped: the fuzzer's round trip found it); a line break or NUL inside is refused.
  auto trailing = [](char c) { return c == '\r' || c == '\n' || c == ' ' || c == '\t'; };
  while (!s.empty() && trailing(s.back())) s.remove_suffix(1);
  s = text::TrimWhitespace(s);
  if (s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    return Fail("contains a line break or NUL: a candidate is one line");
  }
  if (s.size() >= 2 && s.substr(0, 2) == "a=") s.remove_prefix(2);
  constexpr std::string_view kPrefix = "candidate:";
  if (s.size() < kPrefix.size() || !text::EqualsIgnoreCase(s.substr(0, kPrefix.size()), kPrefix)) {
    return Fail("does not start with \"candidate:\"");
  }
  s.remove_prefix(kPrefix.size());

  auto f = text::SplitFields(s);
  if (f.size() < 8) {
    return Fail(
        "expected at least 8 fields (foundation component transport priority address "
        "port typ type), got " +
        std::to_string(f.size()));
  }
  Candidate c;
  if (!IsFoundation(f[0])) return Fail("foundation " + Quote(f[0]) + " is not 1-64 ice-chars");
  c.foundation = std::string(f[0]);

  auto component = text::ParseUnsigned(f[1], 256);
  if (!component || *component == 0) {
    return Fail("component " + Quote(f[1]) + " is not a number from 1 to 256");
  }
  c.component = static_cast<uint16_t>(*component);

  c.transport = std::string(f[2]);
  if (text::EqualsIgnoreCase(f[2], "udp")) {
    c.protocol = TransportProtocol::kUdp;
  } else if (text::EqualsIgnoreCase(f[2], "tcp")) {
    c.protocol = TransportProtocol::kTcp;
  } else if (IsFoundation(f[2])) {
    // RFC 8839 allows transport extensions (e.g. the obsolete "ssltcp"); the agent skips them.
    c.protocol = TransportProtocol::kOther;
  } else {
    return Fail("transport " + Quote(f[2]) + " is not a token");
  }

  auto priority = text::ParseUnsigned(f[3], UINT32_MAX);
  if (!priority) return Fail("priority " + Quote(f[3]) + " is not a 32-bit number");
  c.priority = static_cast<uint32_t>(*priority);

  auto kind = ClassifyAddress(f[4]);
  if (!kind) {
    return Fail("address " + Quote(f[4]) + " is neither an IPv4 or IPv6 address nor a hostname");
  }
  c.address = std::string(f[4]);
  c.addressKind = *kind;

  auto port = text::ParseUnsigned(f[5], 65535);
  if (!port) return Fail("port " + Quote(f[5]) + " is not a number from 0 to 65535");
  c.port = static_cast<uint16_t>(*port);

  if (f[6] != "typ") return Fail("expected \"typ\" after the port, got " + Quote(f[6]));
  auto type = ParseType(f[7]);
  if (!type) return Fail("type " + Quote(f[7]) + " is not host, srflx, prflx or relay");
  c.type = *type;

  for (size_t i = 8; i < f.size(); i += 2) {
    std::string_view name = f[i];
    if (i + 1 >= f.size()) return Fail("extension " + Quote(name) + " has no value");
    std::string_view value = f[i + 1];
    Status st = Status::Ok();
    if (name == "raddr") {
      // The C SDK writes "raddr ::/0" for its IPv6 candidates, so a prefix length is tolerated.
      auto prefixed = text::SplitOnce(value, '/');
      bool valid = ClassifyAddress(prefixed.first).has_value() &&
                   (!prefixed.found || text::ParseUnsigned(prefixed.second, 128).has_value());
      if (!valid) return Fail("raddr " + Quote(value) + " is not an address");
      st = SetOnce(c.relatedAddress, std::string(value), name);
    } else if (name == "rport") {
      auto rport = text::ParseUnsigned(value, 65535);
      if (!rport) return Fail("rport " + Quote(value) + " is not a number from 0 to 65535");
      st = SetOnce(c.relatedPort, static_cast<uint16_t>(*rport), name);
    } else if (name == "tcptype") {
      auto tt = ParseTcpType(value);
      if (!tt) return Fail("tcptype " + Quote(value) + " is not active, passive or so");
      st = SetOnce(c.tcpType, *tt, name);
    } else if (name == "generation" || name == "network-id" || name == "network-cost") {
      auto n = text::ParseUnsigned(value, UINT32_MAX);
      if (!n) return Fail(std::string(name) + " " + Quote(value) + " is not a 32-bit number");
      auto& slot = name == "generation"   ? c.generation
                   : name == "network-id" ? c.networkId
                                          : c.networkCost;
      st = SetOnce(slot, static_cast<uint32_t>(*n), name);
    } else if (name == "ufrag") {
      st = SetOnce(c.ufrag, std::string(value), name);
    } else {
      c.extensions.emplace_back(std::string(name), std::string(value));
    }
    if (!st.ok()) return st;
  }
  return c;
}

std::string FormatCandidate(const Candidate& c) {
  std::string out = "candidate:";
  out += c.foundation;
  out += ' ';
  out += std::to_string(c.component);
  out += ' ';
  out += c.transport;
  out += ' ';
  out += std::to_string(c.priority);
  out += ' ';
  out += c.address;
  out += ' ';
  out += std::to_string(c.port);
  out += " typ ";
  out += CandidateTypeName(c.type);
  if (c.relatedAddress) out += " raddr " + *c.relatedAddress;
  if (c.relatedPort) out += " rport " + std::to_string(*c.relatedPort);
  if (c.tcpType) out += std::string(" tcptype ") + TcpTypeName(*c.tcpType);
  if (c.generation) out += " generation " + std::to_string(*c.generation);
  if (c.ufrag) out += " ufrag " + *c.ufrag;
  if (c.networkId) out += " network-id " + std::to_string(*c.networkId);
  if (c.networkCost) out += " network-cost " + std::to_string(*c.networkCost);
  for (const auto& [name, value] : c.extensions) {
    out += ' ';
    out += name;
    out += ' ';
    out += value;
  }
  return out;
}

}  // namespace kvs::sdp
