#include "turn/turn_client.h"

#include <algorithm>

#include "stun/channel_data.h"
#include "stun/stun_codec.h"
#include "stun/stun_integrity.h"

namespace kvs::turn {
namespace {

using stun::Class;
using stun::Method;
namespace attr = stun::attr;
namespace error = stun::error;

std::string KeyOf(const stun::TransactionId& id) {
  return std::string(reinterpret_cast<const char*>(id.data()), id.size());
}

// Refresh `early` seconds before the end, or at half the lifetime when it is that short.
uint64_t RefreshDelayMs(uint32_t lifetimeSec, uint32_t earlySec) {
  const uint32_t s = lifetimeSec > 2 * earlySec ? lifetimeSec - earlySec : lifetimeSec / 2;
  return static_cast<uint64_t>(std::max<uint32_t>(s, 1)) * 1000;
}

std::string Describe(const stun::ErrorCode& e) {
  return std::to_string(e.code) + (e.reason.empty() ? "" : " " + e.reason);
}

constexpr uint32_t kMaxNonceRetries = 3;

}  // namespace

const char* ToString(TurnState state) {
  switch (state) {
    case TurnState::kNew:
      return "new";
    case TurnState::kAllocating:
      return "allocating";
    case TurnState::kAllocated:
      return "allocated";
    case TurnState::kDeallocating:
      return "deallocating";
    case TurnState::kClosed:
      return "closed";
    case TurnState::kFailed:
      return "failed";
  }
  return "new";
}

TurnClient::TurnClient(TurnClientConfig config, TurnRandom random)
    : config_(std::move(config)), random_(std::move(random)) {}

stun::TransactionId TurnClient::NewTid() {
  stun::TransactionId id{};
  random_(id.data(), id.size());
  return id;
}

std::optional<stun::TurnCredentials> TurnClient::Credentials() const {
  if (nonce_.empty()) return std::nullopt;
  return stun::TurnCredentials{config_.username, realm_, nonce_};
}

Status TurnClient::Start(uint64_t nowMs) {
  if (state_ != TurnState::kNew) return Status::Fail("ERR_INVALID_STATE", "already started");
  state_ = TurnState::kAllocating;
  const uint32_t lifetime = config_.lifetimeSec;
  const std::optional<net::Family> family = config_.relayFamily;
  Send(
      Kind::kAllocate,
      [lifetime, family](const stun::TransactionId& tid,
                         const std::optional<stun::TurnCredentials>& c) {
        stun::AllocateParams p;
        p.lifetime = lifetime;
        p.family = family;
        p.credentials = c;
        return stun::AllocateRequest(tid, p);
      },
      nowMs);
  return Status::Ok();
}

void TurnClient::Send(Kind kind, Builder build, uint64_t nowMs, const net::Address& peer,
                      uint16_t channel, uint32_t nonceRetries) {
  const stun::TransactionId tid = NewTid();
  const auto credentials = Credentials();
  stun::Message m = build(tid, credentials);
  Result<std::vector<uint8_t>> bytes = credentials ? stun::SerializeWithIntegrity(m, key_, true)
                                                   : stun::Serialize(m, {false, false, {}, true});
  if (!bytes.ok()) {
    // Only oversized attributes fail here, which our own requests never have.
    Fail(bytes.status());
    return;
  }
  if (credentials) sentCredentials_ = true;
  const bool stream = config_.transport != TurnTransport::kUdp;
  Transaction t{kind,
                std::move(build),
                bytes.value(),
                nowMs,
                nowMs + (stream ? config_.streamTransactionTimeoutMs : config_.initialRtoMs),
                1,
                config_.initialRtoMs,
                nonceRetries,
                peer,
                channel};
  outgoing_.push_back(bytes.take());
  ++counters_.requestsSent;
  transactions_[KeyOf(tid)] = std::move(t);
}

bool TurnClient::HandleIncoming(ByteSpan packet, uint64_t nowMs) {
  if (state_ == TurnState::kClosed || state_ == TurnState::kFailed) return false;
  if (stun::IsChannelData(packet)) {
    auto cd = stun::ParseChannelData(packet);
    if (!cd.ok()) return false;
    auto it = channelPeers_.find(cd.value().channel);
    if (it == channelPeers_.end()) return false;
    ++counters_.channelDataReceived;
    HandleData(it->second, cd.value().data);
    return true;
  }
  auto parsed = stun::Parse(packet);
  if (!parsed.ok()) return false;
  const stun::Message& m = parsed.value();
  // A damaged message is dropped like a lost one.
  if (m.hadFingerprint && !stun::CheckFingerprint(packet).ok()) return false;
  if (m.Is(Method::kData, Class::kIndication)) {
    auto d = stun::ReadDataIndication(m);
    if (!d.ok()) return false;
    ++counters_.dataIndications;
    HandleData(d.value().peer, d.value().data);
    return true;
  }
  if (m.cls != Class::kSuccessResponse && m.cls != Class::kErrorResponse) return false;
  if (transactions_.count(KeyOf(m.transactionId)) == 0) return false;  // late or stray
  HandleResponse(packet, m, nowMs);
  return true;
}

void TurnClient::HandleData(const net::Address& peer, ByteSpan data) {
  if (state_ != TurnState::kAllocated && state_ != TurnState::kDeallocating) return;
  if (onData) onData(peer, data);
}

void TurnClient::HandleResponse(ByteSpan raw, const stun::Message& m, uint64_t nowMs) {
  auto it = transactions_.find(KeyOf(m.transactionId));
  // An authenticated request's success must carry a valid MESSAGE-INTEGRITY (RFC 8489
  // §9.2.4); error answers may not (a 401 or 438 cannot). A forged answer is dropped and
  // the transaction goes on.
  if (!key_.empty() && m.cls == Class::kSuccessResponse) {
    if (!stun::CheckMessageIntegrity(raw, key_).ok()) return;
  }
  Transaction t = std::move(it->second);
  transactions_.erase(it);
  ++counters_.responsesReceived;
  if (t.transmissions == 1) {
    counters_.lastRttMs = nowMs >= t.sentMs ? nowMs - t.sentMs : 0;
    counters_.totalRttMs += counters_.lastRttMs;
    ++counters_.rttSamples;
  }
  if (m.cls == Class::kSuccessResponse) {
    OnSuccess(t, m, nowMs);
    return;
  }
  const stun::ErrorCode e = m.GetErrorCode().value_or(stun::ErrorCode{0, "no ERROR-CODE"});
  if (e.code == error::kUnauthorized && t.kind == Kind::kAllocate && !sentCredentials_) {
    auto c = stun::ReadChallenge(m);
    if (!c.ok()) {
      Fail(Status::Fail("ERR_TURN_AUTH", "unusable 401 challenge: " + c.status().message()));
      return;
    }
    realm_ = c.value().realm;
    nonce_ = c.value().nonce;
    key_ = stun::LongTermKey(config_.username, realm_, config_.password);
    Send(t.kind, std::move(t.build), nowMs, t.peer, t.channel, t.nonceRetries);
    return;
  }
  // 438, or a 401 carrying a nonce other than ours (some servers answer an expired nonce so):
  // the same request again with the new nonce, a bounded number of times.
  if ((e.code == error::kStaleNonce || e.code == error::kUnauthorized) &&
      t.nonceRetries < kMaxNonceRetries) {
    auto c = stun::ReadChallenge(m);
    if (c.ok() && (e.code == error::kStaleNonce || c.value().nonce != nonce_)) {
      ++counters_.staleNonces;
      nonce_ = c.value().nonce;
      if (!c.value().realm.empty() && c.value().realm != realm_) {
        realm_ = c.value().realm;
        key_ = stun::LongTermKey(config_.username, realm_, config_.password);
      }
      Send(t.kind, std::move(t.build), nowMs, t.peer, t.channel, t.nonceRetries + 1);
      return;
    }
  }
  const bool auth = e.code == error::kUnauthorized || e.code == error::kWrongCredentials;
  OnFailure(t, Status::Fail(auth ? "ERR_TURN_AUTH" : "", Describe(e)));
}

void TurnClient::OnSuccess(Transaction& t, const stun::Message& m, uint64_t nowMs) {
  switch (t.kind) {
    case Kind::kAllocate: {
      if (state_ != TurnState::kAllocating) return;
      auto a = stun::ReadAllocateSuccess(m);
      if (!a.ok() || a.value().relayed.empty()) {
        Fail(Status::Fail("ERR_TURN_ALLOCATION",
                          "malformed Allocate success: " + a.status().message()));
        return;
      }
      relayed_ = a.value().relayed.front();
      mapped_ = a.value().mapped;
      lifetimeSec_ = a.value().lifetime;
      refreshAtMs_ = nowMs + RefreshDelayMs(lifetimeSec_, config_.refreshEarlySec);
      state_ = TurnState::kAllocated;
      ++counters_.allocations;
      if (onAllocated) onAllocated(*relayed_, mapped_.value_or(net::Address()));
      if (state_ == TurnState::kAllocated) StartPending(nowMs);
      return;
    }
    case Kind::kRefresh: {
      refreshing_ = false;
      if (state_ != TurnState::kAllocated) return;
      lifetimeSec_ = m.GetU32(attr::kLifetime).value_or(lifetimeSec_);
      refreshAtMs_ = nowMs + RefreshDelayMs(lifetimeSec_, config_.refreshEarlySec);
      ++counters_.refreshes;
      return;
    }
    case Kind::kDeallocate:
      ++counters_.deallocations;
      Finish();
      return;
    case Kind::kPermission: {
      auto it = permissions_.find(t.peer.IpString());
      if (it == permissions_.end()) return;
      Permission& p = it->second;
      if (p.installed) ++counters_.permissionRefreshes;
      p.installed = true;
      p.pending = false;
      p.refreshAtMs =
          nowMs + RefreshDelayMs(config_.permissionLifetimeSec, config_.permissionRefreshEarlySec);
      FlushQueued(p);
      return;
    }
    case Kind::kChannelBind: {
      auto it = channels_.find(t.peer);
      if (it == channels_.end()) return;
      if (it->second.bound) ++counters_.channelRefreshes;
      it->second.bound = true;
      it->second.pending = false;
      it->second.refreshAtMs =
          nowMs + RefreshDelayMs(config_.channelLifetimeSec, config_.channelRefreshEarlySec);
      return;
    }
  }
}

void TurnClient::OnFailure(Transaction& t, const Status& why) {
  const std::string& code = why.code();
  switch (t.kind) {
    case Kind::kAllocate:
      Fail(Status::Fail(code.empty() ? "ERR_TURN_ALLOCATION" : code,
                        "Allocate failed: " + why.message()));
      return;
    case Kind::kRefresh:
      refreshing_ = false;
      Fail(Status::Fail(code.empty() ? "ERR_TURN_ALLOCATION" : code,
                        "Refresh failed: " + why.message()));
      return;
    case Kind::kDeallocate:
      // The allocation is gone or will expire by itself; closing goes on.
      Finish();
      return;
    case Kind::kPermission: {
      auto it = permissions_.find(t.peer.IpString());
      if (it != permissions_.end()) {
        // Forget it, queued data included: a later SendTo or AddPermission tries again.
        permissions_.erase(it);
      }
      if (onError) {
        onError(Status::Fail("ERR_TURN_PERMISSION",
                             "CreatePermission for " + t.peer.IpString() + ": " + why.message()));
      }
      return;
    }
    case Kind::kChannelBind: {
      auto it = channels_.find(t.peer);
      // A bound channel that failed to refresh expires on the server: fall back to Send
      // indications for that peer.
      if (it != channels_.end()) {
        channelPeers_.erase(it->second.number);
        channels_.erase(it);
      }
      if (onError) {
        onError(Status::Fail("ERR_TURN_CHANNEL",
                             "ChannelBind for " + t.peer.ToString() + ": " + why.message()));
      }
      return;
    }
  }
}

void TurnClient::Fail(Status status) {
  if (state_ == TurnState::kFailed || state_ == TurnState::kClosed) return;
  state_ = TurnState::kFailed;
  // Only the transactions: Fail() can run while the permission or channel maps are walked.
  transactions_.clear();
  if (onError) onError(status);
}

void TurnClient::Finish() {
  if (state_ == TurnState::kClosed) return;
  state_ = TurnState::kClosed;
  transactions_.clear();
  permissions_.clear();
  channels_.clear();
  channelPeers_.clear();
  if (onClosed) onClosed();
}

void TurnClient::Tick(uint64_t nowMs) {
  if (state_ == TurnState::kClosed || state_ == TurnState::kFailed) return;
  const bool stream = config_.transport != TurnTransport::kUdp;
  const std::optional<uint64_t> due = NextTickMs();
  const uint64_t stallMs = due && nowMs > *due + config_.stallThresholdMs ? nowMs - *due : 0;
  std::vector<Key> expired;
  for (auto& [key, t] : transactions_) {
    if (nowMs < t.nextMs) continue;
    if (stream || t.transmissions >= config_.maxTransmissions) {
      if (stallMs != 0) {
        // Strictly later than now, so the owner's next tick comes after a read of the socket.
        t.nextMs = std::max(t.nextMs + stallMs, nowMs + 1);
        continue;
      }
      expired.push_back(key);
      continue;
    }
    ++t.transmissions;
    ++counters_.retransmissions;
    t.rtoMs *= 2;
    t.nextMs = nowMs + (t.transmissions >= config_.maxTransmissions
                            ? static_cast<uint64_t>(config_.initialRtoMs) * config_.lastWaitRtos
                            : t.rtoMs);
    outgoing_.push_back(t.bytes);
  }
  for (const Key& key : expired) {
    auto it = transactions_.find(key);
    if (it == transactions_.end()) continue;  // a failure above cleared the table
    Transaction t = std::move(it->second);
    transactions_.erase(it);
    const Status timeout = Status::Fail(
        t.kind == Kind::kAllocate || t.kind == Kind::kRefresh ? "ERR_TURN_TIMEOUT" : "",
        "no answer from the TURN server");
    OnFailure(t, timeout);
    if (state_ == TurnState::kClosed || state_ == TurnState::kFailed) return;
  }
  if (state_ != TurnState::kAllocated) return;
  if (!refreshing_ && nowMs >= refreshAtMs_) {
    refreshing_ = true;
    const uint32_t lifetime = config_.lifetimeSec;
    Send(
        Kind::kRefresh,
        [lifetime](const stun::TransactionId& tid, const std::optional<stun::TurnCredentials>& c) {
          return stun::RefreshRequest(tid, lifetime, c);
        },
        nowMs);
  }
  for (auto& [ip, p] : permissions_) {
    if (p.installed && !p.pending && nowMs >= p.refreshAtMs) RequestPermission(p.address, nowMs);
  }
  for (auto& [peer, c] : channels_) {
    if (c.bound && !c.pending && nowMs >= c.refreshAtMs) RequestChannel(peer, c.number, nowMs);
  }
}

std::optional<uint64_t> TurnClient::NextTickMs() const {
  if (state_ == TurnState::kClosed || state_ == TurnState::kFailed) return std::nullopt;
  std::optional<uint64_t> next;
  auto consider = [&next](uint64_t t) { next = next ? std::min(*next, t) : t; };
  for (const auto& [key, t] : transactions_) consider(t.nextMs);
  if (state_ == TurnState::kAllocated) {
    if (!refreshing_) consider(refreshAtMs_);
    for (const auto& [ip, p] : permissions_) {
      if (p.installed && !p.pending) consider(p.refreshAtMs);
    }
    for (const auto& [peer, c] : channels_) {
      if (c.bound && !c.pending) consider(c.refreshAtMs);
    }
  }
  return next;
}

std::vector<std::vector<uint8_t>> TurnClient::TakeOutgoing() {
  std::vector<std::vector<uint8_t>> out;
  out.swap(outgoing_);
  return out;
}

Status TurnClient::AddPermission(const net::Address& peer, uint64_t nowMs) {
  if (state_ != TurnState::kNew && state_ != TurnState::kAllocating &&
      state_ != TurnState::kAllocated) {
    return Status::Fail("ERR_INVALID_STATE", std::string("TURN client is ") + ToString(state_));
  }
  const std::string ip = peer.IpString();
  auto [pit, newPermission] = permissions_.try_emplace(ip);
  if (newPermission) {
    pit->second.address = peer;
    if (state_ == TurnState::kAllocated) RequestPermission(peer, nowMs);
  }
  if (config_.useChannels && channels_.count(peer) == 0) {
    if (nextChannel_ > stun::kMaxChannelNumber) return Status::Ok();  // Send indications then
    Channel& c = channels_[peer];
    c.number = nextChannel_++;
    channelPeers_[c.number] = peer;
    if (state_ == TurnState::kAllocated) RequestChannel(peer, c.number, nowMs);
  }
  return Status::Ok();
}

void TurnClient::StartPending(uint64_t nowMs) {
  for (auto& [ip, p] : permissions_) {
    if (!p.installed && !p.pending) RequestPermission(p.address, nowMs);
  }
  for (auto& [peer, c] : channels_) {
    if (!c.bound && !c.pending) RequestChannel(peer, c.number, nowMs);
  }
}

void TurnClient::RequestPermission(const net::Address& peer, uint64_t nowMs) {
  permissions_[peer.IpString()].pending = true;
  Send(
      Kind::kPermission,
      [peer](const stun::TransactionId& tid, const std::optional<stun::TurnCredentials>& c) {
        return stun::CreatePermissionRequest(tid, {peer}, c);
      },
      nowMs, peer);
}

void TurnClient::RequestChannel(const net::Address& peer, uint16_t number, uint64_t nowMs) {
  channels_[peer].pending = true;
  Send(
      Kind::kChannelBind,
      [peer, number](const stun::TransactionId& tid,
                     const std::optional<stun::TurnCredentials>& c) {
        return stun::ChannelBindRequest(tid, number, peer, c);
      },
      nowMs, peer, number);
}

Result<std::vector<uint8_t>> TurnClient::DataMessage(const net::Address& peer, ByteSpan data) {
  auto c = channels_.find(peer);
  if (c != channels_.end() && c->second.bound) {
    ++counters_.channelDataSent;
    return stun::SerializeChannelData(c->second.number, data,
                                      config_.transport != TurnTransport::kUdp);
  }
  ++counters_.sendIndications;
  return stun::Serialize(stun::SendIndication(NewTid(), peer, data));
}

void TurnClient::FlushQueued(Permission& permission) {
  auto queued = std::move(permission.queued);
  permission.queued.clear();
  for (auto& [peer, data] : queued) {
    auto bytes = DataMessage(peer, data);
    if (bytes.ok()) outgoing_.push_back(bytes.take());
  }
}

Status TurnClient::SendTo(const net::Address& peer, ByteSpan data, uint64_t nowMs) {
  Status s = AddPermission(peer, nowMs);
  if (!s.ok()) return s;
  Permission& p = permissions_[peer.IpString()];
  if (!p.installed) {
    if (p.queued.size() >= config_.maxQueuedPerPeer) {
      return Status::Fail("ERR_TURN_QUEUE_FULL",
                          "the permission for " + peer.IpString() + " is not installed yet");
    }
    p.queued.emplace_back(peer, std::vector<uint8_t>(data.data, data.data + data.size));
    return Status::Ok();
  }
  auto bytes = DataMessage(peer, data);
  if (!bytes.ok()) return bytes.status();
  outgoing_.push_back(bytes.take());
  return Status::Ok();
}

void TurnClient::Close(uint64_t nowMs) {
  if (state_ == TurnState::kClosed || state_ == TurnState::kDeallocating) return;
  const bool allocated = state_ == TurnState::kAllocated;
  transactions_.clear();
  permissions_.clear();
  if (!allocated) {
    Finish();
    return;
  }
  state_ = TurnState::kDeallocating;
  Send(
      Kind::kDeallocate,
      [](const stun::TransactionId& tid, const std::optional<stun::TurnCredentials>& c) {
        return stun::RefreshRequest(tid, 0, c);
      },
      nowMs);
}

bool TurnClient::HasPermission(const net::Address& peer) const {
  auto it = permissions_.find(peer.IpString());
  return it != permissions_.end() && it->second.installed;
}

std::optional<uint16_t> TurnClient::ChannelFor(const net::Address& peer) const {
  auto it = channels_.find(peer);
  if (it == channels_.end() || !it->second.bound) return std::nullopt;
  return it->second.number;
}

}  // namespace kvs::turn
