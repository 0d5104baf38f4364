// pc::IceTransport on real loopback sockets: ICE-TCP when only TCP candidates are signalled
// (RFC 6544 active to passive, RFC 4571 framing, the same demultiplexed receive path as
// UDP), and a remote .local candidate that does not resolve.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "loop/event_loop.h"
#include "loop_test_util.h"
#include "pc/ice_transport.h"

using kvs::ByteSpan;
using kvs::ice::IceRole;
using kvs::ice::IceState;
using kvs::pc::IceTransport;
using kvs::pc::IceTransportConfig;
using kvs::testing::NewLoop;

namespace {

IceTransportConfig Config(IceRole role, const std::string& ufrag) {
  IceTransportConfig c;
  c.tcpPruneDelayMs = 2000;
  c.interfaces.only = {"127.0.0.1"};
  c.agent.role = role;
  c.agent.local = {ufrag, ufrag + std::string(24 - ufrag.size(), 'p')};
  return c;
}

template <typename F>
void OnLoopVoid(kvs::loop::EventLoop& loop, F fn) {
  std::promise<void> done;
  loop.Post([&] {
    fn();
    done.set_value();
  });
  REQUIRE(done.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready);
}

}  // namespace

TEST_CASE("IceTransport: TCP candidates alone connect, and packets ride RFC 4571 frames") {
  auto loop = NewLoop();
  std::unique_ptr<IceTransport> a, b;
  std::promise<void> aUp, bUp;
  std::promise<std::vector<uint8_t>> bGot;
  bool aSet = false, bSet = false, gotSet = false;
  OnLoopVoid(*loop, [&] {
    a = std::make_unique<IceTransport>(*loop, Config(IceRole::kControlling, "aaaa"));
    b = std::make_unique<IceTransport>(*loop, Config(IceRole::kControlled, "bbbb"));
    // Only the TCP candidates cross: the UDP ones are never signalled.
    a->onLocalCandidate = [&](const kvs::sdp::Candidate& c) {
      if (c.protocol == kvs::sdp::TransportProtocol::kTcp) REQUIRE(b->AddRemoteCandidate(c).ok());
    };
    b->onLocalCandidate = [&](const kvs::sdp::Candidate& c) {
      if (c.protocol == kvs::sdp::TransportProtocol::kTcp) REQUIRE(a->AddRemoteCandidate(c).ok());
    };
    a->onStateChange = [&](IceState s) {
      if (s == IceState::kConnected && !aSet) {
        aSet = true;
        aUp.set_value();
      }
    };
    b->onStateChange = [&](IceState s) {
      if (s == IceState::kConnected && !bSet) {
        bSet = true;
        bUp.set_value();
      }
    };
    b->onPacket = [&](kvs::net::PacketClass kind, ByteSpan data) {
      if (kind != kvs::net::PacketClass::kDtls || gotSet) return;
      gotSet = true;
      bGot.set_value(std::vector<uint8_t>(data.data, data.data + data.size));
    };
    a->SetRemoteCredentials(b->agent().localCredentials());
    b->SetRemoteCredentials(a->agent().localCredentials());
    a->Gather();
    b->Gather();
  });
  REQUIRE(aUp.get_future().wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  REQUIRE(bUp.get_future().wait_for(std::chrono::seconds(20)) == std::future_status::ready);

  // A DTLS-looking record (content type 22) goes a → b over the selected TCP pair.
  std::vector<uint8_t> record(40, 0xAB);
  record[0] = 22;
  OnLoopVoid(*loop, [&] {
    const auto* pair = a->agent().selectedPair();
    REQUIRE(pair != nullptr);
    CHECK(a->agent().localCandidates()[pair->localIndex].transport ==
          kvs::ice::TransportProtocol::kTcp);
    REQUIRE(a->Send(ByteSpan(record)).ok());
  });
  auto got = bGot.get_future();
  REQUIRE(got.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(got.get() == record);

  // Both sides check from their active candidate to the other's passive one; the
  // connections off the selected path are closed after tcpPruneDelayMs (2 s here).
  size_t before = 0;
  OnLoopVoid(*loop, [&] { before = a->tcpConnections() + b->tcpConnections(); });
  CHECK(before >= 2);  // at least the selected connection, seen from both ends
  bool pruned = false;
  for (int i = 0; i < 100 && !pruned; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    OnLoopVoid(*loop, [&] { pruned = a->tcpConnections() == 1 && b->tcpConnections() == 1; });
  }
  CHECK(pruned);
  // The selected path still carries data afterwards.
  std::promise<std::vector<uint8_t>> again;
  std::vector<uint8_t> second(30, 0xCD);
  second[0] = 23;
  OnLoopVoid(*loop, [&] {
    b->onPacket = [&](kvs::net::PacketClass, ByteSpan data) {
      again.set_value(std::vector<uint8_t>(data.data, data.data + data.size));
      b->onPacket = nullptr;
    };
    REQUIRE(a->Send(ByteSpan(second)).ok());
  });
  auto f2 = again.get_future();
  REQUIRE(f2.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(f2.get() == second);
  OnLoopVoid(*loop, [&] {
    a->Close();
    b->Close();
    a.reset();
    b.reset();
  });
}

TEST_CASE("IceTransport: an mDNS name that never resolves is skipped with its reason") {
  auto loop = NewLoop();
  std::unique_ptr<IceTransport> t;
  std::promise<std::string> reason;
  OnLoopVoid(*loop, [&] {
    auto cfg = Config(IceRole::kControlled, "cccc");
    cfg.mdns.timeoutMs = 300;
    t = std::make_unique<IceTransport>(*loop, cfg);
    t->onCandidateSkipped = [&](const kvs::sdp::Candidate&, const std::string& why) {
      reason.set_value(why);
    };
    auto c = kvs::sdp::ParseCandidate(
        "candidate:1 1 udp 2122260223 7b0c2e9a-1111-4222-8333-944455556666.local 50000 typ host");
    REQUIRE(c.ok());
    // Multicast on 127.0.0.1 never leaves the host. Where loopback cannot multicast at all the
    // candidate is refused at once instead; either way it is skipped with a reason.
    kvs::Status st = t->AddRemoteCandidate(c.value());
    if (!st.ok()) reason.set_value(st.message());
  });
  auto f = reason.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  const std::string why = f.get();
  CHECK((why.find("not resolved within 300 ms") != std::string::npos ||
         why.find("no allowed interface can send multicast DNS") != std::string::npos));
  OnLoopVoid(*loop, [&] {
    t->Close();
    t.reset();
  });
}

namespace {

// Polls `done` on the loop thread every 50 ms, for 20 s at most.
template <typename F>
bool WaitOnLoop(kvs::loop::EventLoop& loop, F done) {
  for (int i = 0; i < 400; ++i) {
    if (kvs::testing::OnLoop(loop, [&] { return done(); })) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

TEST_CASE(
    "IceTransport: a restart re-gathers, the old route carries data until the new pair, then is "
    "released") {
  auto loop = NewLoop();
  std::unique_ptr<IceTransport> a, b;
  std::vector<std::vector<uint8_t>> atB;  // DTLS-looking records b received
  std::vector<uint16_t> aPorts, bPorts;   // host candidate ports announced, in order
  OnLoopVoid(*loop, [&] {
    auto ca = Config(IceRole::kControlling, "aaaa");
    auto cb = Config(IceRole::kControlled, "bbbb");
    ca.tcpCandidates = cb.tcpCandidates = false;
    a = std::make_unique<IceTransport>(*loop, ca);
    b = std::make_unique<IceTransport>(*loop, cb);
    a->onLocalCandidate = [&](const kvs::sdp::Candidate& c) {
      aPorts.push_back(c.port);
      REQUIRE(b->AddRemoteCandidate(c).ok());
    };
    b->onLocalCandidate = [&](const kvs::sdp::Candidate& c) {
      bPorts.push_back(c.port);
      REQUIRE(a->AddRemoteCandidate(c).ok());
    };
    b->onPacket = [&](kvs::net::PacketClass, ByteSpan data) {
      atB.emplace_back(data.data, data.data + data.size);
    };
    a->SetRemoteCredentials(b->agent().localCredentials());
    b->SetRemoteCredentials(a->agent().localCredentials());
    a->Gather();
    b->Gather();
  });
  auto connected = [&] {
    return a->agent().state() == IceState::kConnected && b->agent().state() == IceState::kConnected;
  };
  REQUIRE(WaitOnLoop(*loop, connected));
  REQUIRE(aPorts.size() == 1);
  REQUIRE(bPorts.size() == 1);
  int oldSocket = -1;
  OnLoopVoid(*loop, [&] {
    oldSocket = a->agent().route()->socketId;
    CHECK(a->openSockets() == 1);
    // Both restart (the offer with a's new credentials reached b, which answers with its own),
    // and gather again once their descriptions are set: the answer has not reached a yet.
    a->Restart({"aaa2", std::string(24, 'q')});
    b->Restart({"bbb2", std::string(24, 'r')});
    b->SetRemoteCredentials(a->agent().localCredentials());
    a->Regather();
    b->Regather();
    CHECK(a->generation() == 1);
    // Make before break: the old route carries data while the new generation checks.
    std::vector<uint8_t> record(20, 0x11);
    record[0] = 22;
    REQUIRE(a->Send(ByteSpan(record)).ok());
  });
  REQUIRE(WaitOnLoop(*loop, [&] { return atB.size() == 1; }));
  CHECK(atB[0][1] == 0x11);
  // A new generation was gathered: new sockets, new ports, both generations open meanwhile.
  OnLoopVoid(*loop, [&] {
    REQUIRE(aPorts.size() == 2);
    REQUIRE(bPorts.size() == 2);
    CHECK(aPorts[1] != aPorts[0]);
    CHECK(bPorts[1] != bPorts[0]);
    CHECK(a->agent().localCandidates().size() == 1);  // the old one is gone from the agent
    CHECK(a->openSockets() == 2);
    a->SetRemoteCredentials(b->agent().localCredentials());  // the answer
  });
  REQUIRE(WaitOnLoop(*loop, connected));
  // The new pair carries the data, and the old generation's socket is let go of.
  REQUIRE(WaitOnLoop(*loop, [&] { return a->openSockets() == 1 && b->openSockets() == 1; }));
  OnLoopVoid(*loop, [&] {
    const auto route = a->agent().route();
    REQUIRE(route.has_value());
    CHECK(route->socketId != oldSocket);
    CHECK(a->agent().localCandidates()[0].address.port() == aPorts[1]);
    std::vector<uint8_t> record(20, 0x22);
    record[0] = 22;
    REQUIRE(a->Send(ByteSpan(record)).ok());
  });
  REQUIRE(WaitOnLoop(*loop, [&] { return atB.size() == 2; }));
  CHECK(atB[1][1] == 0x22);
  // A second restart reuses the released slot: socket ids stay bounded.
  OnLoopVoid(*loop, [&] {
    a->Restart({"aaa3", std::string(24, 's')});
    b->Restart({"bbb3", std::string(24, 't')});
    b->SetRemoteCredentials(a->agent().localCredentials());
    a->Regather();
    b->Regather();
    a->SetRemoteCredentials(b->agent().localCredentials());
  });
  REQUIRE(WaitOnLoop(*loop, connected));
  REQUIRE(WaitOnLoop(*loop, [&] { return a->openSockets() == 1 && a->agent().route(); }));
  OnLoopVoid(*loop, [&] {
    CHECK(a->generation() == 2);
    CHECK(a->agent().route()->socketId == oldSocket);  // slot 0 again, a new socket
    CHECK(a->agent().localCandidates()[0].address.port() == aPorts[2]);
    a->Close();
    b->Close();
    a.reset();
    b.reset();
  });
}
