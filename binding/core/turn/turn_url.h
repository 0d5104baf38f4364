// TURN server URLs (RFC 7065): "turn:host[:port][?transport=udp|tcp]" and "turns:...".
// The host stays text (a name or an IP literal); resolving it is the caller's job. Which
// transports to try follows the C SDK (c-sdk.md §5): "turn:" without a transport tries UDP
// then TCP, "turns:" is TLS over TCP.
//
// "turns:...?transport=udp" (which KVS hands out as its second URI) is TLS over TCP to the
// same host and port, as in Chromium: libwebrtc's pc/ice_server_parsing.cc sets the
// transport to TLS for every turns: URL whatever ?transport says. The C SDK skips it instead
// (iceAgentInitRelayCandidate: "we dont support TURN on DTLS yet"). Neither speaks TURN over
// DTLS, so neither do we; `dtlsRequested` keeps what the URL asked for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kvs::turn {

enum class TurnTransport { kUdp, kTcp, kTls };

const char* ToString(TurnTransport transport);

constexpr uint16_t kDefaultTurnPort = 3478;
constexpr uint16_t kDefaultTurnsPort = 5349;

struct TurnUrl {
  bool secure = false;  // "turns:"
  std::string host;     // without the brackets of an IPv6 literal
  uint16_t port = kDefaultTurnPort;
  std::optional<TurnTransport> transport;  // the explicit ?transport=, if any
  bool dtlsRequested = false;              // "turns:...?transport=udp" (carried over TLS)
};

// The scheme is case-insensitive; the transport value too.
//   ERR_TURN_URL  not a turn:/turns: URL, an empty or malformed host, a bad port, an unknown
//                 query or transport
Result<TurnUrl> ParseTurnUrl(std::string_view url);

// The transports to try, in order.
std::vector<TurnTransport> TransportsFor(const TurnUrl& url);

}  // namespace kvs::turn
