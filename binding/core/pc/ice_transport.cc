#include "pc/ice_transport.h"

#include <algorithm>

#include "crypto/random.h"
#include "loop/interfaces.h"
#include "mdns/mdns_message.h"
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
      gatheringTimer_(loop),
      mdns_(config_.mdns),
      mdnsTimer_(loop),
      tcpPruneTimer_(loop),
      retireTimer_(loop) {
  agent_.onStateChange = [this](ice::IceState s) {
    if (onStateChange) onStateChange(s);
  };
  agent_.onSelectedPairChange = [this](const ice::CandidatePair&) {
    if (retirePending_) {
      // The new generation carries our data now; the old one is released a little later
      // (retireDelayMs), taking the peer's data meanwhile. From the timer, never from inside
      // the callback that selected the pair (a socket's or a relay's own).
      retirePending_ = false;
      previousRoute_ = lastRoute_;
      retireTimer_.Start(config_.retireDelayMs, [this] { RetireOldGenerations(); });
    }
    lastRoute_ = agent_.route();
    bool anyTcp = false;
    for (const auto& e : tcp_) anyTcp |= !e->links.empty();
    if (anyTcp) tcpPruneTimer_.Start(config_.tcpPruneDelayMs, [this] { PruneTcpLinks(); });
  };
}

IceTransport::~IceTransport() {
  // Deallocate politely; the connections finish on the loop after we are gone.
  for (auto& relay : relays_) {
    if (relay && relay->connection) relay->connection->Close();
  }
}

void IceTransport::Gather() {
  if (!sockets_.empty() || !relays_.empty() || gatheringComplete_) return;
  GatherGeneration();
}

void IceTransport::Regather() {
  // Before the first gathering there is nothing to gather again: Gather() comes with the
  // description as usual.
  if (sockets_.empty() && relays_.empty() && tcp_.empty() && !gatheringComplete_) return;
  agent_.ClearLocalCandidates();
  ++generation_;
  retirePending_ = true;
  gatheringTimer_.Stop();
  gatheringComplete_ = false;
  relaysPending_ = 0;
  // The server-reflexive requests of the old generation are moot: a fresh gatherer, on the
  // servers as they are now (its figures start again).
  srflx_ = ice::SrflxGatherer(ice::CryptoRandom());
  GatherGeneration();
}

size_t IceTransport::FreeSocketSlot() {
  for (size_t i = 0; i < sockets_.size(); ++i) {
    if (!sockets_[i]) return i;
  }
  sockets_.emplace_back();
  socketGeneration_.push_back(0);
  return sockets_.size() - 1;
}

size_t IceTransport::FreeRelaySlot() {
  for (size_t i = 0; i < relays_.size(); ++i) {
    if (!relays_[i]) return i;
  }
  relays_.emplace_back();
  return relays_.size() - 1;
}

size_t IceTransport::FreeTcpSlot() {
  for (size_t i = 0; i < tcp_.size(); ++i) {
    if (tcp_[i]->retired) return i;
  }
  tcp_.push_back(std::make_unique<TcpEndpoint>());
  return tcp_.size() - 1;
}

void IceTransport::GatherGeneration() {
  uint16_t localPreference = 65535;
  std::vector<net::Address> allowed;
  for (const auto& [url, address] : config_.stunServers) srflx_.AddServer(url, address);
  size_t hosts = 0;
  for (const auto& iface : loop::ListInterfaces()) {
    if (!Allowed(config_.interfaces, iface)) continue;
    allowed.push_back(iface.address);
    if (config_.relayOnly) continue;
    const size_t slot = FreeSocketSlot();
    if (slot >= static_cast<size_t>(kRelaySocketBase)) break;  // ids would collide
    const int socketId = static_cast<int>(slot);
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
    sockets_[slot] = socket.take();
    socketGeneration_[slot] = generation_;
    ++hosts;
    localPreference = static_cast<uint16_t>(localPreference - 2);
    agent_.AddLocalCandidate(c);
    Announce(c);
    srflx_.AddHost(socketId, c.address, loop_.NowMs());
    if (config_.tcpCandidates) {
      GatherTcp(iface.address, static_cast<uint16_t>(8191 - std::min<size_t>(hosts, 8191)));
    }
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

bool IceTransport::IsRouteSocket(int socketId) const {
  const auto route = agent_.route();
  if (route && route->socketId == socketId) return true;
  return !route && lastRoute_ && lastRoute_->socketId == socketId;
}

void IceTransport::ReleaseRelay(size_t index) {
  if (index >= relays_.size() || !relays_[index]) return;
  // Close() sends the deallocation (Refresh with lifetime 0) at once; its answer is not
  // waited for. Destroyed on a later turn of the loop, never inside its own callback.
  if (relays_[index]->connection) relays_[index]->connection->Close();
  relays_[index].reset();
}

void IceTransport::RetireOldGenerations() {
  previousRoute_.reset();
  for (size_t i = 0; i < sockets_.size(); ++i) {
    if (sockets_[i] && socketGeneration_[i] < generation_ && !IsRouteSocket(static_cast<int>(i))) {
      sockets_[i].reset();
    }
  }
  for (size_t i = 0; i < relays_.size(); ++i) {
    if (relays_[i] && relays_[i]->generation < generation_ &&
        !IsRouteSocket(kRelaySocketBase + static_cast<int>(i))) {
      ReleaseRelay(i);
    }
  }
  for (size_t i = 0; i < tcp_.size(); ++i) {
    TcpEndpoint& e = *tcp_[i];
    if (e.retired || e.generation >= generation_ ||
        IsRouteSocket(kTcpSocketBase + static_cast<int>(i))) {
      continue;
    }
    e.listener.reset();
    e.links.clear();
    e.retired = true;
  }
}

size_t IceTransport::openSockets() const {
  size_t n = 0;
  for (const auto& s : sockets_) n += s ? 1 : 0;
  for (const auto& r : relays_) n += r ? 1 : 0;
  return n;
}

void IceTransport::GatherTcp(const net::Address& interfaceAddress, uint16_t otherPreference) {
  auto announce = [this, &interfaceAddress, otherPreference](
                      ice::TcpType type, const net::Address& address, int socketId) {
    ice::Candidate c;
    c.type = ice::CandidateType::kHost;
    c.transport = ice::TransportProtocol::kTcp;
    c.tcpType = type;
    c.address = address;
    c.base = address;
    c.priority = ice::ComputePriority(ice::CandidateType::kHost,
                                      ice::TcpLocalPreference(type, otherPreference), 1,
                                      ice::TransportProtocol::kTcp);
    c.foundation = ice::ComputeFoundation(c.type, interfaceAddress, "", c.transport);
    c.socketId = socketId;
    agent_.AddLocalCandidate(c);
    Announce(c);
  };
  // Passive: a listener on the interface, which peers connect to.
  {
    const size_t slot = FreeTcpSlot();
    const int socketId = kTcpSocketBase + static_cast<int>(slot);
    loop::TcpListener::Handlers handlers;
    handlers.onAccepted = [this, socketId](std::unique_ptr<loop::TcpSocket> socket) {
      AdoptTcpLink(socketId, std::move(socket));
    };
    auto listener = loop::TcpListener::Listen(loop_, interfaceAddress, std::move(handlers));
    TcpEndpoint& endpoint = *tcp_[slot];
    endpoint.type = ice::TcpType::kPassive;
    endpoint.interfaceAddress = interfaceAddress;
    endpoint.generation = generation_;
    endpoint.links.clear();
    if (listener.ok()) {
      endpoint.listener = listener.take();
      endpoint.retired = false;
      announce(ice::TcpType::kPassive, endpoint.listener->local(), socketId);
    } else {
      endpoint.retired = true;  // the slot stays free
    }
  }
  // Active: connections made on demand to the peer's passive candidates, from the same
  // interface. Signalled with the discard port 9 (RFC 6544 §4.5).
  {
    const size_t slot = FreeTcpSlot();
    const int socketId = kTcpSocketBase + static_cast<int>(slot);
    TcpEndpoint& endpoint = *tcp_[slot];
    endpoint.type = ice::TcpType::kActive;
    endpoint.interfaceAddress = interfaceAddress;
    endpoint.generation = generation_;
    endpoint.listener.reset();
    endpoint.links.clear();
    endpoint.retired = false;
    net::Address address = interfaceAddress;
    address.setPort(9);
    announce(ice::TcpType::kActive, address, socketId);
  }
}

IceTransport::TcpEndpoint* IceTransport::Tcp(int socketId) {
  // Ids come from GatherTcp only, and endpoints are never removed (Close empties them).
  return tcp_[static_cast<size_t>(socketId - kTcpSocketBase)].get();
}

loop::TcpCallbacks IceTransport::TcpLinkCallbacks(int socketId, const net::Address& peer) {
  loop::TcpCallbacks cb;
  std::weak_ptr<int> alive = alive_;
  cb.onConnect = [this, alive, socketId, peer](const Status& s) {
    if (!alive.lock()) return;
    if (!s.ok()) {
      DropTcpLink(socketId, peer);  // the check times out; nothing else to do
      return;
    }
    TcpEndpoint* endpoint = Tcp(socketId);
    auto it = endpoint->links.find(peer);
    if (it == endpoint->links.end()) return;
    TcpLink& link = *it->second;
    link.connected = true;
    for (auto& frame : std::exchange(link.pending, {})) {
      if (!link.socket->Write(ByteSpan(frame)).ok()) ++sendFailures_;
    }
  };
  cb.onData = [this, alive, socketId, peer](ByteSpan bytes) {
    if (!alive.lock()) return;
    TcpEndpoint* endpoint = Tcp(socketId);
    auto it = endpoint->links.find(peer);
    if (it == endpoint->links.end()) return;
    // Each RFC 4571 frame is one packet, and goes the way a UDP datagram goes.
    std::vector<std::vector<uint8_t>> frames;
    Status st = it->second->deframer.Push(bytes, [&frames](stun::FrameKind, ByteSpan f) {
      frames.emplace_back(f.data, f.data + f.size);
    });
    for (const auto& f : frames) OnDatagram(socketId, peer, ByteSpan(f));
    if (!st.ok()) DropTcpLink(socketId, peer);  // a stream that cannot be framed is dead
  };
  cb.onClose = [this, alive, socketId, peer](const Status&) {
    if (alive.lock()) DropTcpLink(socketId, peer);
  };
  return cb;
}

void IceTransport::DropTcpLink(int socketId, const net::Address& peer) {
  // Not from inside the socket's own callback: the link goes on the next turn of the loop.
  std::weak_ptr<int> alive = alive_;
  loop_.Post([this, alive, socketId, peer] {
    if (!alive.lock()) return;
    Tcp(socketId)->links.erase(peer);
  });
}

void IceTransport::PruneTcpLinks() {
  const auto route = agent_.route();
  for (size_t i = 0; i < tcp_.size(); ++i) {
    const int socketId = kTcpSocketBase + static_cast<int>(i);
    auto& links = tcp_[i]->links;
    for (auto it = links.begin(); it != links.end();) {
      const bool selected = route && route->socketId == socketId && route->remote == it->first;
      it = selected ? std::next(it) : links.erase(it);
    }
  }
}

size_t IceTransport::tcpConnections() const {
  size_t n = 0;
  for (const auto& e : tcp_) n += e->links.size();
  return n;
}

void IceTransport::AdoptTcpLink(int socketId, std::unique_ptr<loop::TcpSocket> socket) {
  TcpEndpoint& endpoint = *Tcp(socketId);
  if (endpoint.retired) return;
  // A passive candidate is public to whoever has our description: bound the connections a
  // stranger can hold open. Checks come from a handful of peer candidates.
  constexpr size_t kMaxAccepted = 32;
  const net::Address peer = socket->remote();
  if (endpoint.links.size() >= kMaxAccepted || endpoint.links.count(peer) != 0) return;
  auto link = std::make_unique<TcpLink>();
  link->connected = true;
  socket->SetCallbacks(TcpLinkCallbacks(socketId, peer));
  link->socket = std::move(socket);
  endpoint.links[peer] = std::move(link);
}

IceTransport::TcpLink* IceTransport::OpenTcpLink(int socketId, const net::Address& to) {
  TcpEndpoint& endpoint = *Tcp(socketId);
  if (endpoint.retired || endpoint.type != ice::TcpType::kActive || to.port() == 0 ||
      to.port() == 9) {
    return nullptr;
  }
  auto socket =
      loop::TcpSocket::ConnectFrom(loop_, endpoint.interfaceAddress, to,
                                   config_.tcpConnectTimeoutMs, TcpLinkCallbacks(socketId, to));
  if (!socket.ok()) return nullptr;
  auto link = std::make_unique<TcpLink>();
  link->socket = socket.take();
  TcpLink* raw = link.get();
  endpoint.links[to] = std::move(link);
  return raw;
}

Status IceTransport::SendOnTcp(int socketId, const net::Address& to, ByteSpan data) {
  if (static_cast<size_t>(socketId - kTcpSocketBase) >= tcp_.size()) {
    return Status::Fail("ERR_ICE_NOT_CONNECTED", "no such TCP candidate");
  }
  TcpEndpoint* endpoint = Tcp(socketId);
  if (endpoint == nullptr) return Status::Fail("ERR_ICE_NOT_CONNECTED", "no such TCP candidate");
  auto& links = endpoint->links;
  auto it = links.find(to);
  TcpLink* link = it != links.end() ? it->second.get() : OpenTcpLink(socketId, to);
  if (link == nullptr) {
    return Status::Fail("ERR_ICE_NOT_CONNECTED", "no TCP connection to " + to.ToString());
  }
  auto framed = stun::FrameRfc4571(data);
  if (!framed.ok()) return framed.status();
  if (!link->connected) {
    // Checks and their retransmissions wait for the connection; a bound keeps a peer that
    // never accepts from growing the queue.
    constexpr size_t kMaxPending = 64;
    if (link->pending.size() >= kMaxPending) {
      return Status::Fail("ERR_SOCKET_BUFFER_FULL",
                          "TCP connection to " + to.ToString() + " is not up yet");
    }
    link->pending.push_back(framed.take());
    return Status::Ok();
  }
  return link->socket->Write(ByteSpan(framed.value()));
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
  Announce(c);
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
    if (!r || !r->connection) continue;
    const auto& c = r->connection->client().counters();
    out.push_back({r->url, c.requestsSent, c.responsesReceived, c.totalRttMs, c.rttSamples});
  }
  return out;
}

// One allocation per TURN server and transport (turn: tries UDP and TCP, turns: TLS). Relay
// candidates arrive as allocations succeed; gathering ends when every one has settled.
void IceTransport::StartRelays(const std::vector<net::Address>& localAddresses) {
  // KVS lists "turns:H:P?transport=udp" and "turns:H:P?transport=tcp": both are TLS to H:P
  // (turn_url.h), so the second would only duplicate the first allocation.
  std::vector<std::string> started;
  for (const RelayServer& server : config_.relays) {
    for (turn::TurnTransport transport : turn::TransportsFor(server.url)) {
      const std::string key = server.address.ToString() + "|" + turn::ToString(transport) + "|" +
                              server.username + "|" + server.credential;
      if (std::find(started.begin(), started.end(), key) != started.end()) continue;
      started.push_back(key);
      turn::TurnConnectionConfig cfg;
      cfg.server = server.address;
      cfg.client.username = server.username;
      cfg.client.password = server.credential;
      cfg.client.transport = transport;
      // The relayed address in the server's family: over IPv6 to an IPv6 relay (the C SDK
      // has IPv4 relays only).
      if (server.address.isIpv6()) cfg.client.relayFamily = net::Family::kIpv6;
      cfg.tls.serverName = server.url.host;
      cfg.tls.caFile = config_.tlsCaFile;
      // The UDP socket leaves from an allowed interface, never a wildcard one.
      for (const auto& a : localAddresses) {
        if (a.family() == server.address.family()) {
          cfg.local = net::Address(a);
          break;
        }
      }
      const size_t index = FreeRelaySlot();
      if (index >= static_cast<size_t>(kTcpSocketBase - kRelaySocketBase)) break;
      const int socketId = kRelaySocketBase + static_cast<int>(index);
      auto relay = std::make_unique<Relay>();
      relay->generation = generation_;
      relay->url = (server.url.secure ? "turns:" : "turn:") + server.url.host + ":" +
                   std::to_string(server.url.port);
      turn::TurnConnectionCallbacks callbacks;
      callbacks.onAllocated = [this, index, socketId, transport](const net::Address& relayed,
                                                                 const net::Address& mapped) {
        if (relays_[index]->generation < generation_) {
          // Allocated only after a restart began: its generation's candidates are gone.
          relays_[index]->settled = true;
          return;
        }
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
        relays_[index]->allocated = true;
        agent_.AddLocalCandidate(c);
        Announce(c);
        if (!relays_[index]->settled) {
          relays_[index]->settled = true;
          RelaySettled();
        }
        Pump();
      };
      callbacks.onData = [this, socketId](const net::Address& peer, ByteSpan data) {
        OnDatagram(socketId, peer, data);
      };
      callbacks.onError = [this, index, socketId](const Status& error) {
        Relay& r = *relays_[index];
        std::weak_ptr<int> alive = alive_;
        const uint32_t generation = r.generation;
        // A relay that never allocated ends its part of gathering.
        if (!r.settled) {
          r.settled = true;
          if (!r.allocated && generation == generation_ && onRelayError) {
            onRelayError(r.url, error);
          }
          // Not from inside the connection's own callback, and not after we are gone.
          loop_.Post([this, alive, generation] {
            if (alive.lock() && generation == generation_) RelaySettled();
          });
        }
        // Per-peer errors leave the allocation usable.
        const std::string code = error.code();
        if (!r.allocated || code == "ERR_TURN_PERMISSION" || code == "ERR_TURN_CHANNEL") return;
        if (generation < generation_) {
          // An old generation's relay, kept for the route until the new pair is selected,
          // or no longer needed at all: let it go.
          loop_.Post([this, alive, index, generation] {
            if (alive.lock() && relays_[index] && relays_[index]->generation == generation) {
              ReleaseRelay(index);
            }
          });
          return;
        }
        if (onRelayFailed) onRelayFailed(r.url, error, IsRouteSocket(socketId));
      };
      auto connection = turn::TurnConnection::Start(loop_, cfg, std::move(callbacks));
      if (!connection.ok()) continue;
      relay->connection = connection.take();
      relays_[index] = std::move(relay);
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
  if (socketId >= kTcpSocketBase) return SendOnTcp(socketId, to, data);
  if (socketId >= kRelaySocketBase) {
    const size_t index = static_cast<size_t>(socketId - kRelaySocketBase);
    if (index >= relays_.size() || !relays_[index] || !relays_[index]->connection) {
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
  if (socketId < 0 || static_cast<size_t>(socketId) >= sockets_.size() ||
      !sockets_[static_cast<size_t>(socketId)]) {
    return Status::Fail("ERR_ICE_NOT_CONNECTED", "no such socket");
  }
  return sockets_[static_cast<size_t>(socketId)]->SendTo(to, data);
}

void IceTransport::SetRemoteCredentials(const ice::IceCredentials& remote) {
  agent_.SetRemoteCredentials(remote, loop_.NowMs());
  Pump();
}

Status IceTransport::AddRemoteCandidate(const sdp::Candidate& candidate) {
  if (candidate.isMdns()) {
    if (!config_.resolveMdns) {
      return Status::Fail(
          "ERR_ICE_UNSUPPORTED_CANDIDATE",
          "mDNS candidate " + candidate.address + " skipped: mDNS resolution is turned off");
    }
    if (!EnsureMdns()) {
      return Status::Fail("ERR_ICE_UNSUPPORTED_CANDIDATE",
                          "mDNS candidate " + candidate.address +
                              " skipped: no allowed interface can send multicast DNS");
    }
    pendingMdns_.push_back({candidate});
    (void)mdns_.Resolve(candidate.address, loop_.NowMs());  // a refusal comes as an outcome
    ProcessMdns();
    return Status::Ok();
  }
  auto converted = FromSdp(candidate);
  if (!converted.ok()) return converted.status();
  Status st = agent_.AddRemoteCandidate(converted.take(), loop_.NowMs());
  Pump();
  return st;
}

void IceTransport::SetRemoteEndOfCandidates() {
  // With names still resolving, the end of candidates is not the end yet: an agent whose
  // pairs all failed would give up before the resolved candidate joins.
  if (!pendingMdns_.empty()) {
    endOfCandidatesHeld_ = true;
    return;
  }
  agent_.SetRemoteEndOfCandidates();
}

bool IceTransport::EnsureMdns() {
  if (mdnsOpened_) return !mdnsSockets_.empty();
  mdnsOpened_ = true;
  // Only the interfaces ICE uses: multicast never leaves by an interface the filter keeps
  // out (a test's namespace, a device's VPN).
  MdnsSocket v4{nullptr, *net::Address::Parse(mdns::kGroupIpv4, mdns::kPort), {}};
  MdnsSocket v6{nullptr, *net::Address::Parse(mdns::kGroupIpv6, mdns::kPort), {}};
  for (const auto& iface : loop::ListInterfaces()) {
    if (!Allowed(config_.interfaces, iface)) continue;
    if (iface.address.isIpv4()) {
      v4.interfaces.push_back(iface.address.IpString());
    } else if (!net::IsLoopback(iface.address) &&
               std::find(v6.interfaces.begin(), v6.interfaces.end(), iface.name) ==
                   v6.interfaces.end()) {
      v6.interfaces.push_back(iface.name);  // ff02::fb is link-scoped: named by interface
    }
  }
  for (MdnsSocket* m : {&v4, &v6}) {
    if (m->interfaces.empty()) continue;
    const auto any = *net::Address::Parse(m->group.isIpv4() ? "0.0.0.0" : "::", mdns::kPort);
    const size_t index = mdnsSockets_.size();
    auto socket = loop::UdpSocket::BindMulticast(
        loop_, any, [this, index](const net::Address& from, ByteSpan data) {
          OnMdnsDatagram(index, from, data);
        });
    if (!socket.ok()) continue;
    std::vector<std::string> joined;
    for (const auto& i : m->interfaces) {
      if (socket.value()->JoinGroup(m->group, i).ok()) joined.push_back(i);
    }
    if (joined.empty()) continue;
    m->interfaces = std::move(joined);
    m->socket = socket.take();
    mdnsSockets_.push_back(std::move(*m));
  }
  return !mdnsSockets_.empty();
}

void IceTransport::OnMdnsDatagram(size_t socketIndex, const net::Address& from, ByteSpan data) {
  if (socketIndex >= mdnsSockets_.size()) return;
  if (responder_.size() > 0) {
    if (auto reply = responder_.HandleQuery(data, from)) {
      MdnsSocket& m = mdnsSockets_[socketIndex];
      // Lost like any datagram: the querier repeats its question.
      if (reply->unicastTo) {
        if (!m.socket->SendTo(*reply->unicastTo, ByteSpan(reply->bytes)).ok()) ++sendFailures_;
      } else {
        for (const auto& i : m.interfaces) {
          if (!m.socket->SendToGroup(m.group, i, ByteSpan(reply->bytes)).ok()) ++sendFailures_;
        }
      }
      return;
    }
  }
  // RFC 6762 §6: responses come from port 5353; anything else is not an answer.
  if (from.port() != mdns::kPort) return;
  if (mdns_.HandlePacket(data, loop_.NowMs())) ProcessMdns();
}

sdp::Candidate IceTransport::LocalSdpCandidate(const ice::Candidate& c) {
  sdp::Candidate out = ToSdp(c);
  if (!config_.mdnsHostCandidates) return out;
  if (c.type == ice::CandidateType::kHost) {
    uint8_t uuid[16];
    crypto::UniqueBytes(uuid, sizeof uuid);
    out.address = responder_.NameFor(c.address, uuid);
    out.addressKind = sdp::AddressKind::kMdnsHostname;
  } else if (out.relatedAddress) {
    // The draft's §3.1.2.3: a related address would give the host address away.
    out.relatedAddress = c.address.isIpv4() ? "0.0.0.0" : "::";
    out.relatedPort = 0;
  }
  return out;
}

void IceTransport::Announce(const ice::Candidate& c) {
  if (config_.mdnsHostCandidates && c.type == ice::CandidateType::kHost) {
    (void)EnsureMdns();  // without a socket the name cannot be answered: peers fall back to
                         // peer-reflexive candidates from our checks, as with any hidden host
  }
  if (onLocalCandidate) onLocalCandidate(LocalSdpCandidate(c));
}

void IceTransport::ProcessMdns() {
  for (const auto& query : mdns_.TakeQueries()) {
    for (auto& m : mdnsSockets_) {
      for (const auto& i : m.interfaces) {
        // Lost like any datagram: the resolver repeats the query.
        if (!m.socket->SendToGroup(m.group, i, ByteSpan(query)).ok()) ++sendFailures_;
      }
    }
  }
  for (const auto& outcome : mdns_.TakeOutcomes()) {
    for (auto it = pendingMdns_.begin(); it != pendingMdns_.end();) {
      if (!mdns::SameName(it->candidate.address, outcome.name)) {
        ++it;
        continue;
      }
      sdp::Candidate c = it->candidate;
      it = pendingMdns_.erase(it);
      if (!outcome.address) {
        if (onCandidateSkipped) onCandidateSkipped(c, outcome.reason);
        continue;
      }
      c.address = outcome.address->IpString();
      c.addressKind = outcome.address->isIpv4() ? sdp::AddressKind::kIpv4 : sdp::AddressKind::kIpv6;
      auto converted = FromSdp(c);
      Status st = converted.ok() ? agent_.AddRemoteCandidate(converted.take(), loop_.NowMs())
                                 : converted.status();
      if (!st.ok() && onCandidateSkipped) {
        onCandidateSkipped(
            c, "resolved " + outcome.name + " to " + c.address + ", but " + st.message());
      }
    }
  }
  if (pendingMdns_.empty()) {
    mdnsTimer_.Stop();
    if (endOfCandidatesHeld_) {
      endOfCandidatesHeld_ = false;
      agent_.SetRemoteEndOfCandidates();
    }
  } else if (!mdnsTimer_.active()) {
    mdnsTimer_.StartRepeating(100, [this] {
      mdns_.Tick(loop_.NowMs());
      ProcessMdns();
    });
  }
  Pump();
}

void IceTransport::Restart(const ice::IceCredentials& local) {
  pendingMdns_.clear();  // the old generation's candidates: the resolver still caches names
  endOfCandidatesHeld_ = false;
  mdnsTimer_.Stop();
  agent_.Restart(local);
  ScheduleTick();
}

void IceTransport::SetServers(std::vector<RelayServer> relays,
                              std::vector<std::pair<std::string, net::Address>> stunServers) {
  config_.relays = std::move(relays);
  config_.stunServers = std::move(stunServers);
}

void IceTransport::Close() {
  tick_.Stop();
  retireTimer_.Stop();
  tcpPruneTimer_.Stop();
  gatheringTimer_.Stop();
  mdnsTimer_.Stop();
  pendingMdns_.clear();
  mdnsSockets_.clear();
  agent_.Close();
  for (auto& endpoint : tcp_) {  // listeners and connections: nothing more arrives
    endpoint->listener.reset();
    endpoint->links.clear();
  }
  for (auto& relay : relays_) {
    if (relay && relay->connection) relay->connection->Close();
  }
}

bool IceTransport::IsKnownRemote(int socketId, const net::Address& from) const {
  for (const auto& r : agent_.remoteCandidates()) {
    if (r.address == from) return true;
  }
  // Through a restart the old route carries the data until a new pair is selected; the
  // agent has forgotten its remote candidate.
  auto same = [socketId, &from](const std::optional<ice::IceAgent::Route>& r) {
    return r && r->socketId == socketId && r->remote == from;
  };
  return (!agent_.route() && same(lastRoute_)) || same(previousRoute_);
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
  if (!IsKnownRemote(socketId, from)) {
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
