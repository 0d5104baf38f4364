// One SCTP association over usrsctp (RFC 4960, as WebRTC uses it over DTLS: RFC 8261,
// RFC 8831, RFC 8841): one AF_CONN one-to-one socket, both ends connecting (simultaneous
// INIT is fine, RFC 8841 §9.3), explicit EOR so that messages of any size go in parts, a
// FIFO of messages usrsctp has not taken yet, and reassembly of partial deliveries.
//
// How it runs (see usrsctp_runtime.h for the process-wide contract):
// * All calls on an Association come from its owner thread. usrsctp's callbacks for it only
//   fill a mailbox; the association drains the mailbox after each usrsctp call it makes, and
//   in Poll() when its wake function said that work arrived during someone else's call (a
//   timer in TickUsrsctp).
// * User callbacks run only from that drain, on the owner thread, after the usrsctp call has
//   returned and the runtime mutex is released: never inside usrsctp. A callback may call
//   any method, including destroying the Association: a call made from inside a callback
//   does its usrsctp work at once but leaves the draining to the outer loop, and the loop
//   stops the moment the association is destroyed.
// * The destructor aborts (an ABORT chunk is produced but not delivered: call Abort() first
//   to send one), closes the socket and unregisters, freeing everything even mid-transfer.
//   It runs no callback.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "sctp/usrsctp_runtime.h"

struct sctp_rcvinfo;

namespace kvs::sctp {

enum class AssociationState { kNew, kConnecting, kConnected, kClosed, kFailed };
const char* ToString(AssociationState state);

enum class CongestionControl : uint32_t {
  kRfc4960 = 0,  // SCTP_CC_RFC2581: standard TCP-style AIMD
  kHighSpeed = 1,
  kHtcp = 2,
  kRtcc = 3,
};

// Per-socket settings. DefaultTuning() holds what the benchmark supports; its figures are
// in the comment above DefaultTuning() in sctp_association.cc.
struct SctpTuning {
  uint32_t sendBufferBytes;
  uint32_t receiveBufferBytes;
  uint32_t maxBurst;  // packets per send opportunity; 0 leaves usrsctp's default
  uint32_t sackDelayMs;
  uint32_t rtoInitialMs;
  uint32_t rtoMinMs;
  uint32_t rtoMaxMs;
  // Retransmission timeouts in a row after which the association gives up (usrsctp's
  // Association.Max.Retrans, 10 by default), and after which its one path is taken for
  // unreachable (Path.Max.Retrans, 5 by default): the same, since with one path there is no
  // other to send on. 0 leaves usrsctp's defaults.
  uint16_t maxAssociationRetransmits;
  bool noDelay;  // disable Nagle (RFC 8831 §6.6)
  CongestionControl congestionControl;
};
SctpTuning DefaultTuning();

struct AssociationConfig {
  uint16_t localPort = 5000;
  uint16_t remotePort = 5000;
  // Streams asked for in INIT, each direction. RFC 8831 §6.2 suggests 65535; usrsctp
  // allocates per-stream state up front, so the default is what browsers use (1024).
  uint16_t maxStreams = 1024;
  // Largest SCTP packet we emit: the DTLS record payload that fits a 1280-byte IPv6 path
  // after IP, UDP and DTLS overhead.
  uint32_t mtu = 1200;
  // A received message that grows past this is dropped and reported (0: no limit).
  size_t maxReceiveMessageSize = 0;
  SctpTuning tuning = DefaultTuning();
  // Called (from any thread, under the runtime mutex) when usrsctp raised work for this
  // association during another call; the owner must then call Poll() on its own thread.
  // Must only signal (uv_async_send, set a flag). May be empty if the owner polls anyway.
  std::function<void()> wake;
};

struct SendOptions {
  bool ordered = true;
  // At most one of the two (PR-SCTP, RFC 3758): neither means fully reliable.
  std::optional<uint32_t> maxRetransmits;
  std::optional<uint32_t> maxPacketLifeTimeMs;
};

struct SctpMessage {
  uint16_t streamId = 0;
  uint32_t ppid = 0;
  bool ordered = true;  // false: it arrived as unordered DATA
  std::vector<uint8_t> data;
};

enum class StreamDirection { kIncoming, kOutgoing };

struct AssociationCallbacks {
  // An SCTP packet to send as one DTLS record.
  std::function<void(ByteSpan packet)> onPacket;
  std::function<void(SctpMessage&& message)> onMessage;
  // A stream reset completed (ok) or was refused/failed (!ok) in the given direction: for
  // kIncoming the peer reset its outgoing streams, for kOutgoing ours were reset.
  std::function<void(const std::vector<uint16_t>& streams, StreamDirection direction, bool ok)>
      onStreamReset;
  std::function<void(AssociationState state, const Status& reason)> onStateChange;
  // Bytes of queued messages on a stream that usrsctp took (they left BufferedBytes()).
  std::function<void(uint16_t streamId, size_t bytes)> onSent;
  // The queue was pushed back by usrsctp and is now empty again: there is room to send.
  std::function<void()> onWritable;
  // A message on a stream could not be sent (bad stream id...) or received (too large).
  std::function<void(uint16_t streamId, const Status& error)> onStreamError;
};

class Association {
 public:
  static Result<std::unique_ptr<Association>> Create(AssociationConfig config,
                                                     AssociationCallbacks callbacks);
  ~Association();
  Association(const Association&) = delete;
  Association& operator=(const Association&) = delete;

  // Sends INIT (kNew -> kConnecting). Both ends call it.
  Status Connect();
  // One decrypted DTLS application-data record.
  void HandlePacket(ByteSpan packet);
  // Queues a message (never empty: SCTP cannot carry empty messages) and hands as much as
  // usrsctp takes now; the rest follows when usrsctp has room. Fails only for a bad
  // argument or a closed association.
  Status Send(uint16_t streamId, uint32_t ppid, std::vector<uint8_t> data,
              const SendOptions& options);
  // Resets our outgoing streams (RFC 6525) once the messages queued on them before this call
  // have been handed to usrsctp (which sends them before the reset).
  Status ResetStreams(const std::vector<uint16_t>& streams);
  // Graceful SHUTDOWN once everything queued has been sent; kClosed when it completes.
  void Close();
  // ABORT now; kClosed at once. Queued data is dropped.
  void Abort();
  // Drains what usrsctp raised for us during other calls (after wake).
  void Poll();

  AssociationState state() const { return state_; }
  size_t BufferedBytes() const { return queuedBytes_; }
  size_t BufferedBytes(uint16_t streamId) const;
  // Negotiated stream counts (0 until connected).
  uint16_t outboundStreams() const { return outboundStreams_; }
  uint16_t inboundStreams() const { return inboundStreams_; }
  // Inbound packets dropped before usrsctp because they were malformed.
  uint64_t malformedPackets() const { return malformedPackets_; }
  // Times usrsctp refused more of the queue (each resumed only on a later upcall).
  uint64_t sendPushBacks() const { return sendPushBacks_; }

 private:
  struct Pending {
    enum class Kind { kMessage, kReset, kShutdown } kind = Kind::kMessage;
    uint16_t streamId = 0;
    uint32_t ppid = 0;
    SendOptions options;
    std::vector<uint8_t> data;
    size_t offset = 0;              // bytes usrsctp took
    std::vector<uint16_t> streams;  // kReset
  };
  struct Partial {
    uint32_t ppid = 0;
    bool ordered = true;
    bool dropping = false;  // over maxReceiveMessageSize: discard until EOR
    size_t droppedBytes = 0;
    std::vector<uint8_t> data;
  };

  Association(AssociationConfig config, AssociationCallbacks callbacks);
  Status Open();
  void Drain();
  void Pump();
  void ReadAll();
  void HandleData(const ::sctp_rcvinfo& info, int flags, const uint8_t* data, size_t n);
  void HandleNotification(const uint8_t* data, size_t n);
  void SetState(AssociationState state, Status reason);
  void CloseSocket(bool abortive);
  void Post(std::function<void()> event);
  void Account(uint16_t streamId, size_t bytes);

  AssociationConfig config_;
  // Shared so that a drain keeps the callbacks alive while one of them destroys us.
  std::shared_ptr<const AssociationCallbacks> callbacks_;
  internal::Mailbox mailbox_;  // guarded by the runtime mutex
  void* token_ = nullptr;
  struct socket* sock_ = nullptr;
  AssociationState state_ = AssociationState::kNew;
  uint16_t outboundStreams_ = 0;
  uint16_t inboundStreams_ = 0;
  uint64_t malformedPackets_ = 0;
  uint64_t sendPushBacks_ = 0;

  std::deque<Pending> queue_;
  size_t queuedBytes_ = 0;
  std::map<uint16_t, size_t> queuedPerStream_;
  bool blocked_ = false;     // usrsctp refused part of the queue head; wait for writable
  bool pushedBack_ = false;  // blocked since the queue was last empty: onWritable is due
  bool closing_ = false;     // Close() was called: no more sends

  std::map<uint16_t, Partial> partial_;  // reassembly per stream
  std::vector<uint8_t> notification_;    // a notification read in parts
  std::vector<uint8_t> recvBuffer_;

  std::deque<std::function<void()>> events_;  // user callbacks waiting for the drain
  bool draining_ = false;
  bool drainAgain_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace kvs::sctp
