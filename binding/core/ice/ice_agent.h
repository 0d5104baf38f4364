// The ICE agent (RFC 8445 with trickle, RFC 8838; consent freshness, RFC 7675) as a pure
// state machine: it owns candidates, pairs and STUN transactions, and never touches a
// socket or a clock. The transport feeds it datagrams and the time, and sends what
// TakeOutgoing() returns.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "ice/candidate_pair.h"
#include "ice/ice_candidate.h"
#include "net/address.h"
#include "stun/stun_message.h"

namespace kvs::ice {

enum class IceRole { kControlling, kControlled };
enum class IceState { kNew, kChecking, kConnected, kDisconnected, kFailed, kClosed };

const char* ToString(IceState state);

struct IceCredentials {
  std::string ufrag;
  std::string pwd;
};

struct IceAgentConfig {
  IceRole role = IceRole::kControlling;
  IceCredentials local;
  // The C SDK's defaults (c-sdk.md §3, §5).
  uint32_t checkIntervalMs = 50;
  uint32_t connectionCheckTimeoutMs = 12000;
  uint32_t nominationTimeoutMs = 12000;
  // A controlling agent nominates the best valid pair once no better pair is pending, or
  // after this long since the first success.
  uint32_t nominationWaitMs = 150;
  uint32_t checkInitialRtoMs = 100;
  uint32_t checkMaxTransmissions = 7;
  uint32_t consentIntervalMs = 5000;
  uint32_t disconnectedTimeoutMs = 30000;
  uint32_t failedTimeoutMs = 15000;  // after disconnected
  // Ticks come every 10-100 ms. A longer gap means the loop was starved (or the process
  // stopped): the gap is not counted against the timeouts, so that what arrived meanwhile is
  // read before anything is given up.
  uint32_t stallThresholdMs = 500;
};

struct OutgoingPacket {
  int socketId = -1;
  net::Address to;
  std::vector<uint8_t> bytes;
};

// Fills a buffer with random bytes (transaction ids, tie-breakers, jitter). Injected so the
// agent is deterministic in tests.
using RandomSource = std::function<void(uint8_t* out, size_t length)>;
RandomSource CryptoRandom();

class IceAgent {
 public:
  IceAgent(IceAgentConfig config, RandomSource random);

  // Local candidates come from the gatherer; each pairs with every known remote candidate.
  int AddLocalCandidate(Candidate candidate);
  // A remote candidate from signaling. Pairs only with local candidates of its family and
  // transport; a TCP one only as RFC 6544 §6.2 says (our active with its passive; its
  // active ones reach our passive candidates by connecting, and become peer-reflexive).
  Status AddRemoteCandidate(Candidate candidate, uint64_t nowMs);
  // Setting different credentials than before is a remote ICE restart.
  void SetRemoteCredentials(IceCredentials credentials, uint64_t nowMs);
  void SetRemoteEndOfCandidates() { remoteEndOfCandidates_ = true; }
  // A local ICE restart: new local credentials, remote state forgotten until the peer's
  // new description arrives. The selected pair keeps carrying data meanwhile.
  void Restart(IceCredentials local);
  // After a restart, before the new generation's candidates are added: the old local
  // candidates (and every pair made with them) go, so that checks run only from what was
  // gathered again (an address that vanished is not tried). Remote candidates that came
  // meanwhile stay and pair with the new local ones. Nothing happens with a pair selected:
  // that pair is the new generation's.
  void ClearLocalCandidates();
  // The connection closed: nothing is sent or accepted any more (state kClosed).
  void Close();

  // A datagram that RFC 7983 demultiplexing classed as STUN. Returns false if it was not
  // for the agent (malformed, unknown transaction); it is then dropped.
  bool HandleStun(int socketId, const net::Address& from, ByteSpan datagram, uint64_t nowMs);
  // Non-STUN traffic on the selected pair, for stats and liveness.
  void NoteDataReceived(int socketId, const net::Address& from, size_t bytes, uint64_t nowMs);
  void NoteDataSent(size_t bytes, uint64_t nowMs);

  // Drives checks, retransmissions, nomination, consent and timeouts.
  void Tick(uint64_t nowMs);
  std::vector<OutgoingPacket> TakeOutgoing();

  // The offerer controls (c-sdk.md §5); set before checks begin.
  void SetRole(IceRole role) { SwitchRole(role); }

  IceState state() const { return state_; }
  IceRole role() const { return config_.role; }
  const IceCredentials& localCredentials() const { return config_.local; }
  // Where data goes: the selected pair's socket and remote address.
  struct Route {
    int socketId;
    net::Address remote;
  };
  std::optional<Route> route() const;
  const CandidatePair* selectedPair() const;
  const std::vector<Candidate>& localCandidates() const { return local_; }
  const std::vector<Candidate>& remoteCandidates() const { return remote_; }
  const std::vector<CandidatePair>& pairs() const { return pairs_; }

  std::function<void(IceState)> onStateChange;
  std::function<void(const CandidatePair&)> onSelectedPairChange;

 private:
  struct Transaction {
    size_t pair;
    uint64_t firstSentMs;
    uint64_t nextRetransmitMs;
    uint32_t transmissions;
    uint32_t rtoMs;
    bool useCandidate;
    bool consent;
    std::vector<uint8_t> bytes;
    // RFC 8445 §7.3.1.4: superseded by a triggered check. Not retransmitted, and its
    // timeout fails nothing, but an answer to it still counts.
    bool cancelled = false;
  };
  using TransactionKey = std::string;  // the 12 transaction-id bytes

  void PairLocal(size_t localIndex);
  void PairRemote(size_t remoteIndex);
  // `learned`: the remote is a peer-reflexive candidate, which over TCP pairs with the
  // passive candidate whose connection it came in on.
  void AddPair(size_t localIndex, size_t remoteIndex, bool learned = false);
  bool ChecksCanRun() const;
  // The connection-check timeout counts from the first moment checks can run: credentials
  // and a pair, whichever came last (a relay allocated after the remote candidates, an
  // answer that arrives after a restart).
  void MaybeStartChecks(uint64_t nowMs);
  void ForgiveStall(uint64_t gapMs, uint64_t nowMs);
  void StartCheck(size_t pairIndex, bool useCandidate, bool consent, uint64_t nowMs);
  void HandleRequest(int socketId, const net::Address& from, ByteSpan raw, const stun::Message& m,
                     uint64_t nowMs);
  void HandleResponse(int socketId, const net::Address& from, ByteSpan raw, const stun::Message& m,
                      uint64_t nowMs);
  void SendResponse(int socketId, const net::Address& to, const stun::Message& request,
                    std::optional<uint16_t> errorCode);
  void Select(size_t pairIndex, uint64_t nowMs);
  void MaybeNominate(uint64_t nowMs);
  void SetState(IceState state);
  void SwitchRole(IceRole role);
  std::optional<size_t> FindPair(int socketId, const net::Address& remote) const;
  std::optional<size_t> FindLocalBySocket(int socketId) const;
  stun::TransactionId NewTransactionId();
  uint64_t RandomU64();

  IceAgentConfig config_;
  RandomSource random_;
  uint64_t tieBreaker_;
  std::optional<IceCredentials> remoteCredentials_;
  bool remoteEndOfCandidates_ = false;
  std::vector<Candidate> local_;
  std::vector<Candidate> remote_;
  std::vector<CandidatePair> pairs_;
  std::vector<size_t> triggered_;  // pairs to check before the ordinary queue
  std::map<TransactionKey, Transaction> transactions_;
  std::vector<OutgoingPacket> outgoing_;
  std::optional<size_t> selected_;
  std::optional<size_t> nominating_;
  IceState state_ = IceState::kNew;
  std::optional<uint64_t> checksStartedMs_;  // unset until checks can run
  std::optional<uint64_t> lastTickMs_;
  uint64_t firstSuccessMs_ = 0;
  uint64_t nextCheckMs_ = 0;
  uint64_t nextConsentMs_ = 0;
  uint64_t lastConsentMs_ = 0;
};

}  // namespace kvs::ice
