// The TURN client (RFC 8656) as a pure state machine: one allocation on one server, with
// long-term credentials, refreshes, permissions, channels and the data paths. It never
// touches a socket or a clock: the owner feeds it what the server sent (one datagram, or
// one frame de-framed from a TCP/TLS stream) and the time, and sends what TakeOutgoing()
// returns to the server, in order.
//
// The relay is always UDP (REQUESTED-TRANSPORT 17); the transport to the server only
// decides retransmissions (UDP only, RFC 8489 §6.2.1-2) and ChannelData padding (stream).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "net/address.h"
#include "stun/stun_builders.h"
#include "stun/stun_integrity.h"
#include "stun/stun_message.h"
#include "turn/turn_url.h"

namespace kvs::turn {

struct TurnClientConfig {
  std::string username;
  std::string password;
  TurnTransport transport = TurnTransport::kUdp;
  // REQUESTED-ADDRESS-FAMILY (RFC 6156 / RFC 8656 §7.1): the relayed address's family.
  // Unset asks for the default, IPv4. The C SDK relays over IPv4 only.
  std::optional<net::Family> relayFamily;
  // The C SDK's defaults (c-sdk.md §5).
  uint32_t lifetimeSec = 600;
  uint32_t refreshEarlySec = 30;
  uint32_t permissionLifetimeSec = 300;  // fixed by RFC 8656 §9
  uint32_t permissionRefreshEarlySec = 60;
  uint32_t channelLifetimeSec = 600;  // fixed by RFC 8656 §12
  uint32_t channelRefreshEarlySec = 60;
  // Data to peers goes in ChannelData once a channel is bound (4 bytes of overhead instead
  // of 36); Send indications until then, or always when false.
  bool useChannels = true;
  // RFC 8489 §6.2.1 (UDP): RTO doubling from 500 ms, 7 transmissions, the last one waited
  // for 16 RTO. Over TCP/TLS a transaction simply times out after 39.5 s.
  uint32_t initialRtoMs = 500;
  uint32_t maxTransmissions = 7;
  uint32_t lastWaitRtos = 16;
  uint32_t streamTransactionTimeoutMs = 39500;
  // A tick this late for its deadline means the loop was starved: timeouts that fell due
  // meanwhile are moved on by the delay, so an answer that waited in the socket is read first.
  uint32_t stallThresholdMs = 500;
  // Data queued for a peer while its permission is being installed (then dropped).
  size_t maxQueuedPerPeer = 16;
};

enum class TurnState { kNew, kAllocating, kAllocated, kDeallocating, kClosed, kFailed };
const char* ToString(TurnState state);

// Fills a buffer with random bytes (transaction ids). Injected for deterministic tests.
using TurnRandom = std::function<void(uint8_t* out, size_t length)>;

class TurnClient {
 public:
  TurnClient(TurnClientConfig config, TurnRandom random);

  // Sends the first Allocate (without credentials: the server's 401 brings realm and nonce).
  Status Start(uint64_t nowMs);
  // One STUN message or ChannelData from the server. Malformed or unexpected input is
  // dropped (returns false): nothing from the network can break the state machine.
  bool HandleIncoming(ByteSpan packet, uint64_t nowMs);
  // Retransmissions, transaction timeouts and refreshes.
  void Tick(uint64_t nowMs);
  // The next time Tick() has something to do; nullopt when nothing is scheduled.
  std::optional<uint64_t> NextTickMs() const;
  std::vector<std::vector<uint8_t>> TakeOutgoing();

  // Installs (and keeps refreshing) a permission for the peer's IP and, with useChannels,
  // binds a channel to the peer's address. May be called before the allocation succeeds.
  //   ERR_INVALID_STATE  closed or failed
  Status AddPermission(const net::Address& peer, uint64_t nowMs);
  // Relays data to a peer, adding the permission first if needed (the data waits for it).
  //   ERR_INVALID_STATE, ERR_TURN_QUEUE_FULL (the data is dropped), ERR_STUN_TOO_LARGE
  Status SendTo(const net::Address& peer, ByteSpan data, uint64_t nowMs);
  // Deletes the allocation (Refresh with LIFETIME 0); onClosed follows its answer or
  // timeout. Without an allocation, closes at once.
  void Close(uint64_t nowMs);

  TurnState state() const { return state_; }
  const std::optional<net::Address>& relayed() const { return relayed_; }
  const std::optional<net::Address>& mapped() const { return mapped_; }
  // The lifetime the server granted, in seconds (0 before the allocation).
  uint32_t grantedLifetimeSec() const { return lifetimeSec_; }
  bool HasPermission(const net::Address& peer) const;
  std::optional<uint16_t> ChannelFor(const net::Address& peer) const;
  struct Counters {
    uint64_t allocations = 0;    // successful Allocate answers
    uint64_t refreshes = 0;      // successful Refresh answers (lifetime > 0)
    uint64_t deallocations = 0;  // the server confirmed the deletion
    uint64_t permissionRefreshes = 0;
    uint64_t channelRefreshes = 0;
    uint64_t retransmissions = 0;
    uint64_t staleNonces = 0;
    uint64_t sendIndications = 0;
    uint64_t channelDataSent = 0;
    uint64_t dataIndications = 0;
    uint64_t channelDataReceived = 0;
    // For the per-ICE-server stats: requests sent (first transmissions), answers received,
    // and round-trip times of answers to requests sent once (Karn: no ambiguous samples).
    uint64_t requestsSent = 0;
    uint64_t responsesReceived = 0;
    uint64_t rttSamples = 0;
    uint64_t totalRttMs = 0;
    uint64_t lastRttMs = 0;
  };
  const Counters& counters() const { return counters_; }

  // Callbacks run inside the calls above and must not destroy the client.
  std::function<void(const net::Address& relayed, const net::Address& mapped)> onAllocated;
  std::function<void(const net::Address& peer, ByteSpan data)> onData;
  // Fatal errors (state becomes kFailed) and per-peer ones (permission or channel refused;
  // the allocation stays):
  //   ERR_TURN_AUTH        401 after credentials were sent, 441, or no usable realm/nonce
  //   ERR_TURN_ALLOCATION  Allocate or Refresh refused (437, 486, 508, ...)
  //   ERR_TURN_TIMEOUT     no answer to Allocate or Refresh
  //   ERR_TURN_PERMISSION  CreatePermission refused or unanswered (per peer)
  //   ERR_TURN_CHANNEL     ChannelBind refused or unanswered (per peer)
  std::function<void(const Status& error)> onError;
  std::function<void()> onClosed;

 private:
  enum class Kind { kAllocate, kRefresh, kDeallocate, kPermission, kChannelBind };
  // Builds the request for a transaction id and credentials: a 438 answer means sending it
  // again with the new nonce in a new transaction (XOR addresses depend on the id).
  using Builder = std::function<stun::Message(const stun::TransactionId&,
                                              const std::optional<stun::TurnCredentials>&)>;
  struct Transaction {
    Kind kind;
    Builder build;
    std::vector<uint8_t> bytes;
    uint64_t sentMs;
    uint64_t nextMs;  // next retransmission, or the timeout
    uint32_t transmissions;
    uint32_t rtoMs;
    uint32_t nonceRetries;
    net::Address peer;  // kPermission / kChannelBind
    uint16_t channel;   // kChannelBind
  };
  struct Permission {
    net::Address address;  // the port does not matter to a permission
    bool installed = false;
    bool pending = false;
    uint64_t refreshAtMs = 0;
    std::vector<std::pair<net::Address, std::vector<uint8_t>>> queued;  // data waiting for it
  };
  struct Channel {
    uint16_t number = 0;
    bool bound = false;
    bool pending = false;
    uint64_t refreshAtMs = 0;
  };
  using Key = std::string;  // transaction id bytes

  void Send(Kind kind, Builder build, uint64_t nowMs, const net::Address& peer = {},
            uint16_t channel = 0, uint32_t nonceRetries = 0);
  std::optional<stun::TurnCredentials> Credentials() const;
  stun::TransactionId NewTid();
  void HandleResponse(ByteSpan raw, const stun::Message& m, uint64_t nowMs);
  void OnSuccess(Transaction& t, const stun::Message& m, uint64_t nowMs);
  // why.code() is empty unless the cause has its own code (auth, timeout).
  void OnFailure(Transaction& t, const Status& why);
  void HandleData(const net::Address& peer, ByteSpan data);
  void RequestPermission(const net::Address& peer, uint64_t nowMs);
  void RequestChannel(const net::Address& peer, uint16_t number, uint64_t nowMs);
  void FlushQueued(Permission& permission);
  void StartPending(uint64_t nowMs);
  void Fail(Status status);
  void Finish();
  Result<std::vector<uint8_t>> DataMessage(const net::Address& peer, ByteSpan data);

  TurnClientConfig config_;
  TurnRandom random_;
  TurnState state_ = TurnState::kNew;
  std::string realm_;
  std::string nonce_;
  stun::Key key_;
  bool sentCredentials_ = false;
  std::optional<net::Address> relayed_;
  std::optional<net::Address> mapped_;
  uint32_t lifetimeSec_ = 0;
  uint64_t refreshAtMs_ = 0;
  bool refreshing_ = false;
  std::map<Key, Transaction> transactions_;
  std::map<std::string, Permission> permissions_;  // by peer IP
  std::map<net::Address, Channel> channels_;       // by peer address
  std::map<uint16_t, net::Address> channelPeers_;
  uint16_t nextChannel_ = stun::kMinChannelNumber;
  std::vector<std::vector<uint8_t>> outgoing_;
  Counters counters_;
};

}  // namespace kvs::turn
