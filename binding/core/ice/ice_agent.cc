#include "ice/ice_agent.h"

#include "crypto/random.h"

#include <algorithm>
#include <cstring>

#include "net/sockaddr.h"
#include "stun/stun_codec.h"
#include "stun/stun_integrity.h"

namespace kvs::ice {
namespace {

using stun::Class;
using stun::Method;
namespace attr = stun::attr;

std::string KeyOf(const stun::TransactionId& id) {
  return std::string(reinterpret_cast<const char*>(id.data()), id.size());
}

ByteSpan SpanOf(const std::string& s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace

const char* ToString(IceState state) {
  switch (state) {
    case IceState::kNew:
      return "new";
    case IceState::kChecking:
      return "checking";
    case IceState::kConnected:
      return "connected";
    case IceState::kDisconnected:
      return "disconnected";
    case IceState::kFailed:
      return "failed";
    case IceState::kClosed:
      return "closed";
  }
  return "new";
}

RandomSource CryptoRandom() { return crypto::UniqueBytes; }

IceAgent::IceAgent(IceAgentConfig config, RandomSource random)
    : config_(std::move(config)), random_(std::move(random)), tieBreaker_(RandomU64()) {}

uint64_t IceAgent::RandomU64() {
  uint8_t b[8];
  random_(b, sizeof b);
  uint64_t v = 0;
  for (uint8_t x : b) v = (v << 8) | x;
  return v;
}

stun::TransactionId IceAgent::NewTransactionId() {
  stun::TransactionId id{};
  random_(id.data(), id.size());
  return id;
}

void IceAgent::SetState(IceState state) {
  if (state_ == state) return;
  state_ = state;
  if (onStateChange) onStateChange(state);
}

int IceAgent::AddLocalCandidate(Candidate candidate) {
  local_.push_back(std::move(candidate));
  PairLocal(local_.size() - 1);
  return static_cast<int>(local_.size() - 1);
}

Status IceAgent::AddRemoteCandidate(Candidate candidate, uint64_t nowMs) {
  if (candidate.component != 1) {
    // With rtcp-mux and BUNDLE there is one component; RTCP candidates are ignored.
    return Status::Ok();
  }
  if (candidate.transport == TransportProtocol::kTcp && candidate.tcpType == TcpType::kNone) {
    return Status::Fail("ERR_ICE_UNSUPPORTED_CANDIDATE",
                        "TCP candidate " + candidate.address.ToString() +
                            " skipped: only tcptype active and passive are supported (RFC 6544)");
  }
  for (auto& r : remote_) {
    if (r.address == candidate.address && r.transport == candidate.transport &&
        r.tcpType == candidate.tcpType) {
      // A signalled candidate we already learned as peer-reflexive: adopt its details.
      if (r.type == CandidateType::kPeerReflexive) {
        r.type = candidate.type;
        r.foundation = candidate.foundation;
      }
      return Status::Ok();
    }
  }
  remote_.push_back(std::move(candidate));
  PairRemote(remote_.size() - 1);
  MaybeStartChecks(nowMs);
  return Status::Ok();
}

void IceAgent::SetRemoteCredentials(IceCredentials credentials, uint64_t nowMs) {
  if (remoteCredentials_ && (remoteCredentials_->ufrag != credentials.ufrag ||
                             remoteCredentials_->pwd != credentials.pwd)) {
    // The peer restarted ICE: its candidates and our pairs belong to the old generation.
    remote_.clear();
    pairs_.clear();
    triggered_.clear();
    transactions_.clear();
    nominating_.reset();
    firstSuccessMs_ = 0;
    remoteEndOfCandidates_ = false;
    // The selected pair index is gone with the pairs; its route is kept by the transport
    // until a new pair is selected.
    selected_.reset();
    if (state_ != IceState::kNew) SetState(IceState::kChecking);
    checksStartedMs_.reset();  // the new generation's candidates may come later
  }
  remoteCredentials_ = std::move(credentials);
  MaybeStartChecks(nowMs);
}

void IceAgent::Restart(IceCredentials local) {
  config_.local = std::move(local);
  remoteCredentials_.reset();
  remote_.clear();
  pairs_.clear();
  triggered_.clear();
  transactions_.clear();
  nominating_.reset();
  selected_.reset();
  firstSuccessMs_ = 0;
  checksStartedMs_.reset();  // until the peer's answer brings credentials and candidates
  remoteEndOfCandidates_ = false;
  SetState(IceState::kChecking);
}

void IceAgent::ClearLocalCandidates() {
  if (selected_) return;
  local_.clear();
  pairs_.clear();
  triggered_.clear();
  transactions_.clear();
  nominating_.reset();
  firstSuccessMs_ = 0;
  checksStartedMs_.reset();  // counts again from the first new pair
}

bool IceAgent::ChecksCanRun() const { return remoteCredentials_.has_value() && !pairs_.empty(); }

void IceAgent::MaybeStartChecks(uint64_t nowMs) {
  if (checksStartedMs_ || selected_ || !ChecksCanRun()) return;
  checksStartedMs_ = nowMs;
  if (state_ == IceState::kNew) SetState(IceState::kChecking);
}

void IceAgent::ForgiveStall(uint64_t gapMs, uint64_t nowMs) {
  // Deadlines stand still for the gap. Retransmissions that fell due are still sent now;
  // only the give-ups move.
  auto shift = [gapMs, nowMs](uint64_t& t) { t = std::min(t + gapMs, nowMs); };
  if (checksStartedMs_) shift(*checksStartedMs_);
  if (firstSuccessMs_ != 0) shift(firstSuccessMs_);
  if (selected_) shift(lastConsentMs_);
  for (auto& [key, t] : transactions_) {
    if (t.transmissions >= config_.checkMaxTransmissions) t.nextRetransmitMs += gapMs;
  }
}

void IceAgent::PairLocal(size_t localIndex) {
  for (size_t r = 0; r < remote_.size(); ++r) AddPair(localIndex, r);
}

void IceAgent::PairRemote(size_t remoteIndex) {
  for (size_t l = 0; l < local_.size(); ++l) AddPair(l, remoteIndex);
}

void IceAgent::AddPair(size_t localIndex, size_t remoteIndex, bool learned) {
  const Candidate& l = local_[localIndex];
  const Candidate& r = remote_[remoteIndex];
  if (l.address.family() != r.address.family() || l.transport != r.transport) return;
  if (l.transport == TransportProtocol::kTcp) {
    // RFC 6544 §6.2: we connect from an active candidate to a passive one. A passive
    // candidate pairs only with the peer-reflexive source of a connection it accepted.
    const bool outgoing = l.tcpType == TcpType::kActive && r.tcpType == TcpType::kPassive;
    const bool incoming = learned && l.tcpType == TcpType::kPassive;
    if (!outgoing && !incoming) return;
  }
  // A loopback socket reaches nothing but this host's loopback: pairing it with any other
  // address would only send checks to this machine's own interfaces, or fail.
  if (net::IsLoopback(l.address) != net::IsLoopback(r.address)) return;
  // Server-reflexive locals share their base's socket: the host pair already covers them.
  if (l.type == CandidateType::kServerReflexive) return;
  for (const auto& p : pairs_) {
    if (local_[p.localIndex].socketId == l.socketId &&
        remote_[p.remoteIndex].address == r.address) {
      return;
    }
  }
  CandidatePair pair;
  pair.localIndex = static_cast<int>(localIndex);
  pair.remoteIndex = static_cast<int>(remoteIndex);
  pair.priority = config_.role == IceRole::kControlling ? PairPriority(l.priority, r.priority)
                                                        : PairPriority(r.priority, l.priority);
  pair.state = PairState::kWaiting;
  pairs_.push_back(pair);
}

void IceAgent::SwitchRole(IceRole role) {
  config_.role = role;
  // Pair priorities depend on which side is controlling.
  for (auto& p : pairs_) {
    const uint32_t l = local_[p.localIndex].priority;
    const uint32_t r = remote_[p.remoteIndex].priority;
    p.priority = role == IceRole::kControlling ? PairPriority(l, r) : PairPriority(r, l);
  }
}

std::optional<size_t> IceAgent::FindPair(int socketId, const net::Address& remote) const {
  for (size_t i = 0; i < pairs_.size(); ++i) {
    if (local_[pairs_[i].localIndex].socketId == socketId &&
        remote_[pairs_[i].remoteIndex].address == remote) {
      return i;
    }
  }
  return std::nullopt;
}

std::optional<size_t> IceAgent::FindLocalBySocket(int socketId) const {
  for (size_t i = 0; i < local_.size(); ++i) {
    if (local_[i].socketId == socketId && local_[i].type != CandidateType::kServerReflexive) {
      return i;
    }
  }
  return std::nullopt;
}

void IceAgent::StartCheck(size_t pairIndex, bool useCandidate, bool consent, uint64_t nowMs) {
  if (!remoteCredentials_) return;
  CandidatePair& pair = pairs_[pairIndex];
  const Candidate& l = local_[pair.localIndex];
  stun::Message m(Method::kBinding, Class::kRequest, NewTransactionId());
  m.AddText(attr::kUsername, remoteCredentials_->ufrag + ":" + config_.local.ufrag);
  // RFC 8445 §7.1.1: the priority a peer-reflexive candidate learned from this check gets.
  m.AddU32(attr::kPriority,
           ComputePriority(CandidateType::kPeerReflexive, static_cast<uint16_t>(l.priority >> 8),
                           l.component, l.transport));
  if (config_.role == IceRole::kControlling) {
    m.AddU64(attr::kIceControlling, tieBreaker_);
    if (useCandidate) m.AddFlag(attr::kUseCandidate);
  } else {
    m.AddU64(attr::kIceControlled, tieBreaker_);
  }
  auto bytes = stun::SerializeWithIntegrity(m, SpanOf(remoteCredentials_->pwd));
  if (!bytes.ok()) return;
  Transaction t{pairIndex,
                nowMs,
                nowMs + config_.checkInitialRtoMs,
                1,
                config_.checkInitialRtoMs,
                useCandidate,
                consent,
                bytes.value()};
  outgoing_.push_back({l.socketId, remote_[pair.remoteIndex].address, bytes.take()});
  transactions_[KeyOf(m.transactionId)] = std::move(t);
  if (!consent && pair.state != PairState::kSucceeded) pair.state = PairState::kInProgress;
  pair.stats.requestsSent++;
  if (consent) pair.stats.consentRequestsSent++;
  if (pair.stats.firstRequestTimestampMs == 0) pair.stats.firstRequestTimestampMs = nowMs;
  pair.stats.lastRequestTimestampMs = nowMs;
}

bool IceAgent::HandleStun(int socketId, const net::Address& from, ByteSpan datagram,
                          uint64_t nowMs) {
  if (state_ == IceState::kClosed) return false;
  auto parsed = stun::Parse(datagram);
  if (!parsed.ok()) return false;
  const stun::Message& m = parsed.value();
  if (m.method != Method::kBinding) return false;
  switch (m.cls) {
    case Class::kRequest:
      HandleRequest(socketId, from, datagram, m, nowMs);
      return true;
    case Class::kSuccessResponse:
    case Class::kErrorResponse:
      HandleResponse(socketId, from, datagram, m, nowMs);
      return true;
    case Class::kIndication:
      return true;  // keepalives: nothing to answer
  }
  return false;
}

void IceAgent::SendResponse(int socketId, const net::Address& to, const stun::Message& request,
                            std::optional<uint16_t> errorCode) {
  stun::Message r(Method::kBinding, errorCode ? Class::kErrorResponse : Class::kSuccessResponse,
                  request.transactionId);
  if (errorCode) {
    r.AddErrorCode(*errorCode, stun::DefaultReason(*errorCode));
  } else {
    r.AddXorAddress(attr::kXorMappedAddress, to);
  }
  // A 400 or 401 cannot be authenticated: the request's credentials were the problem.
  const bool sign = !errorCode || *errorCode == 487;
  auto bytes = sign ? stun::SerializeWithIntegrity(r, SpanOf(config_.local.pwd))
                    : stun::Serialize(r, stun::EncodeOptions{false, false, {}, true, 0});
  if (bytes.ok()) outgoing_.push_back({socketId, to, bytes.take()});
}

void IceAgent::HandleRequest(int socketId, const net::Address& from, ByteSpan raw,
                             const stun::Message& m, uint64_t nowMs) {
  auto username = m.GetText(attr::kUsername);
  if (!username || !m.hadMessageIntegrity || !m.hadFingerprint) {
    SendResponse(socketId, from, m, 400);
    return;
  }
  if (!stun::CheckFingerprint(raw).ok()) return;
  const std::string expectedPrefix = config_.local.ufrag + ":";
  if (username->substr(0, expectedPrefix.size()) != expectedPrefix ||
      !stun::CheckMessageIntegrity(raw, SpanOf(config_.local.pwd)).ok()) {
    SendResponse(socketId, from, m, 401);
    return;
  }
  // Role conflict (RFC 8445 §7.3.1.1): the larger tie-breaker keeps controlling.
  if (config_.role == IceRole::kControlling && m.Has(attr::kIceControlling)) {
    if (tieBreaker_ >= m.GetU64(attr::kIceControlling).value_or(0)) {
      SendResponse(socketId, from, m, 487);
      return;
    }
    SwitchRole(IceRole::kControlled);
  } else if (config_.role == IceRole::kControlled && m.Has(attr::kIceControlled)) {
    if (tieBreaker_ >= m.GetU64(attr::kIceControlled).value_or(0)) {
      SwitchRole(IceRole::kControlling);
    } else {
      SendResponse(socketId, from, m, 487);
      return;
    }
  }
  auto localIndex = FindLocalBySocket(socketId);
  if (!localIndex) return;
  // Same rule as pairing: no answer from a loopback socket to a non-loopback source.
  if (net::IsLoopback(local_[*localIndex].address) != net::IsLoopback(from)) return;
  SendResponse(socketId, from, m, std::nullopt);
  auto pairIndex = FindPair(socketId, from);
  if (!pairIndex) {
    // A source we were not told about: a peer-reflexive candidate (RFC 8445 §7.3.1.3).
    Candidate prflx;
    prflx.type = CandidateType::kPeerReflexive;
    prflx.transport = local_[*localIndex].transport;
    // Over TCP the source is the peer's end of a connection it opened to us.
    if (prflx.transport == TransportProtocol::kTcp) prflx.tcpType = TcpType::kActive;
    prflx.address = from;
    prflx.priority = m.GetU32(attr::kPriority).value_or(0);
    prflx.foundation = "prflx" + std::to_string(remote_.size());
    remote_.push_back(prflx);
    AddPair(*localIndex, remote_.size() - 1, /*learned=*/true);
    pairIndex = FindPair(socketId, from);
    if (!pairIndex) return;
    MaybeStartChecks(nowMs);
  }
  CandidatePair& pair = pairs_[*pairIndex];
  pair.stats.requestsReceived++;
  pair.stats.responsesSent++;
  const bool useCandidate = m.Has(attr::kUseCandidate) && config_.role == IceRole::kControlled;
  if (pair.state == PairState::kSucceeded) {
    if (useCandidate) {
      pair.nominated = true;
      Select(*pairIndex, nowMs);
    }
    return;
  }
  if (useCandidate) pair.nominateOnSuccess = true;
  // A triggered check makes the path usable both ways quickly (RFC 8445 §7.3.1.4). A check
  // already in progress is superseded too: its transmissions may all have been lost (sent
  // through a relay before the peer's TURN permission existed), and the peer's request shows
  // the path works now; waiting for its next retransmission could take 1.6 s, or forever
  // after its last one.
  if (pair.state == PairState::kInProgress) {
    for (auto& [key, t] : transactions_) {
      if (t.pair == *pairIndex && !t.consent) t.cancelled = true;
    }
  }
  pair.state = PairState::kWaiting;
  if (std::find(triggered_.begin(), triggered_.end(), *pairIndex) == triggered_.end()) {
    triggered_.push_back(*pairIndex);
  }
}

void IceAgent::HandleResponse(int socketId, const net::Address& from, ByteSpan raw,
                              const stun::Message& m, uint64_t nowMs) {
  auto it = transactions_.find(KeyOf(m.transactionId));
  if (it == transactions_.end()) return;
  Transaction t = it->second;
  CandidatePair& pair = pairs_[t.pair];
  // Symmetry (RFC 8445 §7.2.5.2.1): the response must come back the way the check went.
  if (local_[pair.localIndex].socketId != socketId || remote_[pair.remoteIndex].address != from) {
    return;
  }
  if (!remoteCredentials_ ||
      !stun::CheckMessageIntegrity(raw, SpanOf(remoteCredentials_->pwd)).ok()) {
    if (m.cls == Class::kSuccessResponse) return;  // forged or stale: keep waiting
  }
  transactions_.erase(it);
  pair.stats.responsesReceived++;
  pair.stats.lastResponseTimestampMs = nowMs;
  const double rtt = static_cast<double>(nowMs - t.firstSentMs);
  if (t.transmissions == 1) {
    pair.stats.currentRoundTripTimeMs = rtt;
    pair.stats.totalRoundTripTimeMs += rtt;
    pair.stats.roundTripTimeMeasurements++;
  }

  if (m.cls == Class::kErrorResponse) {
    auto error = m.GetErrorCode();
    if (error && error->code == 487 && !t.consent) {
      // Role conflict: switch and check again (RFC 8445 §7.2.5.1).
      SwitchRole(config_.role == IceRole::kControlling ? IceRole::kControlled
                                                       : IceRole::kControlling);
      pair.state = PairState::kWaiting;
      triggered_.push_back(t.pair);
      return;
    }
    if (!t.consent) pair.state = PairState::kFailed;
    return;
  }

  if (t.consent) {
    lastConsentMs_ = nowMs;
    if (state_ == IceState::kDisconnected) SetState(IceState::kConnected);
    return;
  }
  pair.state = PairState::kSucceeded;
  pair.valid = true;
  if (firstSuccessMs_ == 0) firstSuccessMs_ = nowMs;
  if (t.useCandidate || pair.nominateOnSuccess) {
    pair.nominated = true;
    Select(t.pair, nowMs);
  }
}

void IceAgent::Select(size_t pairIndex, uint64_t nowMs) {
  if (selected_ && pairs_[*selected_].priority >= pairs_[pairIndex].priority &&
      *selected_ != pairIndex) {
    return;  // keep the better nominated pair
  }
  const bool changed = selected_ != pairIndex;
  selected_ = pairIndex;
  nominating_.reset();
  lastConsentMs_ = nowMs;
  nextConsentMs_ = nowMs + config_.consentIntervalMs;
  // Checking other pairs is over: keep only what may still be needed for consent.
  triggered_.clear();
  for (auto it = transactions_.begin(); it != transactions_.end();) {
    it = it->second.consent || it->second.pair == pairIndex ? std::next(it)
                                                            : transactions_.erase(it);
  }
  if (changed && onSelectedPairChange) onSelectedPairChange(pairs_[pairIndex]);
  SetState(IceState::kConnected);
}

void IceAgent::MaybeNominate(uint64_t nowMs) {
  if (config_.role != IceRole::kControlling || selected_ || nominating_) return;
  std::optional<size_t> best;
  bool betterPending = false;
  for (size_t i = 0; i < pairs_.size(); ++i) {
    const CandidatePair& p = pairs_[i];
    if (p.valid && (!best || p.priority > pairs_[*best].priority)) best = i;
  }
  if (!best) return;
  for (const auto& p : pairs_) {
    if (p.priority > pairs_[*best].priority &&
        (p.state == PairState::kWaiting || p.state == PairState::kInProgress)) {
      betterPending = true;
    }
  }
  if (betterPending && nowMs < firstSuccessMs_ + config_.nominationWaitMs) return;
  nominating_ = *best;
  StartCheck(*best, /*useCandidate=*/true, /*consent=*/false, nowMs);
}

void IceAgent::Close() {
  if (state_ == IceState::kClosed) return;
  transactions_.clear();
  outgoing_.clear();
  SetState(IceState::kClosed);
}

void IceAgent::Tick(uint64_t nowMs) {
  if (state_ == IceState::kClosed || state_ == IceState::kFailed) return;
  if (lastTickMs_ && nowMs > *lastTickMs_ + config_.stallThresholdMs) {
    ForgiveStall(nowMs - *lastTickMs_, nowMs);
  }
  lastTickMs_ = nowMs;
  MaybeStartChecks(nowMs);  // a local candidate may have completed the first pair

  // Retransmissions (RFC 8489 §6.2.1 with our RTO), and give-ups.
  for (auto it = transactions_.begin(); it != transactions_.end();) {
    Transaction& t = it->second;
    if (nowMs < t.nextRetransmitMs) {
      ++it;
      continue;
    }
    CandidatePair& pair = pairs_[t.pair];
    if (t.transmissions >= config_.checkMaxTransmissions) {
      if (!t.consent && !t.cancelled) {
        pair.state = PairState::kFailed;
        if (nominating_ == t.pair) nominating_.reset();
      }
      it = transactions_.erase(it);
      continue;
    }
    t.transmissions++;
    t.rtoMs = std::min<uint32_t>(t.rtoMs * 2, 1600);
    t.nextRetransmitMs = nowMs + t.rtoMs;
    if (!t.cancelled) {  // a cancelled check only waits out its timeout
      outgoing_.push_back(
          {local_[pair.localIndex].socketId, remote_[pair.remoteIndex].address, t.bytes});
      pair.stats.requestsSent++;
    }
    ++it;
  }

  if (ChecksCanRun() && !selected_ && nowMs >= nextCheckMs_) {
    // One new check per interval (RFC 8445 §6.1.4.2 pacing): triggered first.
    std::optional<size_t> next;
    while (!triggered_.empty() && !next) {
      size_t candidate = triggered_.front();
      triggered_.erase(triggered_.begin());
      if (candidate < pairs_.size() && pairs_[candidate].state == PairState::kWaiting) {
        next = candidate;
      }
    }
    if (!next) {
      for (size_t i = 0; i < pairs_.size(); ++i) {
        if (pairs_[i].state == PairState::kWaiting &&
            (!next || pairs_[i].priority > pairs_[*next].priority)) {
          next = i;
        }
      }
    }
    if (next) {
      StartCheck(*next, false, false, nowMs);
      nextCheckMs_ = nowMs + config_.checkIntervalMs;
    }
  }

  MaybeNominate(nowMs);

  if (!selected_ && state_ == IceState::kChecking) {
    // Valid pairs but no nomination agreed for too long (the peer never nominates, or our
    // nominations keep failing): give up as the C SDK does.
    const bool nominationTimedOut =
        firstSuccessMs_ != 0 && nowMs > firstSuccessMs_ + config_.nominationTimeoutMs;
    const bool timedOut =
        nominationTimedOut || (firstSuccessMs_ == 0 && checksStartedMs_ &&
                               nowMs > *checksStartedMs_ + config_.connectionCheckTimeoutMs);
    bool allFailed = !pairs_.empty();
    for (const auto& p : pairs_) allFailed &= p.state == PairState::kFailed;
    if (timedOut || (allFailed && remoteEndOfCandidates_)) SetState(IceState::kFailed);
    return;
  }

  if (selected_) {
    // Consent freshness (RFC 7675): a check every interval, jittered ±20%.
    if (nowMs >= nextConsentMs_) {
      StartCheck(*selected_, false, true, nowMs);
      const uint32_t jitter =
          static_cast<uint32_t>(RandomU64() % (config_.consentIntervalMs / 5 + 1));
      nextConsentMs_ = nowMs + config_.consentIntervalMs * 4 / 5 + 2 * jitter;
    }
    // Disconnected: nothing heard from the peer, neither a consent response nor DTLS or
    // media on the selected pair (the C SDK's "no traffic"). Consent checks alone come only
    // every 4-6 s (RFC 7675 forbids faster), so without the traffic a disconnected timeout
    // shorter than that would take a live connection for a dead one between two checks.
    // Failed stays on consent alone.
    const uint64_t heardMs =
        std::max(lastConsentMs_, pairs_[*selected_].stats.lastPacketReceivedTimestampMs);
    const uint64_t silent = nowMs - lastConsentMs_;
    if (silent > uint64_t{config_.disconnectedTimeoutMs} + config_.failedTimeoutMs) {
      SetState(IceState::kFailed);
    } else if (nowMs - heardMs > config_.disconnectedTimeoutMs && state_ == IceState::kConnected) {
      SetState(IceState::kDisconnected);
    }
  }
}

void IceAgent::NoteDataReceived(int socketId, const net::Address& from, size_t bytes,
                                uint64_t nowMs) {
  auto pair = FindPair(socketId, from);
  if (!pair) return;
  pairs_[*pair].stats.packetsReceived++;
  pairs_[*pair].stats.bytesReceived += bytes;
  pairs_[*pair].stats.lastPacketReceivedTimestampMs = nowMs;
  // Traffic on the selected pair again: the peer is back (consent has not run out, or the
  // state would be failed).
  if (selected_ == *pair && state_ == IceState::kDisconnected) SetState(IceState::kConnected);
}

void IceAgent::NoteDataSent(size_t bytes, uint64_t nowMs) {
  if (!selected_) return;
  auto& s = pairs_[*selected_].stats;
  s.packetsSent++;
  s.bytesSent += bytes;
  s.lastPacketSentTimestampMs = nowMs;
}

std::vector<OutgoingPacket> IceAgent::TakeOutgoing() { return std::exchange(outgoing_, {}); }

std::optional<IceAgent::Route> IceAgent::route() const {
  if (!selected_) return std::nullopt;
  const CandidatePair& p = pairs_[*selected_];
  return Route{local_[p.localIndex].socketId, remote_[p.remoteIndex].address};
}

const CandidatePair* IceAgent::selectedPair() const {
  return selected_ ? &pairs_[*selected_] : nullptr;
}

}  // namespace kvs::ice
