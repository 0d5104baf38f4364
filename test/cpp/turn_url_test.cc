#include <doctest/doctest.h>

#include "turn/turn_url.h"

using kvs::turn::ParseTurnUrl;
using kvs::turn::TransportsFor;
using kvs::turn::TurnTransport;

TEST_CASE("TURN URLs: host, default ports and transports (RFC 7065, c-sdk.md §5)") {
  auto a = ParseTurnUrl("turn:turn.example.com");
  REQUIRE(a.ok());
  CHECK(a.value().host == "turn.example.com");
  CHECK(a.value().port == 3478);
  CHECK_FALSE(a.value().secure);
  CHECK(TransportsFor(a.value()) ==
        std::vector<TurnTransport>{TurnTransport::kUdp, TurnTransport::kTcp});

  auto b = ParseTurnUrl("turn:192.0.2.7:443?transport=tcp");
  REQUIRE(b.ok());
  CHECK(b.value().host == "192.0.2.7");
  CHECK(b.value().port == 443);
  CHECK(TransportsFor(b.value()) == std::vector<TurnTransport>{TurnTransport::kTcp});

  auto c = ParseTurnUrl("TURN:h:1?transport=UDP");
  REQUIRE(c.ok());
  CHECK(TransportsFor(c.value()) == std::vector<TurnTransport>{TurnTransport::kUdp});

  auto d = ParseTurnUrl("turns:h.example");
  REQUIRE(d.ok());
  CHECK(d.value().secure);
  CHECK(d.value().port == 5349);
  CHECK(TransportsFor(d.value()) == std::vector<TurnTransport>{TurnTransport::kTls});

  auto e = ParseTurnUrl("turns:h:443?transport=tcp");
  REQUIRE(e.ok());
  CHECK(TransportsFor(e.value()) == std::vector<TurnTransport>{TurnTransport::kTls});

  // KVS's second URI form: TLS over TCP to the same port, as Chromium does.
  auto k = ParseTurnUrl(
      "turns:34-213-148-43.t-e1255f99.kinesisvideo.us-west-2.amazonaws.com:443?transport=udp");
  REQUIRE(k.ok());
  CHECK(k.value().secure);
  CHECK(k.value().port == 443);
  CHECK(k.value().dtlsRequested);
  CHECK(TransportsFor(k.value()) == std::vector<TurnTransport>{TurnTransport::kTls});
  CHECK_FALSE(e.value().dtlsRequested);

  auto f = ParseTurnUrl("turn:[2001:db8::1]:3479");
  REQUIRE(f.ok());
  CHECK(f.value().host == "2001:db8::1");
  CHECK(f.value().port == 3479);
  auto g = ParseTurnUrl("turn:[::1]");
  REQUIRE(g.ok());
  CHECK(g.value().port == 3478);
}

TEST_CASE("TURN URLs: malformed ones are ERR_TURN_URL") {
  for (const char* bad : {"",
                          "turn",
                          "stun:h",
                          "http://h",
                          "turn:",
                          "turn://h",
                          "turn:u@h",
                          "turn:h:",
                          "turn:h:0",
                          "turn:h:65536",
                          "turn:h:123456",
                          "turn:h:12a",
                          "turn:h?transport=sctp",
                          "turn:h?foo=udp",
                          "turn:[::1",
                          "turn:[]",
                          "turn:[::1]x",
                          "turn:[::1]:",
                          "turn:h h",
                          "turn:h/path"}) {
    auto r = ParseTurnUrl(bad);
    CHECK_MESSAGE(!r.ok(), bad);
    if (!r.ok()) CHECK(r.status().code() == "ERR_TURN_URL");
  }
}
