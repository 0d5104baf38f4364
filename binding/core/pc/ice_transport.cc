#include "pc/ice_transport.h"

#include <algorithm>

#include "loop/interfaces.h"
#include "net/sockaddr.h"
#include "pc/candidate_convert.h"

namespace kvs::pc {
namespace {

bool Allowed(const InterfaceFilter& f, const loop::LocalInterface& i) {
  if (!f.only.empty()) {
    return std::find(f.only.begin(), f.only.end(), i.address.IpString()) != f.only.end() ||
           std::find(f.only.begin(), f.only.end(), i.name) != f.only.end();
  }
  if (net::IsLoopback(i.address) && !f.allowLoopback) return false;
  if (net::IsLinkLocal(i.address) && !f.allowLinkLocal) return false;
  if (i.address.isIpv6() && !f.ipv6) return false;
  return true;
}

// While checking, the agent wants 10 ms resolution (checks every 50 ms); afterwards only
// consent and retransmissions, for which 100 ms is plenty.
constexpr uint64_t kFastTickMs = 10;
constexpr uint64_t kSlowTickMs = 100;

}  // namespace

IceTransport::IceTransport(loop::EventLoop& loop, IceTransportConfig config)
    : loop_(loop),
      config_(std::move(config)),
      agent_(config_.agent, ice::CryptoRandom()),
      srflx_(ice::CryptoRandom()),
      tick_(loop),
      gatheringTimer_(loop) {
  agent_.onStateChange = [this](ice::IceState s) {
    if (onStateChange) onStateChange(s);
  };
  agent_.onSelectedPairChange = [this](const ice::CandidatePair&) { lastRoute_ = agent_.route(); };
}

IceTransport::~IceTransport() {
  // Deallocate politely; the connections finish on the loop after we are gone.
  for (auto& relay : relays_) {
    if (relay->connection) relay->connection->Close();
  }
}

void IceTransport::Gather() {
  if (!sockets_.empty() || !relays_.empty() || gatheringComplete_) return;
  uint16_t localPreference = 65535;
  std::vector<net::Address> allowed;
  for (const auto& [url, address] : config_.stunServers) srflx_.AddServer(url, address);
  for (const auto& iface : loop::ListInterfaces()) {
    if (!Allowed(config_.interfaces, iface)) continue;
    allowed.push_back(iface.address);
    if (config_.relayOnly) continue;
    const int socketId = static_cast<int>(sockets_.size());
    auto socket = loop::UdpSocket::Bind(loop_, iface.address,
                                        [this, socketId](const net::Address& from, ByteSpan data) {
                                          OnDatagram(socketId, from, data);
                                        });
    if (!socket.ok()) continue;  // e.g. an address that vanished meanwhile
    ice::Candidate c;
    c.type = ice::CandidateType::kHost;
    c.address = socket.value()->local();
    c.base = c.address;
    // IPv6 first among equals, as RFC 8421 suggests; then interface order.
    const uint16_t pref = static_cast<uint16_t>(localPreference - (c.address.isIpv6() ? 0 : 1));
    c.priority = ice::ComputePriority(ice::CandidateType::kHost, pref);
    c.foundation = ice::ComputeFoundation(c.type, c.base, "", ice::TransportProtocol::kUdp);
    c.socketId = socketId;
    sockets_.push_back(socket.take());
    localPreference = static_cast<uint16_t>(localPreference - 2);
    agent_.AddLocalCandidate(c);
    if (onLocalCandidate) onLocalCandidate(ToSdp(c));
    srflx_.AddHost(socketId, c.address, loop_.NowMs());
  }
  StartRelays(allowed);
  ScheduleTick();
  MaybeCompleteGathering();
  if (!gatheringComplete_) {
    gatheringTimer_.Start(config_.gatheringTimeoutMs, [this] {
      if (gatheringComplete_) return;
      gatheringComplete_ = true;
      if (onGatheringComplete) onGatheringComplete();
    });
  }
  Pump();
}

void IceTransport::AddServerReflexive(const ice::ServerReflexive& r) {
  ice::Candidate c;
  c.type = ice::CandidateType::kServerReflexive;
  c.address = r.mapped;
  c.base = r.base;
  c.relatedAddress = r.base;
  c.hasRelatedAddress = true;
  uint16_t hostPreference = 65535;
  for (const auto& l : agent_.localCandidates()) {
    if (l.socketId == r.socketId && l.type == ice::CandidateType::kHost) {
      hostPreference = static_cast<uint16_t>((l.priority >> 8) & 0xffff);
    }
  }
  c.priority = ice::ComputePriority(ice::CandidateType::kServerReflexive, hostPreference);
  c.foundation = ice::ComputeFoundation(c.type, c.base, config_.stunServers[r.server].first,
                                        ice::TransportProtocol::kUdp);
  c.socketId = r.socketId;
  agent_.AddLocalCandidate(c);
  if (onLocalCandidate) onLocalCandidate(ToSdp(c));
}

void IceTransport::MaybeCompleteGathering() {
  if (gatheringComplete_ || relaysPending_ != 0 || !srflx_.done()) return;
  gatheringComplete_ = true;
  gatheringTimer_.Stop();
  if (onGatheringComplete) onGatheringComplete();
}

std::vector<IceTransport::IceServerStats> IceTransport::iceServerStats() const {
  std::vector<IceServerStats> out;
  for (const auto& s : srflx_.stats()) {
    out.push_back({s.url, s.requestsSent, s.responsesReceived, s.totalRoundTripTimeMs,
                   s.roundTripTimeSamples});
  }
  for (const auto& r : relays_) {
    if (!r->connection) continue;
    const auto& c = r->connection->client().counters();
    out.push_back({r->url, c.requestsSent, c.responsesReceived, c.totalRttMs, c.rttSamples});
  }
  return out;
}

// One allocation per TURN server and transport (turn: tries UDP and TCP, turns: TLS). Relay
// candidates arrive as allocations succeed; gathering ends when every one has settled.
void IceTransport::StartRelays(const std::vector<net::Address>& localAddresses) {
  for (const RelayServer& server : config_.relays) {
    for (turn::TurnTransport transport : turn::TransportsFor(server.url)) {
      turn::TurnConnectionConfig cfg;
      cfg.server = server.address;
      cfg.client.username = server.username;
      cfg.client.password = server.credential;
      cfg.client.transport = transport;
      cfg.tls.serverName = server.url.host;
      cfg.tls.caFile = config_.tlsCaFile;
      // The UDP socket leaves from an allowed interface, never a wildcard one.
      for (const auto& a : localAddresses) {
        if (a.family() == server.address.family()) {
          cfg.local = net::Address(a);
          break;
        }
      }
      const size_t index = relays_.size();
      const int socketId = kRelaySocketBase + static_cast<int>(index);
      auto relay = std::make_unique<Relay>();
      relay->url = (server.url.secure ? "turns:" : "turn:") + server.url.host + ":" +
                   std::to_string(server.url.port);
      turn::TurnConnectionCallbacks callbacks;
      callbacks.onAllocated = [this, index, socketId, transport](const net::Address& relayed,
                                                                 const net::Address& mapped) {
        ice::Candidate c;
        c.type = ice::CandidateType::kRelay;
        c.address = relayed;
        c.base = relayed;
        c.relatedAddress = mapped;
        c.hasRelatedAddress = true;
        // RFC 8445 §5.1.2.1: prefer relays reached over UDP, then TCP, then TLS.
        const uint16_t pref = static_cast<uint16_t>(
            relayPreference_ - (transport == turn::TurnTransport::kUdp   ? 0
                                : transport == turn::TurnTransport::kTcp ? 1000
                                                                         : 2000));
        relayPreference_ = static_cast<uint16_t>(relayPreference_ - 1);
        c.priority = ice::ComputePriority(ice::CandidateType::kRelay, pref);
        c.foundation = ice::ComputeFoundation(c.type, c.base, relays_[index]->url,
                                              ice::TransportProtocol::kUdp);
        c.socketId = socketId;
        agent_.AddLocalCandidate(c);
        if (onLocalCandidate) onLocalCandidate(ToSdp(c));
        if (!relays_[index]->settled) {
          relays_[index]->settled = true;
          RelaySettled();
        }
        Pump();
      };
      callbacks.onData = [this, socketId](const net::Address& peer, ByteSpan data) {
        OnDatagram(socketId, peer, data);
      };
      callbacks.onError = [this, index](const Status&) {
        // A relay that never allocated ends its part of gathering; later errors leave the
        // candidate to fail its checks.
        if (!relays_[index]->settled) {
          relays_[index]->settled = true;
          // Not from inside the connection's own callback, and not after we are gone.
          std::weak_ptr<int> alive = alive_;
          loop_.Post([this, alive] {
            if (alive.lock()) RelaySettled();
          });
        }
      };
      auto connection = turn::TurnConnection::Start(loop_, cfg, std::move(callbacks));
      if (!connection.ok()) continue;
      relay->connection = connection.take();
      relays_.push_back(std::move(relay));
      ++relaysPending_;
    }
  }
}

void IceTransport::RelaySettled() {
  if (relaysPending_ == 0) return;
  --relaysPending_;
  MaybeCompleteGathering();
}

Status IceTransport::SendOn(int socketId, const net::Address& to, ByteSpan data) {
  if (socketId >= kRelaySocketBase) {
    const size_t index = static_cast<size_t>(socketId - kRelaySocketBase);
    if (index >= relays_.size() || !relays_[index]->connection) {
      return Status::Fail("ERR_ICE_NOT_CONNECTED", "no such relay");
    }
    Relay& relay = *relays_[index];
    bool permitted = false;
    for (const auto& p : relay.permitted) permitted |= p.IpString() == to.IpString();
    if (!permitted) {
      relay.permitted.push_back(to);
      Status st = relay.connection->AddPermission(to);
      if (!st.ok()) return st;
    }
    return relay.connection->SendTo(to, data);
  }
  if (socketId < 0 || static_cast<size_t>(socketId) >= sockets_.size()) {
    return Status::Fail("ERR_ICE_NOT_CONNECTED", "no such socket");
  }
  return sockets_[static_cast<size_t>(socketId)]->SendTo(to, data);
}

void IceTransport::SetRemoteCredentials(const ice::IceCredentials& remote) {
  agent_.SetRemoteCredentials(remote, loop_.NowMs());
  Pump();
}

Status IceTransport::AddRemoteCandidate(const sdp::Candidate& candidate) {
  auto converted = FromSdp(candidate);
  if (!converted.ok()) return converted.status();
  Status st = agent_.AddRemoteCandidate(converted.take(), loop_.NowMs());
  Pump();
  return st;
}

void IceTransport::SetRemoteEndOfCandidates() { agent_.SetRemoteEndOfCandidates(); }

void IceTransport::Restart(const ice::IceCredentials& local) {
  agent_.Restart(local);
  ScheduleTick();
}

void IceTransport::Close() {
  tick_.Stop();
  gatheringTimer_.Stop();
  agent_.Close();
  for (auto& relay : relays_) {
    if (relay->connection) relay->connection->Close();
  }
}

bool IceTransport::IsKnownRemote(const net::Address& from) const {
  for (const auto& r : agent_.remoteCandidates()) {
    if (r.address == from) return true;
  }
  return false;
}

void IceTransport::OnDatagram(int socketId, const net::Address& from, ByteSpan data) {
  const net::PacketClass kind = net::Classify(data);
  const uint64_t now = loop_.NowMs();
  switch (kind) {
    case net::PacketClass::kStun: {
      std::optional<ice::ServerReflexive> found;
      if (socketId < kRelaySocketBase && srflx_.HandleResponse(socketId, from, data, now, &found)) {
        if (found) AddServerReflexive(*found);
        MaybeCompleteGathering();
        return;
      }
      (void)agent_.HandleStun(socketId, from, data, now);  // false: not for us, dropped
      Pump();
      return;
    }
    case net::PacketClass::kDtls:
    case net::PacketClass::kRtp:
    case net::PacketClass::kRtcp:
      break;
    default:
      // ZRTP, ChannelData on a peer path (TURN unwraps it before here), or noise.
      ++droppedUnknown_;
      return;
  }
  // Only peers ICE knows of may talk DTLS or media to us.
  if (!IsKnownRemote(from)) {
    ++droppedUnknownSource_;
    return;
  }
  agent_.NoteDataReceived(socketId, from, data.size, now);
  if (!agent_.route()) fallbackRoute_ = ice::IceAgent::Route{socketId, from};
  if (onPacket) onPacket(kind, data);
}

Status IceTransport::Send(ByteSpan data) {
  std::optional<ice::IceAgent::Route> route = agent_.route();
  if (!route) route = lastRoute_ ? lastRoute_ : fallbackRoute_;
  if (!route) return Status::Fail("ERR_ICE_NOT_CONNECTED", "no ICE route to the peer yet");
  agent_.NoteDataSent(data.size, loop_.NowMs());
  return SendOn(route->socketId, route->remote, data);
}

// Lets the agent act on what just happened (a check to send, a pair to nominate) now rather
// than at the next tick; its own pacing still spaces ordinary checks.
void IceTransport::Pump() {
  agent_.Tick(loop_.NowMs());
  Flush();
}

void IceTransport::Flush() {
  // A check or binding request the network refused is lost like any datagram: the agent and
  // the gatherer retransmit. Counted for diagnosis.
  for (auto& p : agent_.TakeOutgoing()) {
    if (!SendOn(p.socketId, p.to, ByteSpan(p.bytes)).ok()) ++sendFailures_;
  }
  for (auto& p : srflx_.TakeOutgoing()) {
    if (!SendOn(p.socketId, p.to, ByteSpan(p.bytes)).ok()) ++sendFailures_;
  }
}

void IceTransport::ScheduleTick() {
  const bool checking = agent_.state() != ice::IceState::kConnected;
  tick_.StartRepeating(checking ? kFastTickMs : kSlowTickMs, [this] {
    const ice::IceState before = agent_.state();
    agent_.Tick(loop_.NowMs());
    srflx_.Tick(loop_.NowMs());
    Flush();
    MaybeCompleteGathering();
    const ice::IceState after = agent_.state();
    if (after == ice::IceState::kClosed || after == ice::IceState::kFailed) {
      tick_.Stop();
    } else if ((before == ice::IceState::kConnected) != (after == ice::IceState::kConnected)) {
      ScheduleTick();
    }
  });
}

}  // namespace kvs::pc
