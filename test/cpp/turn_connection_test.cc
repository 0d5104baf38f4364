// TurnConnection against a real coturn on 127.0.0.1 over UDP, TCP and TLS, with a UDP peer
// on 127.0.0.1 exchanging data through the relay. Needs /usr/bin/turnserver and openssl.
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coturn.h"
#include "loop/event_loop.h"
#include "loop/udp_socket.h"
#include "turn/turn_connection.h"

using kvs::ByteSpan;
using kvs::Status;
using kvs::loop::EventLoop;
using kvs::loop::UdpSocket;
using kvs::net::Address;
using kvs::testing::Coturn;
using kvs::testing::CoturnOptions;
using kvs::turn::TurnConnection;
using kvs::turn::TurnConnectionCallbacks;
using kvs::turn::TurnConnectionConfig;
using kvs::turn::TurnState;
using kvs::turn::TurnTransport;

namespace {

Address Loopback(uint16_t port) { return *Address::Parse("127.0.0.1", port); }

ByteSpan Span(const std::string& s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TurnConnectionConfig ConfigFor(const Coturn& server, TurnTransport transport, bool channels) {
  TurnConnectionConfig c;
  c.server = Loopback(transport == TurnTransport::kTls ? server.tlsPort : server.port);
  auto [user, pass] = server.Credentials();
  c.client.username = user;
  c.client.password = pass;
  c.client.transport = transport;
  c.client.useChannels = channels;
  c.tls.serverName = "127.0.0.1";
  c.tls.caFile = server.certFile;
  return c;
}

// A TurnConnection and a UDP peer on their own loop, observed from the test thread.
class Relay {
 public:
  Relay() {
    auto l = EventLoop::Start();
    REQUIRE(l.ok());
    loop = l.take();
  }
  ~Relay() {
    OnLoop([this] {
      connection.reset();
      peer.reset();
      return 0;
    });
  }

  template <typename F>
  auto OnLoop(F fn) -> decltype(fn()) {
    std::promise<decltype(fn())> p;
    auto f = p.get_future();
    loop->Post([&] { p.set_value(fn()); });
    REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    return f.get();
  }

  // Waits (bounded) until pred() holds under the lock.
  template <typename P>
  bool WaitUntil(P pred, int timeoutMs = 10000) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(timeoutMs), pred);
  }

  Status Start(TurnConnectionConfig config) {
    return OnLoop([&] {
      TurnConnectionCallbacks cb;
      cb.onAllocated = [this](const Address& r, const Address& m) {
        Update([&] {
          relayed = r;
          mapped = m;
        });
      };
      cb.onData = [this](const Address& from, ByteSpan d) {
        Update([&] {
          received.emplace_back(from, std::string(reinterpret_cast<const char*>(d.data), d.size));
        });
      };
      cb.onError = [this](const Status& s) { Update([&] { errors.push_back(s); }); };
      cb.onClosed = [this] { Update([&] { closed = true; }); };
      auto c = TurnConnection::Start(*loop, std::move(config), std::move(cb));
      if (!c.ok()) return c.status();
      connection = c.take();
      auto p = UdpSocket::Bind(*loop, Loopback(0), [this](const Address& from, ByteSpan d) {
        Update([&] {
          peerReceived.emplace_back(from,
                                    std::string(reinterpret_cast<const char*>(d.data), d.size));
        });
      });
      if (!p.ok()) return p.status();
      peer = p.take();
      peerAddress = peer->local();
      return Status::Ok();
    });
  }

  bool WaitAllocated() {
    return WaitUntil([&] { return relayed.has_value() || !errors.empty(); }) && relayed.has_value();
  }

  // One message each way between the client and the peer through the relay.
  void Exchange(const std::string& tag) {
    size_t before = 0, beforePeer = 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      before = received.size();
      beforePeer = peerReceived.size();
    }
    const std::string out = "to-peer " + tag, back = "to-client " + tag;
    Status s = OnLoop([&] { return connection->SendTo(peerAddress, Span(out)); });
    REQUIRE_MESSAGE(s.ok(), s.message());
    REQUIRE(WaitUntil([&] { return peerReceived.size() > beforePeer; }));
    {
      std::lock_guard<std::mutex> lock(mu);
      CHECK(peerReceived.back().first == *relayed);  // it came from the relayed address
      CHECK(peerReceived.back().second == out);
    }
    s = OnLoop([&] { return peer->SendTo(*relayed, Span(back)); });
    REQUIRE(s.ok());
    REQUIRE(WaitUntil([&] { return received.size() > before; }));
    std::lock_guard<std::mutex> lock(mu);
    CHECK(received.back().first == peerAddress);
    CHECK(received.back().second == back);
  }

  kvs::turn::TurnClient::Counters Counters() {
    return OnLoop([&] { return connection->client().counters(); });
  }

  std::string Errors() {
    std::lock_guard<std::mutex> lock(mu);
    std::string out;
    for (const auto& e : errors) out += e.code() + ": " + e.message() + "\n";
    return out;
  }

  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<TurnConnection> connection;
  std::unique_ptr<UdpSocket> peer;
  Address peerAddress;

  std::mutex mu;
  std::condition_variable cv;
  std::optional<Address> relayed, mapped;
  std::vector<std::pair<Address, std::string>> received, peerReceived;
  std::vector<Status> errors;
  bool closed = false;

 private:
  template <typename F>
  void Update(F f) {
    {
      std::lock_guard<std::mutex> lock(mu);
      f();
    }
    cv.notify_all();
  }
};

// Allocation, both data paths, and deallocation over one transport.
void AllocateExchangeClose(const Coturn& server, TurnTransport transport) {
  for (bool channels : {false, true}) {
    CAPTURE(channels);
    Relay r;
    REQUIRE(r.Start(ConfigFor(server, transport, channels)).ok());
    REQUIRE_MESSAGE(r.WaitAllocated(), r.Errors() << server.Log());
    CHECK(r.relayed->IpString() == "127.0.0.1");
    CHECK(r.relayed->port() != 0);
    CHECK(r.mapped->IpString() == "127.0.0.1");
    // The UDP socket is bound to the wildcard address: compare ports.
    CHECK(r.mapped->port() == r.OnLoop([&] { return r.connection->localAddress()->port(); }));
    r.Exchange("1");
    if (channels) {
      // Once the channel is bound both directions use ChannelData.
      bool bound = false;
      for (int i = 0; i < 100 && !bound; ++i) {
        bound =
            r.OnLoop([&] { return r.connection->client().ChannelFor(r.peerAddress).has_value(); });
        if (!bound) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      REQUIRE(bound);
      r.Exchange("2");
      auto c = r.Counters();
      CHECK(c.channelDataSent >= 1);
      CHECK(c.channelDataReceived >= 1);
    } else {
      r.Exchange("2");
      auto c = r.Counters();
      CHECK(c.sendIndications == 2);
      CHECK(c.dataIndications == 2);
      CHECK(c.channelDataSent == 0);
    }
    r.OnLoop([&] {
      r.connection->Close();
      return 0;
    });
    REQUIRE(r.WaitUntil([&] { return r.closed; }));
    CHECK(r.Counters().deallocations == 1);  // coturn confirmed the deletion
    CHECK(r.Errors().empty());
  }
}

}  // namespace

TEST_CASE(
    "TURN over UDP with coturn: allocate, relay both ways (Send/Data and ChannelData), "
    "deallocate") {
  Coturn server;
  AllocateExchangeClose(server, TurnTransport::kUdp);
}

TEST_CASE("TURN over TCP with coturn: allocate, relay both ways, deallocate") {
  Coturn server;
  AllocateExchangeClose(server, TurnTransport::kTcp);
}

TEST_CASE("TURN over TLS with coturn: allocate, relay both ways, deallocate") {
  Coturn server(CoturnOptions{true, {}});
  AllocateExchangeClose(server, TurnTransport::kTls);
}

TEST_CASE("TURN over TLS: the certificate is verified against the CA file and the name") {
  Coturn server(CoturnOptions{true, {}});
  SUBCASE("not in the trust store") {
    auto config = ConfigFor(server, TurnTransport::kTls, true);
    config.tls.caFile.clear();  // OpenSSL's default store does not know coturn's certificate
    Relay r;
    REQUIRE(r.Start(config).ok());
    REQUIRE(r.WaitUntil([&] { return !r.errors.empty(); }));
    CHECK(r.errors[0].code() == "ERR_TLS_VERIFY");
    CHECK_FALSE(r.relayed);
  }
  SUBCASE("another name") {
    auto config = ConfigFor(server, TurnTransport::kTls, true);
    config.tls.serverName = "turn.example.com";
    Relay r;
    REQUIRE(r.Start(config).ok());
    REQUIRE(r.WaitUntil([&] { return !r.errors.empty(); }));
    CHECK(r.errors[0].code() == "ERR_TLS_VERIFY");
  }
  SUBCASE("trusted, by its DNS name (sent as SNI)") {
    auto config = ConfigFor(server, TurnTransport::kTls, true);
    config.tls.serverName = "localhost";  // the certificate's other subjectAltName
    Relay r;
    REQUIRE(r.Start(config).ok());
    CHECK_MESSAGE(r.WaitAllocated(), r.Errors());
  }
  SUBCASE("verification explicitly disabled") {
    auto config = ConfigFor(server, TurnTransport::kTls, true);
    config.tls.caFile.clear();
    config.tls.insecureAcceptAnyCertificate = true;
    Relay r;
    REQUIRE(r.Start(config).ok());
    CHECK_MESSAGE(r.WaitAllocated(), r.Errors());
  }
}

TEST_CASE("TURN with coturn: a wrong password is ERR_TURN_AUTH") {
  Coturn server(CoturnOptions{false, {}});
  for (TurnTransport t : {TurnTransport::kUdp, TurnTransport::kTcp}) {
    CAPTURE(kvs::turn::ToString(t));
    auto config = ConfigFor(server, t, true);
    config.client.password[0] = config.client.password[0] == 'A' ? 'B' : 'A';
    Relay r;
    REQUIRE(r.Start(config).ok());
    REQUIRE(r.WaitUntil([&] { return !r.errors.empty(); }));
    CHECK(r.errors[0].code() == "ERR_TURN_AUTH");
    CHECK(r.OnLoop([&] { return r.connection->state(); }) == TurnState::kFailed);
  }
}

TEST_CASE("TURN with coturn: a short lifetime is refreshed before it ends") {
  Coturn server(CoturnOptions{false, {"--max-allocate-lifetime=4"}});
  auto config = ConfigFor(server, TurnTransport::kUdp, true);
  Relay r;
  REQUIRE(r.Start(config).ok());
  REQUIRE_MESSAGE(r.WaitAllocated(), r.Errors());
  const uint32_t granted = r.OnLoop([&] { return r.connection->client().grantedLifetimeSec(); });
  CAPTURE(granted);
  REQUIRE(granted <= 4);
  // Refreshed at half the lifetime: two refreshes within 2.5 lifetimes keep it alive.
  bool refreshed = false;
  for (int i = 0; i < 100 && !refreshed; ++i) {
    refreshed = r.Counters().refreshes >= 2;
    if (!refreshed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(refreshed);
  r.Exchange("after refresh");  // still allocated on the server
  CHECK(r.Errors().empty());
}

TEST_CASE("TURN with coturn: an expired nonce (438) is renewed and the request goes through") {
  Coturn server(CoturnOptions{false, {"--stale-nonce=1"}});
  Relay r;
  REQUIRE(r.Start(ConfigFor(server, TurnTransport::kTcp, false)).ok());
  REQUIRE_MESSAGE(r.WaitAllocated(), r.Errors());
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));  // the nonce is now stale
  r.Exchange("with a fresh nonce");                              // CreatePermission meets 438 first
  CHECK(r.Counters().staleNonces >= 1);
  CHECK(r.Errors().empty());
}

TEST_CASE("TURN over TCP: the server going away is ERR_TURN_CONNECTION_CLOSED") {
  Coturn server;
  Relay r;
  REQUIRE(r.Start(ConfigFor(server, TurnTransport::kTcp, true)).ok());
  REQUIRE_MESSAGE(r.WaitAllocated(), r.Errors());
  server.Stop();
  REQUIRE(r.WaitUntil([&] { return !r.errors.empty(); }));
  CHECK(r.errors[0].code() == "ERR_TURN_CONNECTION_CLOSED");
  CHECK(r.OnLoop([&] { return r.connection->state(); }) == TurnState::kFailed);
}

TEST_CASE("TURN over UDP: an unanswered Allocate is retransmitted, then ERR_TURN_TIMEOUT") {
  TurnConnectionConfig config;
  config.server = Loopback(kvs::testing::FreeLoopbackPort());  // nobody listens there
  config.client.username = "u";
  config.client.password = "p";
  config.client.initialRtoMs = 50;
  config.client.maxTransmissions = 3;
  config.client.lastWaitRtos = 4;  // 50 + 100 + 200 ms
  Relay r;
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(r.Start(config).ok());
  REQUIRE(r.WaitUntil([&] { return !r.errors.empty(); }));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(r.errors[0].code() == "ERR_TURN_TIMEOUT");
  CHECK(r.Counters().retransmissions == 2);
  CHECK(elapsed >= std::chrono::milliseconds(340));
  CHECK(elapsed < std::chrono::seconds(5));
}

TEST_CASE("TURN over UDP: the socket binds to the configured local address") {
  Coturn server;
  auto config = ConfigFor(server, TurnTransport::kUdp, true);
  config.local = Loopback(0);
  Relay r;
  REQUIRE(r.Start(config).ok());
  REQUIRE_MESSAGE(r.WaitAllocated(), r.Errors());
  const auto local = r.OnLoop([&] { return r.connection->localAddress(); });
  REQUIRE(local);
  CHECK(local->IpString() == "127.0.0.1");
  CHECK(*r.mapped == *local);
}

TEST_CASE("TURN over TCP: a refused connection is reported") {
  TurnConnectionConfig config;
  config.server = Loopback(kvs::testing::FreeLoopbackPort());
  config.client.transport = TurnTransport::kTcp;
  Relay r;
  REQUIRE(r.Start(config).ok());
  REQUIRE(r.WaitUntil([&] { return !r.errors.empty(); }));
  CHECK(r.errors[0].code() == "ERR_SOCKET");
}

TEST_CASE("TURN with coturn: two allocations (UDP and TLS) relay to each other") {
  Coturn server(CoturnOptions{true, {}});
  Relay a, b;
  REQUIRE(a.Start(ConfigFor(server, TurnTransport::kUdp, true)).ok());
  REQUIRE(b.Start(ConfigFor(server, TurnTransport::kTls, true)).ok());
  REQUIRE_MESSAGE(a.WaitAllocated(), a.Errors());
  REQUIRE_MESSAGE(b.WaitAllocated(), b.Errors());
  const Address ra = *a.relayed, rb = *b.relayed;
  REQUIRE(ra != rb);
  // Each side lets the other's relayed address in; A's data waits for A's own permission.
  REQUIRE(b.OnLoop([&] { return b.connection->AddPermission(ra); }).ok());
  bool installed = false;  // else coturn could drop A's data before B's permission exists
  for (int i = 0; i < 250 && !installed; ++i) {
    installed = b.OnLoop([&] { return b.connection->client().HasPermission(ra); });
    if (!installed) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(installed);
  REQUIRE(a.OnLoop([&] { return a.connection->SendTo(rb, Span("a to b")); }).ok());
  REQUIRE(b.WaitUntil([&] { return !b.received.empty(); }));
  REQUIRE(b.OnLoop([&] { return b.connection->SendTo(ra, Span("b to a")); }).ok());
  REQUIRE(a.WaitUntil([&] { return !a.received.empty(); }));
  std::lock_guard<std::mutex> la(a.mu), lb(b.mu);
  CHECK(b.received[0].first == ra);
  CHECK(b.received[0].second == "a to b");
  CHECK(a.received[0].first == rb);
  CHECK(a.received[0].second == "b to a");
}
