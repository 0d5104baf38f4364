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
      tick_(loop) {
  agent_.onStateChange = [this](ice::IceState s) {
    if (onStateChange) onStateChange(s);
  };
  agent_.onSelectedPairChange = [this](const ice::CandidatePair&) { lastRoute_ = agent_.route(); };
}

IceTransport::~IceTransport() = default;

void IceTransport::Gather() {
  if (!sockets_.empty() || gatheringComplete_) return;
  uint16_t localPreference = 65535;
  for (const auto& iface : loop::ListInterfaces()) {
    if (!Allowed(config_.interfaces, iface)) continue;
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
  }
  gatheringComplete_ = true;
  ScheduleTick();
  Pump();
  if (onGatheringComplete) onGatheringComplete();
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

bool IceTransport::IsKnownRemote(const net::Address& from) const {
  for (const auto& r : agent_.remoteCandidates()) {
    if (r.address == from) return true;
  }
  return false;
}

void IceTransport::OnDatagram(int socketId, const net::Address& from, ByteSpan data) {
  if (data.size == 0) return;
  const uint8_t first = data.data[0];
  const uint64_t now = loop_.NowMs();
  if (first < 4) {
    agent_.HandleStun(socketId, from, data, now);
    Pump();
    return;
  }
  // Only peers ICE knows of may talk DTLS or media to us.
  if (!IsKnownRemote(from)) return;
  agent_.NoteDataReceived(socketId, from, data.size, now);
  if (!agent_.route()) fallbackRoute_ = ice::IceAgent::Route{socketId, from};
  if (onPacket) onPacket(data);
}

Status IceTransport::Send(ByteSpan data) {
  std::optional<ice::IceAgent::Route> route = agent_.route();
  if (!route) route = lastRoute_ ? lastRoute_ : fallbackRoute_;
  if (!route || route->socketId < 0 || static_cast<size_t>(route->socketId) >= sockets_.size()) {
    return Status::Fail("ERR_ICE_NOT_CONNECTED", "no ICE route to the peer yet");
  }
  agent_.NoteDataSent(data.size, loop_.NowMs());
  return sockets_[static_cast<size_t>(route->socketId)]->SendTo(route->remote, data);
}

// Lets the agent act on what just happened (a check to send, a pair to nominate) now rather
// than at the next tick; its own pacing still spaces ordinary checks.
void IceTransport::Pump() {
  agent_.Tick(loop_.NowMs());
  Flush();
}

void IceTransport::Flush() {
  for (auto& p : agent_.TakeOutgoing()) {
    if (p.socketId < 0 || static_cast<size_t>(p.socketId) >= sockets_.size()) continue;
    sockets_[static_cast<size_t>(p.socketId)]->SendTo(p.to, ByteSpan(p.bytes));
  }
}

void IceTransport::ScheduleTick() {
  const bool checking = agent_.state() != ice::IceState::kConnected;
  tick_.StartRepeating(checking ? kFastTickMs : kSlowTickMs, [this] {
    const ice::IceState before = agent_.state();
    agent_.Tick(loop_.NowMs());
    Flush();
    const ice::IceState after = agent_.state();
    if (after == ice::IceState::kClosed || after == ice::IceState::kFailed) {
      tick_.Stop();
    } else if ((before == ice::IceState::kConnected) != (after == ice::IceState::kConnected)) {
      ScheduleTick();
    }
  });
}

}  // namespace kvs::pc
