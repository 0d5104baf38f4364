#include "turn/turn_url.h"

#include <cctype>

namespace kvs::turn {
namespace {

Status Bad(std::string_view url, const std::string& why) {
  return Status::Fail("ERR_TURN_URL", "invalid TURN URL \"" + std::string(url) + "\": " + why);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsHostChar(char c) {
  // reg-name and IPv4 characters (RFC 3986 unreserved plus '%' of pct-encoding is not
  // expected in TURN hosts, so it is refused).
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

}  // namespace

const char* ToString(TurnTransport transport) {
  switch (transport) {
    case TurnTransport::kUdp:
      return "udp";
    case TurnTransport::kTcp:
      return "tcp";
    case TurnTransport::kTls:
      return "tls";
  }
  return "udp";
}

Result<TurnUrl> ParseTurnUrl(std::string_view url) {
  TurnUrl out;
  const size_t colon = url.find(':');
  if (colon == std::string_view::npos) return Bad(url, "no scheme");
  const std::string scheme = Lower(url.substr(0, colon));
  if (scheme == "turns") {
    out.secure = true;
    out.port = kDefaultTurnsPort;
  } else if (scheme != "turn") {
    return Bad(url, "the scheme is not turn or turns");
  }
  std::string_view rest = url.substr(colon + 1);
  std::string_view query;
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  // RFC 7065 has no authority "//" and no userinfo.
  if (rest.substr(0, 2) == "//" || rest.find('@') != std::string_view::npos) {
    return Bad(url, "a turn URL has no \"//\" or user part");
  }
  std::string_view portText;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return Bad(url, "unterminated IPv6 literal");
    out.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Bad(url, "junk after the IPv6 literal");
      portText = after.substr(1);
      if (portText.empty()) return Bad(url, "empty port");
    }
    if (out.host.empty()) return Bad(url, "empty host");
    for (char c : out.host) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
        return Bad(url, "bad IPv6 literal");
      }
    }
  } else {
    const size_t pc = rest.find(':');
    out.host = std::string(rest.substr(0, pc));
    if (pc != std::string_view::npos) {
      portText = rest.substr(pc + 1);
      if (portText.empty()) return Bad(url, "empty port");
    }
    if (out.host.empty()) return Bad(url, "empty host");
    for (char c : out.host) {
      if (!IsHostChar(c)) return Bad(url, std::string("bad character '") + c + "' in the host");
    }
  }
  if (!portText.empty()) {
    if (portText.size() > 5) return Bad(url, "bad port");
    uint32_t port = 0;
    for (char c : portText) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return Bad(url, "bad port");
      port = port * 10 + static_cast<uint32_t>(c - '0');
    }
    if (port == 0 || port > 65535) return Bad(url, "port out of range");
    out.port = static_cast<uint16_t>(port);
  }
  if (!query.empty()) {
    constexpr std::string_view kKey = "transport=";
    if (Lower(query.substr(0, kKey.size())) != kKey) return Bad(url, "unknown query");
    const std::string value = Lower(query.substr(kKey.size()));
    if (value == "udp") {
      // turns: is TLS over TCP whatever the transport says (see the header).
      out.transport = out.secure ? TurnTransport::kTls : TurnTransport::kUdp;
      out.dtlsRequested = out.secure;
    } else if (value == "tcp") {
      out.transport = out.secure ? TurnTransport::kTls : TurnTransport::kTcp;
    } else {
      return Bad(url, "unknown transport \"" + value + "\"");
    }
  }
  return out;
}

std::vector<TurnTransport> TransportsFor(const TurnUrl& url) {
  if (url.secure) return {TurnTransport::kTls};
  if (url.transport) return {*url.transport};
  return {TurnTransport::kUdp, TurnTransport::kTcp};
}

}  // namespace kvs::turn
