// WebRTC data channels over one SCTP association (RFC 8831, RFC 8832): stream ids chosen by
// DTLS role, in-band channels opened with DCEP, negotiated ones without, ordered/unordered and
// partially reliable delivery, string/binary/empty messages, closing by stream reset, the
// remote max-message-size (RFC 8841 §6), back-pressure and per-channel statistics.
//
// Channels are named by their stream id, which is what the JS layer holds: an id is unique
// among open channels and can be reused only after its close event.
//
// Threading and re-entrancy are the association's (sctp_association.h): every call from the
// owner thread; callbacks only from inside our calls, after usrsctp returned; a callback may
// call any method, including destroying the DataChannels.
//
// Wiring (for the DTLS transport and the loop):
// * Create once the DTLS role is known (config.dtlsClient), Start() once DTLS is connected.
// * Each decrypted DTLS application-data record -> HandlePacket(record).
// * onPacket(packet) -> DtlsSession::Send(packet) as one record.
// * config.sctp.wake -> uv_async_send on the owner loop, whose callback calls Poll().
// * While the loop owns any DataChannels, a uv timer calls TickUsrsctp(uv_hrtime() / 1e6)
//   every kUsrsctpTickIntervalMs (usrsctp_runtime.h); stop it when the last one is destroyed.
// * config.remoteMaxMessageSize from the remote SDP's a=max-message-size (65536 if absent).
// * bufferedAmount counts bytes not yet taken by usrsctp; usrsctp's own send buffer (up to
//   SctpTuning::sendBufferBytes, not attributable to a stream) comes on top.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "sctp/dcep.h"
#include "sctp/sctp_association.h"

namespace kvs::sctp {

enum class DataChannelState { kConnecting, kOpen, kClosing, kClosed };
const char* ToString(DataChannelState state);

struct DataChannelInit {
  std::string label;
  std::string protocol;
  bool ordered = true;
  // At most one (W3C): neither means reliable.
  std::optional<uint32_t> maxRetransmits;
  std::optional<uint32_t> maxPacketLifeTimeMs;
  uint16_t priority = kPriorityNormal;
  // negotiated: both sides create the channel with the same id and no DCEP is sent.
  bool negotiated = false;
  std::optional<uint16_t> id;  // required when negotiated; otherwise chosen by DTLS role
};

struct DataChannelInfo {
  uint16_t id = 0;
  std::string label;
  std::string protocol;
  bool ordered = true;
  std::optional<uint32_t> maxRetransmits;
  std::optional<uint32_t> maxPacketLifeTimeMs;
  uint16_t priority = kPriorityNormal;
  bool negotiated = false;
};

// W3C RTCDataChannelStats, collected where they happen: a message counts as sent when Send
// accepts it, as received when it is delivered; bytes are payload bytes (0 for an empty one).
struct DataChannelStats {
  std::string label;
  std::string protocol;
  uint16_t id = 0;
  DataChannelState state = DataChannelState::kConnecting;
  uint64_t messagesSent = 0;
  uint64_t bytesSent = 0;
  uint64_t messagesReceived = 0;
  uint64_t bytesReceived = 0;
};

struct DataChannelsConfig {
  // RFC 8832 §6: the DTLS client opens even stream ids, the server odd ones.
  bool dtlsClient = true;
  AssociationConfig sctp;
  // The peer's a=max-message-size (RFC 8841 §6.1): 65536 when the SDP omits it, 0 for no
  // limit. A larger send fails at once.
  uint64_t remoteMaxMessageSize = 65536;
  // Bytes queued and not yet taken by usrsctp, over all channels, beyond which Send is
  // refused. Must hold the largest message the application sends.
  size_t maxBufferedBytes = 64 * 1024 * 1024;
};

struct DataChannelsCallbacks {
  std::function<void(ByteSpan packet)> onPacket;  // one SCTP packet for one DTLS record
  std::function<void(AssociationState state, const Status& reason)> onAssociationState;
  // The peer opened a channel in-band; it is already open.
  std::function<void(const DataChannelInfo& info)> onChannel;
  std::function<void(uint16_t id)> onOpen;
  std::function<void(uint16_t id, std::vector<uint8_t>&& data, bool binary)> onMessage;
  std::function<void(uint16_t id)> onBufferedAmountLow;
  std::function<void(uint16_t id)> onClosing;
  std::function<void(uint16_t id)> onClose;  // the id may be reused from now on
  std::function<void(uint16_t id, const Status& error)> onError;
};

class DataChannels {
 public:
  static Result<std::unique_ptr<DataChannels>> Create(DataChannelsConfig config,
                                                      DataChannelsCallbacks callbacks);
  ~DataChannels();
  DataChannels(const DataChannels&) = delete;
  DataChannels& operator=(const DataChannels&) = delete;

  // Starts the association (once DTLS is connected).
  Status Start();
  void HandlePacket(ByteSpan packet);
  void Poll();
  // Graceful SHUTDOWN / ABORT of the association; every channel closes.
  void Close();
  void Abort();

  Result<uint16_t> CreateChannel(const DataChannelInit& init);
  Status SendText(uint16_t id, std::string_view text);
  Status SendBinary(uint16_t id, ByteSpan data);
  // Takes the bytes without a copy.
  Status Send(uint16_t id, std::vector<uint8_t> data, bool binary);
  // RFC 8831 §6.7: reset our outgoing stream after what is queued on it; closed once the
  // peer reset its own.
  Status CloseChannel(uint16_t id);

  // Bytes Send accepted for this channel that usrsctp has not taken yet.
  size_t BufferedAmount(uint16_t id) const;
  Status SetBufferedAmountLowThreshold(uint16_t id, size_t threshold);
  Result<DataChannelInfo> Info(uint16_t id) const;
  Result<DataChannelStats> Stats(uint16_t id) const;
  std::vector<DataChannelStats> AllStats() const;
  std::optional<DataChannelState> State(uint16_t id) const;

  AssociationState associationState() const;
  void SetRemoteMaxMessageSize(uint64_t bytes) { config_.remoteMaxMessageSize = bytes; }
  size_t BufferedBytes() const;

 private:
  struct Channel {
    DataChannelInfo info;
    DataChannelState state = DataChannelState::kConnecting;
    bool localOpen = false;      // we sent DATA_CHANNEL_OPEN
    bool acked = true;           // false until the peer's ACK (or any message) arrives
    bool outgoingReset = false;  // our outgoing stream was reset
    bool incomingReset = false;  // the peer's outgoing stream was reset
    bool resetRequested = false;
    size_t lowThreshold = 0;
    bool aboveThreshold = false;
    std::vector<uint8_t> legacy;  // deprecated PPIDs 52/54: fragments so far
    DataChannelStats stats;
  };

  DataChannels(DataChannelsConfig config, DataChannelsCallbacks callbacks);
  void OnAssociationState(AssociationState state, const Status& reason);
  void OnMessage(SctpMessage&& message);
  void OnDcep(uint16_t streamId, const std::vector<uint8_t>& payload);
  void OnStreamReset(const std::vector<uint16_t>& streams, StreamDirection direction, bool ok);
  void OnSent(uint16_t streamId);
  void OnStreamError(uint16_t streamId, const Status& error);
  void Deliver(Channel& channel, std::vector<uint8_t>&& data, bool binary);
  void RequestReset(Channel& channel);
  void MaybeFinishClose(uint16_t id);
  void OpenPending();
  bool IdFree(uint16_t id) const;
  uint16_t StreamLimit() const;
  SendOptions OptionsFor(const Channel& channel) const;

  DataChannelsConfig config_;
  // Shared: a handler keeps them alive while a user callback destroys us.
  std::shared_ptr<const DataChannelsCallbacks> callbacks_;
  std::unique_ptr<Association> association_;
  std::map<uint16_t, Channel> channels_;
  bool pendingOpen_ = false;  // channels wait for their open event (fired from Poll)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace kvs::sctp
