#include "ice/srflx_gatherer.h"

#include <algorithm>

#include "stun/stun_builders.h"
#include "stun/stun_codec.h"
#include "stun/stun_integrity.h"

namespace kvs::ice {

SrflxGatherer::SrflxGatherer(RandomSource random, uint32_t initialRtoMs, uint32_t maxTransmissions)
    : random_(std::move(random)),
      initialRtoMs_(initialRtoMs),
      maxTransmissions_(maxTransmissions) {}

size_t SrflxGatherer::AddServer(const std::string& url, const net::Address& address) {
  servers_.push_back(address);
  stats_.push_back(StunServerStats{url, 0, 0, 0, 0});
  return servers_.size() - 1;
}

void SrflxGatherer::AddHost(int socketId, const net::Address& host, uint64_t nowMs) {
  for (size_t s = 0; s < servers_.size(); ++s) {
    if (servers_[s].family() != host.family()) continue;
    stun::TransactionId tid{};
    random_(tid.data(), tid.size());
    auto bytes =
        stun::Serialize(stun::BindingRequest(tid), stun::EncodeOptions{false, false, {}, true, 0});
    if (!bytes.ok()) continue;
    outgoing_.push_back({socketId, servers_[s], bytes.value()});
    stats_[s].requestsSent++;
    pending_[std::string(reinterpret_cast<const char*>(tid.data()), tid.size())] =
        Pending{socketId, host, s, nowMs, nowMs + initialRtoMs_, initialRtoMs_, 1, bytes.take()};
  }
}

bool SrflxGatherer::HandleResponse(int socketId, const net::Address& from, ByteSpan datagram,
                                   uint64_t nowMs, std::optional<ServerReflexive>* found) {
  auto parsed = stun::Parse(datagram);
  if (!parsed.ok()) return false;
  const stun::Message& m = parsed.value();
  if (m.method != stun::Method::kBinding ||
      (m.cls != stun::Class::kSuccessResponse && m.cls != stun::Class::kErrorResponse)) {
    return false;
  }
  const std::string key(reinterpret_cast<const char*>(m.transactionId.data()),
                        m.transactionId.size());
  auto it = pending_.find(key);
  if (it == pending_.end()) return false;
  const Pending p = it->second;
  // The answer must come from the server we asked, on the socket we asked from.
  if (p.socketId != socketId || servers_[p.server] != from) return false;
  if (m.hadFingerprint && !stun::CheckFingerprint(datagram).ok()) return false;
  pending_.erase(it);
  StunServerStats& s = stats_[p.server];
  s.responsesReceived++;
  if (p.transmissions == 1) {
    s.totalRoundTripTimeMs += nowMs - p.firstSentMs;
    s.roundTripTimeSamples++;
  }
  if (m.cls != stun::Class::kSuccessResponse) return true;
  auto mapped = m.GetXorAddress(stun::attr::kXorMappedAddress);
  if (!mapped) mapped = m.GetAddress(stun::attr::kMappedAddress);
  // Without a NAT the mapped address is the host's own: a redundant candidate (RFC 8445
  // §5.1.3), and so is one this socket already has.
  if (!mapped || *mapped == p.base) return true;
  const bool known = std::any_of(seen_.begin(), seen_.end(), [&](const auto& e) {
    return e.first == socketId && e.second == *mapped;
  });
  if (known) return true;
  seen_.emplace_back(socketId, *mapped);
  *found = ServerReflexive{socketId, p.base, *mapped, p.server};
  return true;
}

void SrflxGatherer::Tick(uint64_t nowMs) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& p = it->second;
    if (nowMs < p.nextSendMs) {
      ++it;
      continue;
    }
    if (p.transmissions >= maxTransmissions_) {
      it = pending_.erase(it);  // the server did not answer: no candidate from it
      continue;
    }
    p.transmissions++;
    p.rtoMs *= 2;
    p.nextSendMs = nowMs + p.rtoMs;
    outgoing_.push_back({p.socketId, servers_[p.server], p.bytes});
    ++it;
  }
}

std::vector<OutgoingPacket> SrflxGatherer::TakeOutgoing() { return std::exchange(outgoing_, {}); }

}  // namespace kvs::ice
