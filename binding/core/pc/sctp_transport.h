// The SCTP layer of the stack: the data channels (sctp/data_channels.h) over the DTLS
// transport's application records, with the usrsctp timer driven from the loop. Channels are
// named here by a handle the JS layer holds, because a channel exists (and can be sent on
// once open) before its stream id is chosen: ids follow the DTLS role (RFC 8832 §6), known
// only after negotiation. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "pc/dtls_transport.h"
#include "sctp/data_channels.h"

namespace kvs::pc {

// Handles the JS layer allocates for the channels it creates are below this; those of
// channels the peer opens are at or above it (allocated here).
inline constexpr uint32_t kRemoteChannelHandleBase = 1u << 30;

struct DataChannelEvent {
  enum class Type { kOpened, kOpen, kBufferedAmountLow, kClosing, kClose, kError };
  Type type = Type::kOpen;
  uint32_t handle = 0;
};

class SctpTransport {
 public:
  SctpTransport(loop::EventLoop& loop, DtlsTransport& dtls);
  ~SctpTransport();
  SctpTransport(const SctpTransport&) = delete;
  SctpTransport& operator=(const SctpTransport&) = delete;

  // Negotiation finished with an application m-line on both sides: makes the association
  // (not yet connecting) and the channels asked for so far.
  // localMaxMessageSize: what we advertised; a larger message from the peer is dropped and
  // reported.
  Status Configure(bool dtlsClient, uint16_t remotePort, uint64_t remoteMaxMessageSize,
                   uint64_t localMaxMessageSize);
  bool configured() const { return channels_ != nullptr; }
  // DTLS is connected: the association connects.
  Status Start();
  void SetRemoteMaxMessageSize(uint64_t bytes);
  uint64_t remoteMaxMessageSize() const { return remoteMaxMessageSize_; }

  Status CreateChannel(uint32_t handle, const sctp::DataChannelInit& init);
  Status Send(uint32_t handle, std::vector<uint8_t> data, bool binary);
  Status CloseChannel(uint32_t handle);
  Status SetBufferedAmountLowThreshold(uint32_t handle, size_t bytes);
  // Bytes accepted for the channel that usrsctp has not taken yet.
  size_t BufferedAmount(uint32_t handle) const;
  // Every channel closes; the association aborts (the peer's DTLS closes next anyway).
  void Close();

  std::vector<sctp::DataChannelStats> Stats() const;
  std::optional<sctp::DataChannelInfo> Info(uint32_t handle) const;
  std::optional<uint16_t> StreamId(uint32_t handle) const;
  // W3C RTCPeerConnectionStats: channels that reached open, and open ones that closed.
  uint64_t channelsOpened() const { return channelsOpened_; }
  uint64_t channelsClosed() const { return channelsClosed_; }

  // The peer opened a channel: its handle and parameters.
  std::function<void(uint32_t handle, const sctp::DataChannelInfo& info)> onChannel;
  std::function<void(uint32_t handle, uint16_t id)> onOpen;
  std::function<void(uint32_t handle, std::vector<uint8_t>&& data, bool binary)> onMessage;
  std::function<void(uint32_t handle)> onBufferedAmountLow;
  std::function<void(uint32_t handle)> onClosing;
  std::function<void(uint32_t handle)> onClose;
  std::function<void(uint32_t handle, const Status& error)> onError;
  // After each piece of work: the channels whose buffered amount may have changed.
  std::function<void(uint32_t handle, size_t bufferedAmount)> onBufferedAmount;
  // The association failed or closed (the reason, when it failed).
  std::function<void(sctp::AssociationState state, const Status& reason)> onAssociationState;

 private:
  struct Pending {
    uint32_t handle;
    sctp::DataChannelInit init;
  };
  void Bind(uint32_t handle, uint16_t id);
  std::optional<uint32_t> HandleOf(uint16_t id) const;
  void ReportBuffered();
  void StartTimer();

  loop::EventLoop& loop_;
  DtlsTransport& dtls_;
  std::unique_ptr<sctp::DataChannels> channels_;
  std::vector<Pending> pending_;  // created before the association existed
  std::map<uint32_t, uint16_t> idByHandle_;
  std::map<uint16_t, uint32_t> handleById_;
  std::map<uint32_t, size_t> lowThreshold_;  // set before the channel had an id
  std::map<uint32_t, size_t> lastBuffered_;
  uint32_t nextRemoteHandle_ = kRemoteChannelHandleBase;
  uint64_t remoteMaxMessageSize_ = 65536;
  loop::Timer tick_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool closed_ = false;
  uint64_t channelsOpened_ = 0;
  uint64_t channelsClosed_ = 0;
  std::map<uint32_t, bool> wasOpen_;
};

}  // namespace kvs::pc
