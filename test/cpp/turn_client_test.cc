// The TURN client state machine against a scripted server: every answer below is built by
// the test with the STUN codec, as a TURN server would send it.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "stun/channel_data.h"
#include "stun/stun_builders.h"
#include "stun/stun_codec.h"
#include "stun/stun_integrity.h"
#include "stun_test_util.h"
#include "turn/turn_client.h"

using namespace kvs;
using kvs::stun::testing::Bytes;
using kvs::stun::testing::Ok;
using kvs::turn::TurnClient;
using kvs::turn::TurnClientConfig;
using kvs::turn::TurnState;
using kvs::turn::TurnTransport;
namespace attr = kvs::stun::attr;

using kvs::stun::testing::Addr;

namespace {

// A counter as the random source: distinct transaction ids, reproducible runs.
turn::TurnRandom Counter() {
  auto n = std::make_shared<uint32_t>(0);
  return [n](uint8_t* out, size_t len) {
    for (size_t i = 0; i < len; ++i) out[i] = static_cast<uint8_t>(i == 0 ? ++*n : i);
  };
}

const char* kUser = "1900000000:alice";
const char* kPass = "s3cret";
const char* kRealm = "kvs.test";

struct Server {
  std::string nonce = "nonce-1";
  stun::Key key = stun::LongTermKey(kUser, kRealm, kPass);
  net::Address relayed = Addr("127.0.0.1", 50002);
  net::Address mapped = Addr("127.0.0.1", 40001);

  static stun::Message Read(const std::vector<uint8_t>& bytes) { return Ok(stun::Parse(bytes)); }
  std::vector<uint8_t> Signed(const stun::Message& m) const {
    return Ok(stun::SerializeWithIntegrity(m, key, true));
  }
  std::vector<uint8_t> Challenge(const stun::Message& req, uint16_t code) const {
    auto m = stun::ErrorResponse(req.method, req.transactionId, code);
    m.AddText(attr::kRealm, kRealm).AddText(attr::kNonce, nonce);
    return Ok(stun::Serialize(m));
  }
  std::vector<uint8_t> AllocateOk(const stun::Message& req, uint32_t lifetime = 600) const {
    stun::Message m(stun::Method::kAllocate, stun::Class::kSuccessResponse, req.transactionId);
    m.AddXorAddress(attr::kXorRelayedAddress, relayed);
    m.AddXorAddress(attr::kXorMappedAddress, mapped);
    m.AddU32(attr::kLifetime, lifetime);
    return Signed(m);
  }
  std::vector<uint8_t> Ok200(const stun::Message& req) const {
    stun::Message m(req.method, stun::Class::kSuccessResponse, req.transactionId);
    if (req.method == stun::Method::kRefresh)
      m.AddU32(attr::kLifetime, *req.GetU32(attr::kLifetime));
    return Signed(m);
  }
  // Checks that an authenticated request carries our credentials and a valid integrity.
  void ExpectAuthenticated(const std::vector<uint8_t>& raw) const {
    auto m = Read(raw);
    CHECK(m.GetText(attr::kUsername) == std::string_view(kUser));
    CHECK(m.GetText(attr::kRealm) == std::string_view(kRealm));
    CHECK(m.GetText(attr::kNonce) == std::string_view(nonce));
    CHECK(stun::CheckMessageIntegrity(raw, key).ok());
    CHECK(stun::CheckFingerprint(raw).ok());
  }
};

struct Harness {
  explicit Harness(TurnTransport transport = TurnTransport::kUdp, bool channels = true,
                   uint32_t stallThresholdMs = TurnClientConfig{}.stallThresholdMs)
      : client(MakeConfig(transport, channels, stallThresholdMs), Counter()) {
    client.onAllocated = [this](const net::Address& r, const net::Address& m) {
      relayed = r;
      mapped = m;
    };
    client.onData = [this](const net::Address& peer, ByteSpan d) {
      received.emplace_back(peer, std::string(reinterpret_cast<const char*>(d.data), d.size));
    };
    client.onError = [this](const Status& s) { errors.push_back(s); };
    client.onClosed = [this] { closed = true; };
  }
  static TurnClientConfig MakeConfig(TurnTransport transport, bool channels,
                                     uint32_t stallThresholdMs) {
    TurnClientConfig c;
    c.stallThresholdMs = stallThresholdMs;
    c.username = kUser;
    c.password = kPass;
    c.transport = transport;
    c.useChannels = channels;
    return c;
  }
  // The single message the client must have sent.
  std::vector<uint8_t> One() {
    auto out = client.TakeOutgoing();
    REQUIRE(out.size() == 1);
    return out[0];
  }
  void Allocate(uint64_t now = 0) {
    REQUIRE(client.Start(now).ok());
    auto first = Server::Read(One());
    CHECK(first.Is(stun::Method::kAllocate, stun::Class::kRequest));
    CHECK_FALSE(first.hadMessageIntegrity);
    CHECK(client.HandleIncoming(server.Challenge(first, 401), now));
    auto raw = One();
    server.ExpectAuthenticated(raw);
    CHECK(client.HandleIncoming(server.AllocateOk(Server::Read(raw)), now));
    REQUIRE(client.state() == TurnState::kAllocated);
  }

  Server server;
  TurnClient client;
  net::Address relayed, mapped;
  std::vector<std::pair<net::Address, std::string>> received;
  std::vector<Status> errors;
  bool closed = false;
};

}  // namespace

TEST_CASE("TURN client: Allocate answers the 401 challenge with long-term credentials") {
  Harness h;
  h.Allocate();
  CHECK(h.relayed == h.server.relayed);
  CHECK(h.mapped == h.server.mapped);
  CHECK(h.client.grantedLifetimeSec() == 600);
  CHECK(h.errors.empty());
}

TEST_CASE("TURN client: the Allocate asks for a UDP relay and the configured lifetime") {
  Harness h;
  REQUIRE(h.client.Start(0).ok());
  auto m = Server::Read(h.One());
  CHECK(m.GetRequestedTransport() == stun::kTransportUdp);
  CHECK(m.GetU32(attr::kLifetime) == 600u);
  CHECK(m.hadFingerprint);
}

TEST_CASE("TURN client: a 401 after credentials were sent is ERR_TURN_AUTH") {
  Harness h;
  REQUIRE(h.client.Start(0).ok());
  auto first = Server::Read(h.One());
  h.client.HandleIncoming(h.server.Challenge(first, 401), 0);
  auto second = Server::Read(h.One());
  h.client.HandleIncoming(h.server.Challenge(second, 401), 0);
  CHECK(h.client.state() == TurnState::kFailed);
  REQUIRE(h.errors.size() == 1);
  CHECK(h.errors[0].code() == "ERR_TURN_AUTH");
  CHECK(h.client.TakeOutgoing().empty());
}

TEST_CASE("TURN client: 438 stale nonce is retried with the new nonce, a bounded number of times") {
  Harness h;
  REQUIRE(h.client.Start(0).ok());
  h.client.HandleIncoming(h.server.Challenge(Server::Read(h.One()), 401), 0);
  for (int i = 0; i < 3; ++i) {
    auto req = Server::Read(h.One());
    h.server.nonce = "nonce-" + std::to_string(i + 2);
    h.client.HandleIncoming(h.server.Challenge(req, 438), 0);
  }
  auto raw = h.One();
  h.server.ExpectAuthenticated(raw);  // carries nonce-4
  CHECK(h.client.counters().staleNonces == 3);
  // A fourth stale nonce in a row is an error, not a loop.
  h.client.HandleIncoming(h.server.Challenge(Server::Read(raw), 438), 0);
  CHECK(h.client.state() == TurnState::kFailed);
  REQUIRE(h.errors.size() == 1);
  CHECK(h.errors[0].code() == "ERR_TURN_ALLOCATION");
}

TEST_CASE("TURN client: an Allocate error is ERR_TURN_ALLOCATION with the code") {
  Harness h;
  REQUIRE(h.client.Start(0).ok());
  h.client.HandleIncoming(h.server.Challenge(Server::Read(h.One()), 401), 0);
  auto req = Server::Read(h.One());
  h.client.HandleIncoming(
      Ok(stun::Serialize(stun::ErrorResponse(req.method, req.transactionId, 486))), 0);
  REQUIRE(h.errors.size() == 1);
  CHECK(h.errors[0].code() == "ERR_TURN_ALLOCATION");
  CHECK(h.errors[0].message().find("486") != std::string::npos);
}

TEST_CASE("TURN client: a success with a wrong MESSAGE-INTEGRITY is dropped") {
  Harness h;
  REQUIRE(h.client.Start(0).ok());
  h.client.HandleIncoming(h.server.Challenge(Server::Read(h.One()), 401), 0);
  auto req = Server::Read(h.One());
  Server forger;
  forger.key = stun::LongTermKey(kUser, kRealm, "guess");
  CHECK(h.client.HandleIncoming(forger.AllocateOk(req), 0));
  CHECK(h.client.state() == TurnState::kAllocating);
  CHECK(h.client.HandleIncoming(h.server.AllocateOk(req), 0));
  CHECK(h.client.state() == TurnState::kAllocated);
}

TEST_CASE("TURN client: over UDP requests are retransmitted with a doubling RTO, then time out") {
  Harness h;
  REQUIRE(h.client.Start(0).ok());
  const auto first = h.One();
  std::vector<uint64_t> sentAt;
  for (uint64_t t = 1; t <= 40000 && h.client.state() == TurnState::kAllocating; t += 1) {
    auto next = h.client.NextTickMs();
    REQUIRE(next);
    t = std::max(t, *next);
    h.client.Tick(t);
    for (const auto& b : h.client.TakeOutgoing()) {
      CHECK(b == first);  // the same bytes, the same transaction
      sentAt.push_back(t);
    }
  }
  CHECK(sentAt == std::vector<uint64_t>{500, 1500, 3500, 7500, 15500, 31500});
  CHECK(h.client.state() == TurnState::kFailed);
  REQUIRE(h.errors.size() == 1);
  CHECK(h.errors[0].code() == "ERR_TURN_TIMEOUT");
}

TEST_CASE("TURN client: a tick 2 s late reads the answer that waited before timing out") {
  // The Allocate's last wait ends at 39.5 s; the loop is starved from 39 s to 41.5 s while
  // the server's answer sits in the socket. The late tick runs before the read (libuv runs
  // timers first after a long callback) and must leave the read a chance.
  auto run = [](TurnTransport transport, uint32_t stallThresholdMs, bool answer) {
    Harness h(transport, true, stallThresholdMs);
    REQUIRE(h.client.Start(0).ok());
    h.client.HandleIncoming(h.server.Challenge(Server::Read(h.One()), 401), 0);
    const auto request = Server::Read(h.One());
    for (uint64_t t = *h.client.NextTickMs(); t < 39500; t = *h.client.NextTickMs()) {
      h.client.Tick(t);  // on time: the retransmissions over UDP
      h.client.TakeOutgoing();
    }
    REQUIRE(h.client.NextTickMs() == uint64_t{39500});
    h.client.Tick(41500);
    if (answer) h.client.HandleIncoming(h.server.AllocateOk(request), 41500);
    if (h.client.state() == TurnState::kAllocating) {
      REQUIRE(h.client.NextTickMs());
      CHECK(*h.client.NextTickMs() > 41500);  // after the read, not in the same timer pass
      h.client.Tick(*h.client.NextTickMs());
    }
    return h.client.state();
  };
  for (TurnTransport transport : {TurnTransport::kUdp, TurnTransport::kTcp}) {
    CAPTURE(static_cast<int>(transport));
    CHECK(run(transport, 500, true) == TurnState::kAllocated);
    CHECK(run(transport, 500, false) == TurnState::kFailed);  // no answer: the next tick ends it
    CHECK(run(transport, UINT32_MAX, true) == TurnState::kFailed);  // the stall unrecognised
  }
}

TEST_CASE("TURN client: over TCP there are no retransmissions, only a timeout") {
  Harness h(TurnTransport::kTcp);
  REQUIRE(h.client.Start(0).ok());
  h.One();
  CHECK(h.client.NextTickMs() == uint64_t{39500});
  h.client.Tick(39499);
  CHECK(h.client.TakeOutgoing().empty());
  CHECK(h.client.state() == TurnState::kAllocating);
  h.client.Tick(39500);
  CHECK(h.client.TakeOutgoing().empty());
  REQUIRE(h.errors.size() == 1);
  CHECK(h.errors[0].code() == "ERR_TURN_TIMEOUT");
}

TEST_CASE("TURN client: the allocation is refreshed 30 s before its lifetime ends") {
  Harness h;
  h.Allocate();
  CHECK(h.client.NextTickMs() == uint64_t{570000});
  h.client.Tick(569999);
  CHECK(h.client.TakeOutgoing().empty());
  h.client.Tick(570000);
  auto raw = h.One();
  h.server.ExpectAuthenticated(raw);
  auto req = Server::Read(raw);
  CHECK(req.Is(stun::Method::kRefresh, stun::Class::kRequest));
  CHECK(req.GetU32(attr::kLifetime) == 600u);
  h.client.HandleIncoming(h.server.Ok200(req), 570010);
  CHECK(h.client.counters().refreshes == 1);
  CHECK(h.client.NextTickMs() == uint64_t{570010 + 570000});
  // Allocate twice (challenge, then credentials) and the refresh, each answered once.
  CHECK(h.client.counters().requestsSent == 3);
  CHECK(h.client.counters().responsesReceived == 3);
  CHECK(h.client.counters().rttSamples == 3);
  CHECK(h.client.counters().lastRttMs == 10);
  CHECK(h.client.counters().totalRttMs == 10);
}

TEST_CASE("TURN client: a refresh that meets a stale nonce is sent again with the new one") {
  Harness h;
  h.Allocate();
  h.client.Tick(570000);
  h.server.nonce = "nonce-2";
  h.client.HandleIncoming(h.server.Challenge(Server::Read(h.One()), 438), 570000);
  auto raw = h.One();
  h.server.ExpectAuthenticated(raw);
  h.client.HandleIncoming(h.server.Ok200(Server::Read(raw)), 570000);
  CHECK(h.client.counters().refreshes == 1);
  CHECK(h.client.state() == TurnState::kAllocated);
}

TEST_CASE("TURN client: a refused refresh (437) fails the allocation") {
  Harness h;
  h.Allocate();
  h.client.Tick(570000);
  auto req = Server::Read(h.One());
  h.client.HandleIncoming(h.server.Signed(stun::ErrorResponse(req.method, req.transactionId, 437)),
                          570000);
  CHECK(h.client.state() == TurnState::kFailed);
  REQUIRE(h.errors.size() == 1);
  CHECK(h.errors[0].code() == "ERR_TURN_ALLOCATION");
}

TEST_CASE("TURN client: permission and channel, data queued, Send indication then ChannelData") {
  Harness h;
  const auto peer = Addr("127.0.0.1", 7000);
  // Asked before the allocation exists: the requests wait for it, and so does the data.
  REQUIRE(h.client.AddPermission(peer, 0).ok());
  REQUIRE(h.client.SendTo(peer, Bytes("early"), 0).ok());
  CHECK(h.client.TakeOutgoing().empty());
  REQUIRE(h.client.Start(0).ok());
  h.client.HandleIncoming(h.server.Challenge(Server::Read(h.One()), 401), 0);
  h.client.HandleIncoming(h.server.AllocateOk(Server::Read(h.One())), 0);
  auto out = h.client.TakeOutgoing();
  REQUIRE(out.size() == 2);
  auto perm = Server::Read(out[0]);
  auto bind = Server::Read(out[1]);
  h.server.ExpectAuthenticated(out[0]);
  h.server.ExpectAuthenticated(out[1]);
  REQUIRE(perm.Is(stun::Method::kCreatePermission, stun::Class::kRequest));
  CHECK(perm.GetXorAddress(attr::kXorPeerAddress) == peer);
  REQUIRE(bind.Is(stun::Method::kChannelBind, stun::Class::kRequest));
  CHECK(bind.GetChannelNumber() == uint16_t{0x4000});
  CHECK(bind.GetXorAddress(attr::kXorPeerAddress) == peer);

  // The permission lets the queued data go, as a Send indication (no channel yet).
  h.client.HandleIncoming(h.server.Ok200(perm), 100);
  CHECK(h.client.HasPermission(peer));
  auto sent = Server::Read(h.One());
  REQUIRE(sent.Is(stun::Method::kSend, stun::Class::kIndication));
  CHECK(sent.GetXorAddress(attr::kXorPeerAddress) == peer);
  CHECK(sent.GetBytes(attr::kData).has_value());
  CHECK(Bytes("early") == std::vector<uint8_t>(sent.GetBytes(attr::kData)->data,
                                               sent.GetBytes(attr::kData)->data + 5));

  // Once bound, data goes in ChannelData (unpadded over UDP).
  h.client.HandleIncoming(h.server.Ok200(bind), 100);
  CHECK(h.client.ChannelFor(peer) == uint16_t{0x4000});
  REQUIRE(h.client.SendTo(peer, Bytes("hi!"), 200).ok());
  auto cd = h.One();
  CHECK(cd.size() == 4 + 3);
  auto parsed = Ok(stun::ParseChannelData(cd));
  CHECK(parsed.channel == 0x4000);
  CHECK(h.client.counters().sendIndications == 1);
  CHECK(h.client.counters().channelDataSent == 1);

  // The permission is refreshed at 240 s and the channel at 540 s.
  h.client.Tick(100 + 239999);
  CHECK(h.client.TakeOutgoing().empty());
  h.client.Tick(100 + 240000);
  auto again = Server::Read(h.One());
  CHECK(again.Is(stun::Method::kCreatePermission, stun::Class::kRequest));
  h.client.HandleIncoming(h.server.Ok200(again), 240200);
  CHECK(h.client.counters().permissionRefreshes == 1);
  h.client.Tick(100 + 540000);
  auto due = h.client.TakeOutgoing();  // the permission's second refresh (480.2 s) and the bind
  REQUIRE(due.size() == 2);
  auto rebind = Server::Read(due[1]);
  CHECK(Server::Read(due[0]).Is(stun::Method::kCreatePermission, stun::Class::kRequest));
  CHECK(rebind.Is(stun::Method::kChannelBind, stun::Class::kRequest));
  CHECK(rebind.GetChannelNumber() == uint16_t{0x4000});
}

TEST_CASE("TURN client: ChannelData over TCP is padded to 4") {
  Harness h(TurnTransport::kTcp);
  const auto peer = Addr("127.0.0.1", 7000);
  h.Allocate();
  REQUIRE(h.client.AddPermission(peer, 0).ok());
  auto out = h.client.TakeOutgoing();
  REQUIRE(out.size() == 2);
  h.client.HandleIncoming(h.server.Ok200(Server::Read(out[0])), 0);
  h.client.HandleIncoming(h.server.Ok200(Server::Read(out[1])), 0);
  REQUIRE(h.client.SendTo(peer, Bytes("hi!"), 0).ok());
  CHECK(h.One().size() == 8);
}

TEST_CASE("TURN client: data from peers arrives from Data indications and ChannelData") {
  Harness h;
  const auto peer = Addr("127.0.0.1", 7000);
  h.Allocate();
  REQUIRE(h.client.AddPermission(peer, 0).ok());
  auto out = h.client.TakeOutgoing();
  REQUIRE(out.size() == 2);
  h.client.HandleIncoming(h.server.Ok200(Server::Read(out[0])), 0);

  stun::Message data(stun::Method::kData, stun::Class::kIndication, stun::TransactionId{});
  data.AddXorAddress(attr::kXorPeerAddress, peer).AddBytes(attr::kData, Bytes("via indication"));
  CHECK(h.client.HandleIncoming(Ok(stun::Serialize(data)), 0));
  // ChannelData on a channel we never asked for is dropped; on ours it is delivered even
  // before the bind's answer arrives (that answer may be lost while the server uses it).
  CHECK_FALSE(
      h.client.HandleIncoming(Ok(stun::SerializeChannelData(0x4001, Bytes("unknown"), false)), 0));
  auto cd = Ok(stun::SerializeChannelData(0x4000, Bytes("via channel"), false));
  CHECK(h.client.HandleIncoming(cd, 0));
  REQUIRE(h.received.size() == 2);
  CHECK(h.received[0].first == peer);
  CHECK(h.received[0].second == "via indication");
  CHECK(h.received[1].first == peer);
  CHECK(h.received[1].second == "via channel");
}

TEST_CASE("TURN client: a refused permission is reported per peer and the allocation stays") {
  Harness h(TurnTransport::kUdp, false);
  const auto peer = Addr("127.0.0.1", 7000);
  h.Allocate();
  REQUIRE(h.client.SendTo(peer, Bytes("x"), 0).ok());
  auto req = Server::Read(h.One());
  h.client.HandleIncoming(h.server.Signed(stun::ErrorResponse(req.method, req.transactionId, 403)),
                          0);
  REQUIRE(h.errors.size() == 1);
  CHECK(h.errors[0].code() == "ERR_TURN_PERMISSION");
  CHECK(h.client.state() == TurnState::kAllocated);
  CHECK(h.client.TakeOutgoing().empty());  // the queued data was dropped
  CHECK_FALSE(h.client.HasPermission(peer));
}

TEST_CASE("TURN client: queued data per peer is bounded") {
  Harness h;
  const auto peer = Addr("127.0.0.1", 7000);
  for (int i = 0; i < 16; ++i) REQUIRE(h.client.SendTo(peer, Bytes("x"), 0).ok());
  auto s = h.client.SendTo(peer, Bytes("x"), 0);
  CHECK(s.code() == "ERR_TURN_QUEUE_FULL");
}

TEST_CASE("TURN client: Close deletes the allocation with a zero-lifetime Refresh") {
  Harness h;
  h.Allocate();
  h.client.Close(1000);
  CHECK(h.client.state() == TurnState::kDeallocating);
  auto raw = h.One();
  h.server.ExpectAuthenticated(raw);
  auto req = Server::Read(raw);
  CHECK(req.Is(stun::Method::kRefresh, stun::Class::kRequest));
  CHECK(req.GetU32(attr::kLifetime) == 0u);
  CHECK_FALSE(h.closed);
  h.client.HandleIncoming(h.server.Ok200(req), 1010);
  CHECK(h.closed);
  CHECK(h.client.counters().deallocations == 1);
  CHECK(h.client.state() == TurnState::kClosed);
  CHECK(h.client.AddPermission(Addr("127.0.0.1", 1), 1020).code() == "ERR_INVALID_STATE");
}

TEST_CASE("TURN client: Close before any allocation closes at once") {
  Harness h;
  REQUIRE(h.client.Start(0).ok());
  h.One();
  h.client.Close(10);
  CHECK(h.closed);
  CHECK(h.client.TakeOutgoing().empty());
  CHECK_FALSE(h.client.NextTickMs());
}

TEST_CASE("TURN client: junk, stray answers and truncated input are dropped") {
  Harness h;
  h.Allocate();
  CHECK_FALSE(h.client.HandleIncoming(Bytes("not stun at all"), 0));
  CHECK_FALSE(h.client.HandleIncoming(ByteSpan(), 0));
  // A Data indication whose FINGERPRINT does not match is dropped.
  stun::Message data(stun::Method::kData, stun::Class::kIndication, stun::TransactionId{});
  data.AddXorAddress(attr::kXorPeerAddress, Addr("127.0.0.1", 9)).AddBytes(attr::kData, Bytes("x"));
  auto damaged = Ok(stun::Serialize(data, {false, false, {}, true}));
  damaged[damaged.size() - 1] ^= 1;
  CHECK_FALSE(h.client.HandleIncoming(damaged, 0));
  stun::Message stray(stun::Method::kRefresh, stun::Class::kSuccessResponse,
                      stun::testing::Tid("ff ff ff ff ff ff ff ff ff ff ff ff"));
  CHECK_FALSE(h.client.HandleIncoming(h.server.Signed(stray), 0));
  auto cd = Ok(stun::SerializeChannelData(0x4000, Bytes("abcdef"), false));
  for (size_t n = 0; n < cd.size(); ++n) {
    CHECK_FALSE(h.client.HandleIncoming(ByteSpan(cd.data(), n), 0));
  }
  CHECK(h.client.state() == TurnState::kAllocated);
  CHECK(h.received.empty());
}

TEST_CASE("TURN client: a 401 with a new nonce on a later request is answered like a 438") {
  Harness h;
  h.Allocate();
  h.client.Tick(570000);
  h.server.nonce = "nonce-after-401";
  h.client.HandleIncoming(h.server.Challenge(Server::Read(h.One()), 401), 570000);
  auto raw = h.One();
  h.server.ExpectAuthenticated(raw);
  h.client.HandleIncoming(h.server.Ok200(Server::Read(raw)), 570000);
  CHECK(h.client.counters().refreshes == 1);
  // A 401 that repeats the nonce we used means the credentials are wrong.
  h.client.Tick(2 * 570000);
  h.client.HandleIncoming(h.server.Challenge(Server::Read(h.One()), 401), 2 * 570000);
  CHECK(h.client.state() == TurnState::kFailed);
  REQUIRE(h.errors.size() == 1);
  CHECK(h.errors[0].code() == "ERR_TURN_AUTH");
}

TEST_CASE("TURN client: an answer to a retransmitted request gives no RTT sample") {
  Harness h;
  REQUIRE(h.client.Start(0).ok());
  auto first = Server::Read(h.One());
  h.client.Tick(500);
  CHECK(h.client.TakeOutgoing().size() == 1);
  h.client.HandleIncoming(h.server.Challenge(first, 401), 700);
  CHECK(h.client.counters().responsesReceived == 1);
  CHECK(h.client.counters().rttSamples == 0);
  CHECK(h.client.counters().retransmissions == 1);
}

TEST_CASE("TURN client: mutated server messages never crash it or end the allocation") {
  Harness h;
  const auto peer = Addr("127.0.0.1", 7000);
  h.Allocate();
  REQUIRE(h.client.AddPermission(peer, 0).ok());
  auto out = h.client.TakeOutgoing();
  REQUIRE(out.size() == 2);
  h.client.HandleIncoming(h.server.Ok200(Server::Read(out[0])), 0);
  h.client.HandleIncoming(h.server.Ok200(Server::Read(out[1])), 0);
  stun::Message data(stun::Method::kData, stun::Class::kIndication, stun::TransactionId{});
  data.AddXorAddress(attr::kXorPeerAddress, peer).AddBytes(attr::kData, Bytes("payload"));
  stun::Message answer(stun::Method::kRefresh, stun::Class::kErrorResponse, stun::TransactionId{});
  answer.AddErrorCode(438, "Stale Nonce").AddText(attr::kNonce, "n");
  const std::vector<std::vector<uint8_t>> seeds = {
      Ok(stun::Serialize(data)), h.server.Signed(answer),
      Ok(stun::SerializeChannelData(0x4000, Bytes("payload"), true))};
  uint32_t x = 12345;  // xorshift: reproducible
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> m = seeds[i % seeds.size()];
    const int flips = 1 + static_cast<int>(next() % 4);
    for (int f = 0; f < flips; ++f) m[next() % m.size()] ^= static_cast<uint8_t>(1 + next() % 255);
    if (next() % 4 == 0) m.resize(next() % (m.size() + 1));
    h.client.HandleIncoming(m, 10);
  }
  CHECK(h.client.state() == TurnState::kAllocated);
  CHECK(h.errors.empty());
  CHECK(h.client.TakeOutgoing().empty());  // nothing made it answer or retry
}
