#include <doctest/doctest.h>

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ice/ice_agent.h"
#include "net/sockaddr.h"
#include "stun/stun_codec.h"

using kvs::ice::Candidate;
using kvs::ice::CandidateType;
using kvs::ice::IceAgent;
using kvs::ice::IceAgentConfig;
using kvs::ice::IceCredentials;
using kvs::ice::IceRole;
using kvs::ice::IceState;
using kvs::net::Address;

namespace {

// Deterministic randomness per agent, so failures reproduce.
kvs::ice::RandomSource Seeded(uint32_t seed) {
  return [state = seed](uint8_t* out, size_t n) mutable {
    for (size_t i = 0; i < n; ++i) {
      state = state * 1664525u + 1013904223u;
      out[i] = static_cast<uint8_t>(state >> 24);
    }
  };
}

Candidate Host(const std::string& ip, uint16_t port, int socketId, uint16_t localPref = 65535) {
  Candidate c;
  c.type = CandidateType::kHost;
  c.address = *Address::Parse(ip, port);
  c.base = c.address;
  c.priority = kvs::ice::ComputePriority(CandidateType::kHost, localPref);
  c.foundation = kvs::ice::ComputeFoundation(CandidateType::kHost, c.base, "",
                                             kvs::ice::TransportProtocol::kUdp);
  c.socketId = socketId;
  return c;
}

// Two agents joined by an in-memory network of their host candidates. Each socket id maps
// to one local address; packets to an address reach the agent that owns it.
struct Net {
  IceAgent* a;
  IceAgent* b;
  std::map<int, Address> aSockets, bSockets;
  uint64_t now = 1000;
  bool drop = false;
  int delivered = 0;

  void Deliver(IceAgent& from, const std::map<int, Address>& fromSockets, IceAgent& to,
               const std::map<int, Address>& toSockets) {
    for (auto& p : from.TakeOutgoing()) {
      if (drop) continue;
      for (const auto& [id, addr] : toSockets) {
        if (addr == p.to) {
          ++delivered;
          to.HandleStun(id, fromSockets.at(p.socketId), kvs::ByteSpan(p.bytes), now);
        }
      }
    }
  }
  // Advances time in 10 ms steps, delivering everything each step.
  void Run(uint64_t ms) {
    for (uint64_t t = 0; t < ms; t += 10) {
      now += 10;
      a->Tick(now);
      b->Tick(now);
      Deliver(*a, aSockets, *b, bSockets);
      Deliver(*b, bSockets, *a, aSockets);
    }
  }
};

// One host candidate each (10.0.0.1:5000 and 10.0.0.2:6000), credentials and candidates
// exchanged both ways, as signaling would.
void Link(IceAgent& a, IceAgent& b, const Net& net) {
  a.AddLocalCandidate(Host("10.0.0.1", 5000, 0));
  b.AddLocalCandidate(Host("10.0.0.2", 6000, 0));
  a.SetRemoteCredentials(b.localCredentials(), net.now);
  b.SetRemoteCredentials(a.localCredentials(), net.now);
  REQUIRE(a.AddRemoteCandidate(b.localCandidates()[0], net.now).ok());
  REQUIRE(b.AddRemoteCandidate(a.localCandidates()[0], net.now).ok());
}

IceAgentConfig Config(IceRole role, const std::string& ufrag, const std::string& pwd) {
  IceAgentConfig c;
  c.role = role;
  c.local = {ufrag, pwd};
  return c;
}

}  // namespace

TEST_CASE("two agents connect over host candidates and agree on the pair") {
  IceAgent a(Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass"), Seeded(1));
  IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(2));
  Net net{
      &a, &b, {{0, *Address::Parse("10.0.0.1", 5000)}}, {{0, *Address::Parse("10.0.0.2", 6000)}}};
  std::vector<IceState> aStates;
  a.onStateChange = [&](IceState s) { aStates.push_back(s); };
  Link(a, b, net);
  net.Run(500);
  REQUIRE(a.state() == IceState::kConnected);
  REQUIRE(b.state() == IceState::kConnected);
  CHECK(aStates == std::vector<IceState>{IceState::kChecking, IceState::kConnected});
  CHECK(a.route()->remote == *Address::Parse("10.0.0.2", 6000));
  CHECK(b.route()->remote == *Address::Parse("10.0.0.1", 5000));
  const auto* pair = a.selectedPair();
  REQUIRE(pair != nullptr);
  CHECK(pair->nominated);
  CHECK(pair->stats.responsesReceived >= 2);  // the ordinary check and the nomination
  CHECK(pair->stats.roundTripTimeMeasurements >= 1);
}

TEST_CASE("a peer that learns no candidate connects through a peer-reflexive one") {
  IceAgent a(Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass"), Seeded(3));
  IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(4));
  Net net{
      &a, &b, {{0, *Address::Parse("10.0.0.1", 5000)}}, {{0, *Address::Parse("10.0.0.2", 6000)}}};
  a.AddLocalCandidate(Host("10.0.0.1", 5000, 0));
  b.AddLocalCandidate(Host("10.0.0.2", 6000, 0));
  a.SetRemoteCredentials(b.localCredentials(), net.now);
  b.SetRemoteCredentials(a.localCredentials(), net.now);
  REQUIRE(a.AddRemoteCandidate(b.localCandidates()[0], net.now).ok());  // b learns nothing
  net.Run(500);
  REQUIRE(a.state() == IceState::kConnected);
  REQUIRE(b.state() == IceState::kConnected);
  REQUIRE(b.remoteCandidates().size() == 1);
  CHECK(b.remoteCandidates()[0].type == CandidateType::kPeerReflexive);
}

TEST_CASE("two controlling agents resolve the role conflict and connect") {
  IceAgent a(Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass"), Seeded(5));
  IceAgent b(Config(IceRole::kControlling, "bbbb", "bpasswordbpasswordbpass"), Seeded(6));
  Net net{
      &a, &b, {{0, *Address::Parse("10.0.0.1", 5000)}}, {{0, *Address::Parse("10.0.0.2", 6000)}}};
  Link(a, b, net);
  net.Run(1000);
  CHECK(a.role() != b.role());
  CHECK(a.state() == IceState::kConnected);
  CHECK(b.state() == IceState::kConnected);
}

TEST_CASE("a wrong password never connects and fails at the check timeout") {
  IceAgent a(Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass"), Seeded(7));
  IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(8));
  Net net{
      &a, &b, {{0, *Address::Parse("10.0.0.1", 5000)}}, {{0, *Address::Parse("10.0.0.2", 6000)}}};
  a.AddLocalCandidate(Host("10.0.0.1", 5000, 0));
  b.AddLocalCandidate(Host("10.0.0.2", 6000, 0));
  a.SetRemoteCredentials({"bbbb", "not-the-password-at-all!"}, net.now);
  b.SetRemoteCredentials({"aaaa", "not-the-password-at-all!"}, net.now);
  REQUIRE(a.AddRemoteCandidate(b.localCandidates()[0], net.now).ok());
  REQUIRE(b.AddRemoteCandidate(a.localCandidates()[0], net.now).ok());
  net.Run(3000);
  CHECK(a.state() == IceState::kChecking);
  CHECK(a.route() == std::nullopt);
  net.Run(10000);  // past the 12 s connection-check timeout
  CHECK(a.state() == IceState::kFailed);
  CHECK(b.state() == IceState::kFailed);
}

TEST_CASE("checks are paced and the best pair wins among several") {
  IceAgent a(Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass"), Seeded(9));
  IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(10));
  Net net{&a,
          &b,
          {{0, *Address::Parse("10.0.0.1", 5000)}, {1, *Address::Parse("10.0.1.1", 5001)}},
          {{0, *Address::Parse("10.0.0.2", 6000)}}};
  a.AddLocalCandidate(Host("10.0.0.1", 5000, 0, 100));    // worse
  a.AddLocalCandidate(Host("10.0.1.1", 5001, 1, 60000));  // better
  b.AddLocalCandidate(Host("10.0.0.2", 6000, 0));
  a.SetRemoteCredentials(b.localCredentials(), net.now);
  b.SetRemoteCredentials(a.localCredentials(), net.now);
  REQUIRE(a.AddRemoteCandidate(b.localCandidates()[0], net.now).ok());
  for (const auto& c : a.localCandidates()) REQUIRE(b.AddRemoteCandidate(c, net.now).ok());
  a.Tick(net.now);
  CHECK(a.TakeOutgoing().size() == 1);  // one check per 50 ms interval, not a burst
  net.Run(800);
  REQUIRE(a.state() == IceState::kConnected);
  CHECK(a.route()->socketId == 1);
}

TEST_CASE("consent: silence makes the connection disconnected, then failed") {
  IceAgent a(Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass"), Seeded(11));
  IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(12));
  Net net{
      &a, &b, {{0, *Address::Parse("10.0.0.1", 5000)}}, {{0, *Address::Parse("10.0.0.2", 6000)}}};
  Link(a, b, net);
  net.Run(500);
  REQUIRE(a.state() == IceState::kConnected);
  net.Run(20000);  // consent checks keep it alive
  CHECK(a.state() == IceState::kConnected);
  CHECK(a.selectedPair()->stats.consentRequestsSent >= 3);
  net.drop = true;
  net.Run(31000);
  CHECK(a.state() == IceState::kDisconnected);
  net.drop = false;  // consent returns
  net.Run(6000);
  CHECK(a.state() == IceState::kConnected);
  net.drop = true;
  net.Run(46000);
  CHECK(a.state() == IceState::kFailed);
}

TEST_CASE("disconnected: the peer's traffic counts, so a timeout below the consent period holds") {
  // 3 s: shorter than the 4-6 s between consent checks. Before traffic counted, a connection
  // carrying media went disconnected 3 s after each consent response.
  IceAgentConfig ca = Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass");
  IceAgentConfig cb = Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass");
  for (auto* c : {&ca, &cb}) {
    c->disconnectedTimeoutMs = 3000;
    c->failedTimeoutMs = 10000;
  }
  IceAgent a(ca, Seeded(31));
  IceAgent b(cb, Seeded(32));
  Net net{
      &a, &b, {{0, *Address::Parse("10.0.0.1", 5000)}}, {{0, *Address::Parse("10.0.0.2", 6000)}}};
  Link(a, b, net);
  net.Run(500);
  REQUIRE(a.state() == IceState::kConnected);
  std::vector<IceState> states;
  a.onStateChange = [&](IceState s) { states.push_back(s); };
  const Address peer = *Address::Parse("10.0.0.2", 6000);
  // Media (or RTCP) from the peer every 100 ms for 20 s: several consent periods.
  for (int i = 0; i < 200; ++i) {
    a.NoteDataReceived(0, peer, 100, net.now);
    net.Run(100);
  }
  CHECK(a.state() == IceState::kConnected);
  CHECK(states.empty());
  CHECK(a.selectedPair()->stats.consentRequestsSent >= 3);
  // The peer goes silent, consent responses and all: disconnected after the 3 s.
  net.drop = true;
  net.Run(3500);
  CHECK(a.state() == IceState::kDisconnected);
  // Its traffic again: connected at once.
  a.NoteDataReceived(0, peer, 100, net.now);
  CHECK(a.state() == IceState::kConnected);
  // Traffic from an address that is not the selected pair's proves nothing.
  net.Run(3200);
  REQUIRE(a.state() == IceState::kDisconnected);
  a.NoteDataReceived(0, *Address::Parse("10.0.0.9", 6000), 100, net.now);
  CHECK(a.state() == IceState::kDisconnected);
  // Failed stays on consent alone: 3 + 10 s without a consent response (the last one came
  // at most 6 s before the silence, so it is not yet failed above).
  net.Run(7000);
  CHECK(a.state() == IceState::kFailed);
  CHECK(states == std::vector<IceState>{IceState::kDisconnected, IceState::kConnected,
                                        IceState::kDisconnected, IceState::kFailed});
}

TEST_CASE("an ICE restart on both sides reconnects with new credentials") {
  IceAgent a(Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass"), Seeded(13));
  IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(14));
  Net net{
      &a, &b, {{0, *Address::Parse("10.0.0.1", 5000)}}, {{0, *Address::Parse("10.0.0.2", 6000)}}};
  Link(a, b, net);
  net.Run(500);
  REQUIRE(a.state() == IceState::kConnected);

  a.Restart({"aaa2", "apassword2apassword2apa"});
  CHECK(a.state() == IceState::kChecking);
  // The new offer reaches b, which answers with new credentials of its own.
  b.Restart({"bbb2", "bpassword2bpassword2bpa"});
  b.SetRemoteCredentials(a.localCredentials(), net.now);
  a.SetRemoteCredentials(b.localCredentials(), net.now);
  REQUIRE(a.AddRemoteCandidate(b.localCandidates()[0], net.now).ok());
  REQUIRE(b.AddRemoteCandidate(a.localCandidates()[0], net.now).ok());
  net.Run(500);
  CHECK(a.state() == IceState::kConnected);
  CHECK(b.state() == IceState::kConnected);
}

TEST_CASE("garbage and unknown STUN are ignored without effect") {
  IceAgent a(Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass"), Seeded(15));
  a.AddLocalCandidate(Host("10.0.0.1", 5000, 0));
  std::vector<uint8_t> junk(64, 0);
  CHECK_FALSE(a.HandleStun(0, *Address::Parse("10.9.9.9", 1), kvs::ByteSpan(junk), 1));
  kvs::stun::Message stray(kvs::stun::Method::kBinding, kvs::stun::Class::kSuccessResponse, {});
  auto bytes = kvs::stun::Serialize(stray);
  REQUIRE(bytes.ok());
  a.HandleStun(0, *Address::Parse("10.9.9.9", 1), kvs::ByteSpan(bytes.value()), 1);
  CHECK(a.state() == IceState::kNew);
  CHECK(a.TakeOutgoing().empty());
}

TEST_CASE("loopback candidates pair only with loopback candidates") {
  IceAgent a(Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass"), Seeded(16));
  a.AddLocalCandidate(Host("127.0.0.1", 5000, 0));
  a.AddLocalCandidate(Host("10.0.0.1", 5001, 1));
  a.SetRemoteCredentials({"bbbb", "bpasswordbpasswordbpass"}, 1);
  REQUIRE(a.AddRemoteCandidate(Host("192.0.2.2", 6000, -1), 1).ok());
  REQUIRE(a.AddRemoteCandidate(Host("127.0.0.1", 6001, -1), 1).ok());
  REQUIRE(a.pairs().size() == 2);
  for (const auto& p : a.pairs()) {
    CHECK(kvs::net::IsLoopback(a.localCandidates()[static_cast<size_t>(p.localIndex)].address) ==
          kvs::net::IsLoopback(a.remoteCandidates()[static_cast<size_t>(p.remoteIndex)].address));
  }
  // A check from a non-loopback source on the loopback socket gets no answer at all.
  IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(17));
  b.AddLocalCandidate(Host("192.0.2.2", 6000, 0));
  b.SetRemoteCredentials(a.localCredentials(), 1);
  REQUIRE(b.AddRemoteCandidate(a.localCandidates()[1], 1).ok());
  b.Tick(100);
  auto checks = b.TakeOutgoing();
  REQUIRE(checks.size() == 1);
  a.HandleStun(0, *Address::Parse("192.0.2.2", 6000), kvs::ByteSpan(checks[0].bytes), 100);
  CHECK(a.TakeOutgoing().empty());
}

TEST_CASE("after a restart, a peer that learns the other only as peer-reflexive reconnects") {
  IceAgent a(Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass"), Seeded(21));
  IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(22));
  Net net{
      &a, &b, {{0, *Address::Parse("10.0.0.1", 5000)}}, {{0, *Address::Parse("10.0.0.2", 6000)}}};
  Link(a, b, net);
  net.Run(500);
  REQUIRE(b.state() == IceState::kConnected);
  a.Restart({"aaa2", "apassword2apassword2apa"});
  b.Restart({"bbb2", "bpassword2bpassword2bpa"});
  b.SetRemoteCredentials(a.localCredentials(), net.now);
  a.SetRemoteCredentials(b.localCredentials(), net.now);
  REQUIRE(a.AddRemoteCandidate(b.localCandidates()[0], net.now).ok());  // b learns nothing
  net.Run(2000);
  CHECK(a.state() == IceState::kConnected);
  CHECK(b.state() == IceState::kConnected);
}

// ---- Timing under a starved loop and through TURN relays ---------------------------------

namespace {

constexpr int kRelaySocket = 1000;

Candidate Relay(const std::string& ip, uint16_t port) {
  Candidate c;
  c.type = CandidateType::kRelay;
  c.address = *Address::Parse(ip, port);
  c.base = c.address;
  c.priority = kvs::ice::ComputePriority(CandidateType::kRelay, 65535);
  c.foundation = kvs::ice::ComputeFoundation(CandidateType::kRelay, c.base, "turn:test",
                                             kvs::ice::TransportProtocol::kUdp);
  c.socketId = kRelaySocket;
  return c;
}

// Two agents on relay candidates, as through TURN. A packet reaches an agent's relay only
// once that agent has sent something to the packet's source (its TURN permission); packets
// take latencyMs; and an agent's loop can be starved: it neither ticks nor reads until
// starvedUntil, while packets queue for it. After a stall the timer runs before the reads,
// as libuv does after a long callback.
struct RelayNet {
  struct Side {
    IceAgent* agent;
    Address address;
    std::set<Address> permitted;
    uint64_t starvedUntil = 0;
    struct InFlight {
      uint64_t arrivesMs;
      Address from;
      std::vector<uint8_t> bytes;
    };
    std::deque<InFlight> inbox;
  };
  Side a, b;
  uint64_t now = 1000;
  uint64_t latencyMs = 5;

  RelayNet(IceAgent& agentA, IceAgent& agentB)
      : a{&agentA, *Address::Parse("198.51.100.1", 50000), {}, 0, {}},
        b{&agentB, *Address::Parse("198.51.100.2", 50002), {}, 0, {}} {
    agentA.AddLocalCandidate(Relay("198.51.100.1", 50000));
    agentB.AddLocalCandidate(Relay("198.51.100.2", 50002));
  }
  static void Send(Side& from, Side& to, uint64_t now, uint64_t latency) {
    for (auto& p : from.agent->TakeOutgoing()) {
      from.permitted.insert(p.to);
      if (p.to != to.address || to.permitted.count(from.address) == 0) continue;
      to.inbox.push_back({now + latency, from.address, std::move(p.bytes)});
    }
  }
  void Step() {
    now += 10;
    for (Side* s : {&a, &b}) {
      if (now < s->starvedUntil) continue;
      s->agent->Tick(now);
      while (!s->inbox.empty() && s->inbox.front().arrivesMs <= now) {
        auto p = std::move(s->inbox.front());
        s->inbox.pop_front();
        s->agent->HandleStun(kRelaySocket, p.from, kvs::ByteSpan(p.bytes), now);
      }
    }
    Send(a, b, now, latencyMs);
    Send(b, a, now, latencyMs);
  }
  void Run(uint64_t ms) {
    for (uint64_t t = 0; t < ms; t += 10) Step();
  }
};

}  // namespace

TEST_CASE("relay pair: checks lost before the peer's permission do not doom the pair") {
  // a learns b's relay at once, b learns a's only 5 s later (slow trickle): until b sends
  // to a, b's TURN server drops every check from a, the last of a's transmissions included.
  // b's first check then reaches a, and a must check again at once (RFC 8445 §7.3.1.4),
  // rather than wait for a transaction that can only time out.
  IceAgent a(Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass"), Seeded(31));
  IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(32));
  RelayNet net(a, b);
  a.SetRemoteCredentials(b.localCredentials(), net.now);
  b.SetRemoteCredentials(a.localCredentials(), net.now);
  REQUIRE(a.AddRemoteCandidate(b.localCandidates()[0], net.now).ok());
  net.Run(5000);
  REQUIRE(a.state() == IceState::kChecking);
  CHECK(a.pairs()[0].stats.requestsSent == 7);  // all lost
  REQUIRE(b.AddRemoteCandidate(a.localCandidates()[0], net.now).ok());
  net.Run(5000);  // still well inside a's 12 s connection-check timeout
  CHECK(a.state() == IceState::kConnected);
  CHECK(b.state() == IceState::kConnected);
}

TEST_CASE("checking, and its timeout, begin when a local relay completes the first pair") {
  // The remote candidate came first and our relay allocation 2 s later: checks can run only
  // from then on, and the connection-check timeout counts from then, not from never.
  IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(33));
  std::vector<IceState> states;
  b.onStateChange = [&](IceState s) { states.push_back(s); };
  uint64_t now = 1000;
  b.SetRemoteCredentials({"aaaa", "apasswordapasswordapass"}, now);
  REQUIRE(b.AddRemoteCandidate(Relay("198.51.100.1", 50000), now).ok());
  for (; now < 3000; now += 10) b.Tick(now);
  CHECK(b.state() == IceState::kNew);
  CHECK(b.TakeOutgoing().empty());
  b.AddLocalCandidate(Relay("198.51.100.2", 50002));
  const uint64_t pairedAt = now;
  b.Tick(now);
  CHECK(b.state() == IceState::kChecking);
  CHECK_FALSE(b.TakeOutgoing().empty());
  for (; now <= pairedAt + 11900; now += 10) b.Tick(now);  // no answers at all
  CHECK(b.state() == IceState::kChecking);
  for (; now <= pairedAt + 12100; now += 10) b.Tick(now);
  CHECK(b.state() == IceState::kFailed);
  CHECK(states == std::vector<IceState>{IceState::kChecking, IceState::kFailed});
}

TEST_CASE("after a local ICE restart, the check timeout counts from the peer's answer") {
  IceAgent a(Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass"), Seeded(34));
  IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(35));
  Net net{
      &a, &b, {{0, *Address::Parse("10.0.0.1", 5000)}}, {{0, *Address::Parse("10.0.0.2", 6000)}}};
  Link(a, b, net);
  net.Run(500);
  REQUIRE(a.state() == IceState::kConnected);
  a.Restart({"aaa2", "apassword2apassword2apa"});
  net.Run(8000);  // the answer takes 8 s through signaling: nothing to check meanwhile
  CHECK(a.state() == IceState::kChecking);
  b.Restart({"bbb2", "bpassword2bpassword2bpa"});
  b.SetRemoteCredentials(a.localCredentials(), net.now);
  a.SetRemoteCredentials(b.localCredentials(), net.now);
  REQUIRE(a.AddRemoteCandidate(b.localCandidates()[0], net.now).ok());
  net.drop = true;  // and then the path is gone: the new checks are never answered
  net.Run(11500);
  CHECK(a.state() == IceState::kChecking);  // 19.5 s after the restart, 11.5 s after the answer
  net.Run(1000);
  CHECK(a.state() == IceState::kFailed);
}

TEST_CASE("after a remote ICE restart, the check timeout counts from the new candidates") {
  IceAgent a(Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass"), Seeded(36));
  IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(37));
  Net net{
      &a, &b, {{0, *Address::Parse("10.0.0.1", 5000)}}, {{0, *Address::Parse("10.0.0.2", 6000)}}};
  Link(a, b, net);
  net.Run(500);
  REQUIRE(b.state() == IceState::kConnected);
  a.Restart({"aaa2", "apassword2apassword2apa"});
  b.SetRemoteCredentials(a.localCredentials(), net.now);  // the offer, without candidates
  net.drop = true;
  net.Run(6000);  // a's candidates trickle in 6 s later
  REQUIRE(b.AddRemoteCandidate(a.localCandidates()[0], net.now).ok());
  net.Run(11500);
  CHECK(b.state() == IceState::kChecking);
  net.Run(1000);
  CHECK(b.state() == IceState::kFailed);
}

TEST_CASE("a loop starved past the check timeout reads what arrived in time before failing") {
  // b's check reaches a 10.9 s into a's checking, in time; a's loop is then starved for 2 s.
  // The first tick after the stall must not fail the connection before a has read it.
  auto run = [](uint32_t stallThresholdMs) {
    auto ca = Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass");
    ca.stallThresholdMs = stallThresholdMs;
    IceAgent a(ca, Seeded(38));
    IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(39));
    RelayNet net(a, b);
    std::vector<IceState> states;
    a.onStateChange = [&](IceState s) { states.push_back(s); };
    a.SetRemoteCredentials(b.localCredentials(), net.now);
    b.SetRemoteCredentials(a.localCredentials(), net.now);
    REQUIRE(a.AddRemoteCandidate(b.localCandidates()[0], net.now).ok());
    net.Run(10900);
    REQUIRE(b.AddRemoteCandidate(a.localCandidates()[0], net.now).ok());
    net.a.starvedUntil = net.now + 2000;
    net.Run(3000);
    CHECK(b.state() ==
          (states.back() == IceState::kConnected ? IceState::kConnected : IceState::kChecking));
    return states;
  };
  CHECK(run(500) == std::vector<IceState>{IceState::kChecking, IceState::kConnected});
  // The same stall, with the stall not recognised: the timeout fires first.
  CHECK(run(UINT32_MAX) == std::vector<IceState>{IceState::kChecking, IceState::kFailed});
}

TEST_CASE("a loop starved for 40 s keeps a connection whose peer still answers") {
  // Consent (RFC 7675) counts the silence the agent could observe: after a stall, it reads
  // the peer's checks and answers before it judges the path.
  auto run = [](uint32_t stallThresholdMs) {
    auto ca = Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass");
    ca.stallThresholdMs = stallThresholdMs;
    IceAgent a(ca, Seeded(40));
    IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(41));
    RelayNet net(a, b);
    std::vector<IceState> states;
    a.onStateChange = [&](IceState s) { states.push_back(s); };
    a.SetRemoteCredentials(b.localCredentials(), net.now);
    b.SetRemoteCredentials(a.localCredentials(), net.now);
    REQUIRE(a.AddRemoteCandidate(b.localCandidates()[0], net.now).ok());
    REQUIRE(b.AddRemoteCandidate(a.localCandidates()[0], net.now).ok());
    net.Run(1000);
    REQUIRE(a.state() == IceState::kConnected);
    net.a.starvedUntil = net.now + 40000;
    net.Run(46000);
    CHECK(a.state() == IceState::kConnected);
    CHECK(b.state() == IceState::kConnected);  // b saw 40 s of silence, then consent again
    return states;
  };
  CHECK(run(500) == std::vector<IceState>{IceState::kChecking, IceState::kConnected});
  // Not recognised as a stall: a reports a disconnection that never was.
  CHECK(run(UINT32_MAX) == std::vector<IceState>{IceState::kChecking, IceState::kConnected,
                                                 IceState::kDisconnected, IceState::kConnected});
}

namespace {

Candidate Tcp(const std::string& ip, uint16_t port, int socketId, kvs::ice::TcpType type) {
  Candidate c;
  c.type = CandidateType::kHost;
  c.transport = kvs::ice::TransportProtocol::kTcp;
  c.tcpType = type;
  c.address = *Address::Parse(ip, port);
  c.base = c.address;
  c.priority =
      kvs::ice::ComputePriority(CandidateType::kHost, kvs::ice::TcpLocalPreference(type, 8190), 1,
                                kvs::ice::TransportProtocol::kTcp);
  c.foundation = "tcp" + std::to_string(socketId);
  c.socketId = socketId;
  return c;
}

}  // namespace

TEST_CASE("ICE-TCP: priorities put UDP first, and active above passive (RFC 6544 §4.2)") {
  using kvs::ice::TcpType;
  const auto udp = Host("10.0.0.1", 5000, 0);
  const auto active = Tcp("10.0.0.1", 9, 1, TcpType::kActive);
  const auto passive = Tcp("10.0.0.1", 6000, 2, TcpType::kPassive);
  CHECK(udp.priority > active.priority);
  CHECK(active.priority > passive.priority);
  CHECK((active.priority >> 24) == 90);  // libwebrtc's host TCP type preference
  CHECK(((active.priority >> 8) & 0xffff) == (6u << 13 | 8190u));
  CHECK(((passive.priority >> 8) & 0xffff) == (4u << 13 | 8190u));
  CHECK(kvs::ice::TypePreference(CandidateType::kPeerReflexive,
                                 kvs::ice::TransportProtocol::kTcp) == 80);
  CHECK(kvs::ice::TypePreference(CandidateType::kPeerReflexive) == 110);
}

TEST_CASE("ICE-TCP: we check from our active candidate to the peer's passive one only") {
  using kvs::ice::TcpType;
  IceAgentConfig cfg;
  cfg.local = {"aaaa", "aaaaaaaaaaaaaaaaaaaaaaaa"};
  IceAgent agent(cfg, Seeded(1));
  agent.AddLocalCandidate(Host("10.0.0.1", 5000, 0));
  agent.AddLocalCandidate(Tcp("10.0.0.1", 9, 1, TcpType::kActive));
  agent.AddLocalCandidate(Tcp("10.0.0.1", 6000, 2, TcpType::kPassive));
  agent.SetRemoteCredentials({"bbbb", "bbbbbbbbbbbbbbbbbbbbbbbb"}, 1000);
  REQUIRE(agent.AddRemoteCandidate(Host("10.0.0.2", 5002, -1), 1000).ok());
  REQUIRE(agent.AddRemoteCandidate(Tcp("10.0.0.2", 9, -1, TcpType::kActive), 1000).ok());
  REQUIRE(agent.AddRemoteCandidate(Tcp("10.0.0.2", 6002, -1, TcpType::kPassive), 1000).ok());
  // UDP-UDP and active-passive; never our passive with anything signalled, never active-active.
  REQUIRE(agent.pairs().size() == 2);
  std::set<std::pair<int, uint16_t>> pairs;
  for (const auto& p : agent.pairs()) {
    pairs.insert({agent.localCandidates()[p.localIndex].socketId,
                  agent.remoteCandidates()[p.remoteIndex].address.port()});
  }
  CHECK(pairs == std::set<std::pair<int, uint16_t>>{{0, 5002}, {1, 6002}});
  // The UDP pair is checked first.
  agent.Tick(1000);
  auto out = agent.TakeOutgoing();
  REQUIRE(out.size() == 1);
  CHECK(out[0].socketId == 0);
  // A TCP candidate with no usable tcptype is skipped with a reason.
  Candidate none = Tcp("10.0.0.2", 7000, -1, TcpType::kNone);
  auto st = agent.AddRemoteCandidate(none, 1000);
  CHECK_FALSE(st.ok());
  CHECK(st.code() == "ERR_ICE_UNSUPPORTED_CANDIDATE");
}

TEST_CASE("ICE-TCP: a check arriving on our passive candidate makes a TCP peer-reflexive pair") {
  using kvs::ice::TcpType;
  IceAgentConfig ca;
  ca.role = IceRole::kControlling;
  ca.local = {"aaaa", "aaaaaaaaaaaaaaaaaaaaaaaa"};
  IceAgentConfig cb;
  cb.role = IceRole::kControlled;
  cb.local = {"bbbb", "bbbbbbbbbbbbbbbbbbbbbbbb"};
  IceAgent a(ca, Seeded(2));
  IceAgent b(cb, Seeded(3));
  // a connects from its active candidate to b's passive one; the connection's source port is
  // an ephemeral one (here 40000), which b learns as peer-reflexive.
  a.AddLocalCandidate(Tcp("10.0.0.1", 9, 1, TcpType::kActive));
  b.AddLocalCandidate(Tcp("10.0.0.2", 6002, 7, TcpType::kPassive));
  a.SetRemoteCredentials(cb.local, 1000);
  b.SetRemoteCredentials(ca.local, 1000);
  REQUIRE(a.AddRemoteCandidate(Tcp("10.0.0.2", 6002, -1, TcpType::kPassive), 1000).ok());
  REQUIRE(b.AddRemoteCandidate(Tcp("10.0.0.1", 9, -1, TcpType::kActive), 1000).ok());
  CHECK(b.pairs().empty());
  const Address aSource = *Address::Parse("10.0.0.1", 40000);
  const Address bPassive = *Address::Parse("10.0.0.2", 6002);
  uint64_t now = 1000;
  for (int round = 0;
       round < 40 && (a.state() != IceState::kConnected || b.state() != IceState::kConnected);
       ++round, now += 10) {
    a.Tick(now);
    b.Tick(now);
    for (auto& p : a.TakeOutgoing()) {
      CHECK(p.socketId == 1);
      CHECK(p.to == bPassive);
      (void)b.HandleStun(7, aSource, kvs::ByteSpan(p.bytes), now);
    }
    for (auto& p : b.TakeOutgoing()) {
      CHECK(p.socketId == 7);  // answers and checks go back on the accepted connection
      CHECK(p.to == aSource);
      (void)a.HandleStun(1, bPassive, kvs::ByteSpan(p.bytes), now);
    }
  }
  CHECK(a.state() == IceState::kConnected);
  CHECK(b.state() == IceState::kConnected);
  REQUIRE(b.selectedPair());
  const auto& learned = b.remoteCandidates()[b.selectedPair()->remoteIndex];
  CHECK(learned.type == CandidateType::kPeerReflexive);
  CHECK(learned.transport == kvs::ice::TransportProtocol::kTcp);
  CHECK(learned.address == aSource);
  // The PRIORITY a's checks carried is the TCP peer-reflexive one (type preference 80).
  CHECK((learned.priority >> 24) == 80);
}

TEST_CASE("after a restart, cleared local candidates give way to the new generation's") {
  IceAgent a(Config(IceRole::kControlling, "aaaa", "apasswordapasswordapass"), Seeded(51));
  IceAgent b(Config(IceRole::kControlled, "bbbb", "bpasswordbpasswordbpass"), Seeded(52));
  Net net{
      &a, &b, {{0, *Address::Parse("10.0.0.1", 5000)}}, {{0, *Address::Parse("10.0.0.2", 6000)}}};
  Link(a, b, net);
  net.Run(500);
  REQUIRE(a.state() == IceState::kConnected);
  // With a pair selected there is nothing to clear: that pair is in use.
  a.ClearLocalCandidates();
  CHECK(a.localCandidates().size() == 1);

  a.Restart({"aaa2", "apassword2apassword2apa"});
  b.Restart({"bbb2", "bpassword2bpassword2bpa"});
  // b's new candidate arrives before a has gathered again: it stays, and pairs with a's new one.
  b.SetRemoteCredentials(a.localCredentials(), net.now);
  a.ClearLocalCandidates();
  b.ClearLocalCandidates();
  CHECK(a.localCandidates().empty());
  CHECK(a.pairs().empty());
  // The old address (10.0.0.1) vanished; the new generation has 10.0.0.3 on socket 1.
  net.aSockets = {{1, *Address::Parse("10.0.0.3", 5002)}};
  net.bSockets = {{1, *Address::Parse("10.0.0.2", 6002)}};
  Candidate bNew = Host("10.0.0.2", 6002, 1);
  b.AddLocalCandidate(bNew);
  REQUIRE(a.AddRemoteCandidate(bNew, net.now).ok());
  Candidate aNew = Host("10.0.0.3", 5002, 1);
  a.AddLocalCandidate(aNew);
  REQUIRE(b.AddRemoteCandidate(aNew, net.now).ok());
  a.SetRemoteCredentials(b.localCredentials(), net.now);
  CHECK(a.pairs().size() == 1);
  net.Run(1000);
  REQUIRE(a.state() == IceState::kConnected);
  REQUIRE(b.state() == IceState::kConnected);
  CHECK(a.route()->socketId == 1);
  CHECK(a.route()->remote == *Address::Parse("10.0.0.2", 6002));
  CHECK(b.route()->remote == *Address::Parse("10.0.0.3", 5002));
}
