#include "sctp/data_channels.h"

#include <algorithm>
#include <utility>

namespace kvs::sctp {
namespace {

Status Fail(const char* code, std::string message) {
  return Status::Fail(code, std::move(message));
}

std::string Id(uint16_t id) { return "data channel " + std::to_string(id); }

}  // namespace

const char* ToString(DataChannelState state) {
  switch (state) {
    case DataChannelState::kConnecting:
      return "connecting";
    case DataChannelState::kOpen:
      return "open";
    case DataChannelState::kClosing:
      return "closing";
    case DataChannelState::kClosed:
      return "closed";
  }
  return "unknown";
}

Result<std::unique_ptr<DataChannels>> DataChannels::Create(DataChannelsConfig config,
                                                           DataChannelsCallbacks callbacks) {
  std::unique_ptr<DataChannels> dc(new DataChannels(std::move(config), std::move(callbacks)));
  AssociationCallbacks cb;
  DataChannels* self = dc.get();
  cb.onPacket = [self](ByteSpan packet) {
    const auto cbs = self->callbacks_;
    if (cbs->onPacket) cbs->onPacket(packet);
  };
  cb.onMessage = [self](SctpMessage&& m) { self->OnMessage(std::move(m)); };
  cb.onStreamReset = [self](const std::vector<uint16_t>& streams, StreamDirection d, bool ok) {
    self->OnStreamReset(streams, d, ok);
  };
  cb.onStateChange = [self](AssociationState s, const Status& why) {
    self->OnAssociationState(s, why);
  };
  cb.onSent = [self](uint16_t streamId, size_t) { self->OnSent(streamId); };
  cb.onStreamError = [self](uint16_t streamId, const Status& e) {
    self->OnStreamError(streamId, e);
  };
  auto association = Association::Create(dc->config_.sctp, std::move(cb));
  if (!association.ok()) return association.status();
  dc->association_ = association.take();
  return dc;
}

DataChannels::DataChannels(DataChannelsConfig config, DataChannelsCallbacks callbacks)
    : config_(std::move(config)),
      callbacks_(std::make_shared<const DataChannelsCallbacks>(std::move(callbacks))) {}

DataChannels::~DataChannels() {
  *alive_ = false;
  association_.reset();  // runs no callback
}

Status DataChannels::Start() { return association_->Connect(); }

void DataChannels::HandlePacket(ByteSpan packet) {
  const std::shared_ptr<bool> alive = alive_;
  association_->HandlePacket(packet);
  if (*alive) OpenPending();
}

void DataChannels::Poll() {
  const std::shared_ptr<bool> alive = alive_;
  association_->Poll();
  if (*alive) OpenPending();
}

void DataChannels::Close() { association_->Close(); }
void DataChannels::Abort() { association_->Abort(); }

AssociationState DataChannels::associationState() const { return association_->state(); }
size_t DataChannels::BufferedBytes() const { return association_->BufferedBytes(); }

uint16_t DataChannels::StreamLimit() const {
  if (association_->state() == AssociationState::kConnected) {
    return std::min(association_->outboundStreams(), association_->inboundStreams());
  }
  return config_.sctp.maxStreams;
}

bool DataChannels::IdFree(uint16_t id) const { return channels_.count(id) == 0; }

Result<uint16_t> DataChannels::CreateChannel(const DataChannelInit& init) {
  const AssociationState as = association_->state();
  if (as == AssociationState::kClosed || as == AssociationState::kFailed) {
    return Fail("ERR_DATACHANNEL_CLOSED", "the SCTP association is " + std::string(ToString(as)));
  }
  if (init.maxRetransmits && init.maxPacketLifeTimeMs) {
    return Fail("ERR_DATACHANNEL_RELIABILITY",
                "maxRetransmits and maxPacketLifeTime cannot both be set");
  }
  DcepOpen open;
  open.reliability = init.maxRetransmits        ? Reliability::kRexmit
                     : init.maxPacketLifeTimeMs ? Reliability::kTimed
                                                : Reliability::kReliable;
  open.ordered = init.ordered;
  open.priority = init.priority;
  open.reliabilityParameter = init.maxRetransmits        ? *init.maxRetransmits
                              : init.maxPacketLifeTimeMs ? *init.maxPacketLifeTimeMs
                                                         : 0;
  open.label = init.label;
  open.protocol = init.protocol;
  // Built (and so validated: lengths, UTF-8) for negotiated channels too.
  auto openMessage = BuildDcepOpen(open);
  if (!openMessage.ok()) return openMessage.status();

  const uint16_t limit = StreamLimit();
  uint16_t id = 0;
  if (init.negotiated) {
    if (!init.id) {
      return Fail("ERR_DATACHANNEL_ID_REQUIRED", "a negotiated data channel needs an id");
    }
    id = *init.id;
    if (id >= limit || id == 65535) {
      return Fail("ERR_DATACHANNEL_ID", "data channel id " + std::to_string(id) +
                                            " is beyond the " + std::to_string(limit) +
                                            " SCTP streams");
    }
    if (!IdFree(id)) {
      return Fail("ERR_DATACHANNEL_ID_IN_USE", Id(id) + " is already in use");
    }
  } else {
    bool found = false;
    for (uint32_t candidate = config_.dtlsClient ? 0 : 1; candidate < limit; candidate += 2) {
      if (IdFree(static_cast<uint16_t>(candidate))) {
        id = static_cast<uint16_t>(candidate);
        found = true;
        break;
      }
    }
    if (!found) {
      return Fail("ERR_DATACHANNEL_NO_ID", "no free SCTP stream id for a new data channel (" +
                                               std::to_string(limit) + " streams)");
    }
  }

  Channel c;
  c.info.id = id;
  c.info.label = init.label;
  c.info.protocol = init.protocol;
  c.info.ordered = init.ordered;
  c.info.maxRetransmits = init.maxRetransmits;
  c.info.maxPacketLifeTimeMs = init.maxPacketLifeTimeMs;
  c.info.priority = init.priority;
  c.info.negotiated = init.negotiated;
  c.localOpen = !init.negotiated;
  c.acked = init.negotiated;
  channels_.emplace(id, std::move(c));
  if (!init.negotiated) {
    // Reliable and ordered, before any user message on the stream (RFC 8832 §6).
    SendOptions reliable;
    Status st = association_->Send(id, kPpidDcep, openMessage.take(), reliable);
    if (!st.ok()) {
      channels_.erase(id);
      return st;
    }
  }
  // The open event comes from a later Poll (never from inside this call): ask for one.
  if (association_->state() == AssociationState::kConnected) {
    pendingOpen_ = true;
    if (config_.sctp.wake) config_.sctp.wake();
  }
  return id;
}

void DataChannels::OpenPending() {
  const std::shared_ptr<const DataChannelsCallbacks> cbs = callbacks_;
  if (!pendingOpen_ || association_->state() != AssociationState::kConnected) return;
  pendingOpen_ = false;
  const std::shared_ptr<bool> alive = alive_;
  std::vector<uint16_t> opened;
  for (auto& [id, c] : channels_) {
    if (c.state == DataChannelState::kConnecting) {
      c.state = DataChannelState::kOpen;
      opened.push_back(id);
    }
  }
  for (uint16_t id : opened) {
    auto it = channels_.find(id);
    if (it == channels_.end() || it->second.state != DataChannelState::kOpen) continue;
    if (cbs->onOpen) cbs->onOpen(id);
    if (!*alive) return;
  }
}

SendOptions DataChannels::OptionsFor(const Channel& c) const {
  SendOptions o;
  // RFC 8832 §6: until the DATA_CHANNEL_ACK arrives, user messages go ordered, so that none
  // overtakes the DATA_CHANNEL_OPEN.
  o.ordered = c.info.ordered || !c.acked;
  o.maxRetransmits = c.info.maxRetransmits;
  o.maxPacketLifeTimeMs = c.info.maxPacketLifeTimeMs;
  return o;
}

Status DataChannels::SendText(uint16_t id, std::string_view text) {
  return Send(id, std::vector<uint8_t>(text.begin(), text.end()), false);
}

Status DataChannels::SendBinary(uint16_t id, ByteSpan data) {
  return Send(id, std::vector<uint8_t>(data.data, data.data + data.size), true);
}

Status DataChannels::Send(uint16_t id, std::vector<uint8_t> data, bool binary) {
  auto it = channels_.find(id);
  if (it == channels_.end()) return Fail("ERR_DATACHANNEL_UNKNOWN", "no " + Id(id));
  Channel& c = it->second;
  if (c.state != DataChannelState::kOpen) {
    return Fail("ERR_DATACHANNEL_STATE",
                Id(id) + " is " + ToString(c.state) + ": only an open channel can send");
  }
  const uint64_t remoteMax = config_.remoteMaxMessageSize;
  if (remoteMax != 0 && data.size() > remoteMax) {
    return Fail("ERR_DATACHANNEL_MESSAGE_TOO_LARGE",
                "a message of " + std::to_string(data.size()) +
                    " bytes exceeds the remote max-message-size of " + std::to_string(remoteMax) +
                    " bytes");
  }
  const size_t size = data.size();
  const size_t wire = size == 0 ? 1 : size;
  const size_t queued = association_->BufferedBytes();
  if (queued + wire > config_.maxBufferedBytes) {
    return Fail("ERR_DATACHANNEL_QUEUE_FULL",
                "sending " + std::to_string(size) + " bytes would exceed the send queue bound of " +
                    std::to_string(config_.maxBufferedBytes) + " bytes (" + std::to_string(queued) +
                    " bytes queued)");
  }
  uint32_t ppid = 0;
  if (size == 0) {
    // RFC 8831 §6.6: SCTP has no empty messages; an empty one is one zero byte with its own
    // PPID.
    ppid = binary ? kPpidBinaryEmpty : kPpidStringEmpty;
    data.assign(1, 0);
  } else {
    ppid = binary ? kPpidBinary : kPpidString;
  }
  const SendOptions options = OptionsFor(c);
  if (association_->BufferedBytes(id) + wire > c.lowThreshold) c.aboveThreshold = true;
  // May run callbacks (the association drains), which may even close the channel: `c` is not
  // used afterwards.
  const std::shared_ptr<bool> alive = alive_;
  Status st = association_->Send(id, ppid, std::move(data), options);
  if (!st.ok() || !*alive) return st;
  auto again = channels_.find(id);
  if (again != channels_.end()) {
    again->second.stats.messagesSent += 1;
    again->second.stats.bytesSent += size;
  }
  return st;
}

Status DataChannels::CloseChannel(uint16_t id) {
  auto it = channels_.find(id);
  if (it == channels_.end()) return Fail("ERR_DATACHANNEL_UNKNOWN", "no " + Id(id));
  Channel& c = it->second;
  if (c.state == DataChannelState::kClosing || c.state == DataChannelState::kClosed) {
    return Status::Ok();
  }
  c.state = DataChannelState::kClosing;
  RequestReset(c);
  return Status::Ok();
}

void DataChannels::RequestReset(Channel& c) {
  if (c.resetRequested) return;
  c.resetRequested = true;
  // Fails only when the association is gone, and then every channel closes with it.
  (void)association_->ResetStreams({c.info.id});
}

size_t DataChannels::BufferedAmount(uint16_t id) const {
  return channels_.count(id) != 0 ? association_->BufferedBytes(id) : 0;
}

Status DataChannels::SetBufferedAmountLowThreshold(uint16_t id, size_t threshold) {
  auto it = channels_.find(id);
  if (it == channels_.end()) return Fail("ERR_DATACHANNEL_UNKNOWN", "no " + Id(id));
  it->second.lowThreshold = threshold;
  it->second.aboveThreshold = association_->BufferedBytes(id) > threshold;
  return Status::Ok();
}

Result<DataChannelInfo> DataChannels::Info(uint16_t id) const {
  auto it = channels_.find(id);
  if (it == channels_.end()) return Fail("ERR_DATACHANNEL_UNKNOWN", "no " + Id(id));
  return it->second.info;
}

std::optional<DataChannelState> DataChannels::State(uint16_t id) const {
  auto it = channels_.find(id);
  if (it == channels_.end()) return std::nullopt;
  return it->second.state;
}

Result<DataChannelStats> DataChannels::Stats(uint16_t id) const {
  auto it = channels_.find(id);
  if (it == channels_.end()) return Fail("ERR_DATACHANNEL_UNKNOWN", "no " + Id(id));
  DataChannelStats s = it->second.stats;
  s.label = it->second.info.label;
  s.protocol = it->second.info.protocol;
  s.id = id;
  s.state = it->second.state;
  return s;
}

std::vector<DataChannelStats> DataChannels::AllStats() const {
  std::vector<DataChannelStats> out;
  for (const auto& entry : channels_) out.push_back(Stats(entry.first).take());
  return out;
}

void DataChannels::OnAssociationState(AssociationState state, const Status& reason) {
  const std::shared_ptr<const DataChannelsCallbacks> cbs = callbacks_;
  const std::shared_ptr<bool> alive = alive_;
  if (cbs->onAssociationState) cbs->onAssociationState(state, reason);
  if (!*alive) return;
  if (state == AssociationState::kConnected) {
    // Channels on streams the peer did not grant cannot work.
    const uint16_t limit = StreamLimit();
    std::vector<uint16_t> beyond;
    for (const auto& entry : channels_) {
      if (entry.first >= limit) beyond.push_back(entry.first);
    }
    for (uint16_t id : beyond) {
      channels_.erase(id);
      if (cbs->onError) {
        cbs->onError(id,
                     Fail("ERR_DATACHANNEL_ID", Id(id) + " is beyond the " + std::to_string(limit) +
                                                    " streams the association negotiated"));
      }
      if (!*alive) return;
      if (cbs->onClose) cbs->onClose(id);
      if (!*alive) return;
    }
    pendingOpen_ = true;
    OpenPending();
    return;
  }
  if (state == AssociationState::kClosed || state == AssociationState::kFailed) {
    std::vector<uint16_t> ids;
    for (auto& entry : channels_) ids.push_back(entry.first);
    channels_.clear();
    for (uint16_t id : ids) {
      if (cbs->onClose) cbs->onClose(id);
      if (!*alive) return;
    }
  }
}

void DataChannels::OnMessage(SctpMessage&& m) {
  const std::shared_ptr<const DataChannelsCallbacks> cbs = callbacks_;
  if (m.ppid == kPpidDcep) {
    OnDcep(m.streamId, m.data);
    return;
  }
  auto it = channels_.find(m.streamId);
  if (it == channels_.end()) return;  // a stream with no channel (a refused OPEN): dropped
  Channel& c = it->second;
  if (c.state == DataChannelState::kClosed) return;
  // Any user message on the stream means the peer processed our OPEN (RFC 8832 §6).
  c.acked = true;
  switch (m.ppid) {
    case kPpidString:
    case kPpidBinary: {
      const bool binary = m.ppid == kPpidBinary;
      if (!c.legacy.empty()) {
        std::vector<uint8_t> whole = std::move(c.legacy);
        c.legacy.clear();
        whole.insert(whole.end(), m.data.begin(), m.data.end());
        Deliver(c, std::move(whole), binary);
      } else {
        Deliver(c, std::move(m.data), binary);
      }
      return;
    }
    case kPpidStringEmpty:
    case kPpidBinaryEmpty:
      Deliver(c, {}, m.ppid == kPpidBinaryEmpty);
      return;
    case kPpidStringPartial:
    case kPpidBinaryPartial: {
      // Deprecated (RFC 8831 §8): fragments of one message, ended by a 51 or 53.
      const size_t limit = config_.sctp.maxReceiveMessageSize;
      if (limit != 0 && c.legacy.size() + m.data.size() > limit) {
        c.legacy.clear();
        const uint16_t id = c.info.id;
        if (cbs->onError) {
          cbs->onError(
              id, Fail("ERR_DATACHANNEL_MESSAGE_TOO_LARGE", "a fragmented message on " + Id(id) +
                                                                " grew past the local limit of " +
                                                                std::to_string(limit) + " bytes"));
        }
        return;
      }
      c.legacy.insert(c.legacy.end(), m.data.begin(), m.data.end());
      return;
    }
    default: {
      const uint16_t id = c.info.id;
      if (cbs->onError) {
        cbs->onError(id,
                     Fail("ERR_DATACHANNEL_PPID", "dropped a message with unknown PPID " +
                                                      std::to_string(m.ppid) + " on " + Id(id)));
      }
      return;
    }
  }
}

void DataChannels::Deliver(Channel& c, std::vector<uint8_t>&& data, bool binary) {
  const std::shared_ptr<const DataChannelsCallbacks> cbs = callbacks_;
  c.stats.messagesReceived += 1;
  c.stats.bytesReceived += data.size();
  if (cbs->onMessage) cbs->onMessage(c.info.id, std::move(data), binary);
}

void DataChannels::OnDcep(uint16_t streamId, const std::vector<uint8_t>& payload) {
  const std::shared_ptr<const DataChannelsCallbacks> cbs = callbacks_;
  auto type = PeekDcepType(payload);
  if (!type.ok()) return;
  if (type.value() == kDcepAck) {
    auto it = channels_.find(streamId);
    if (ParseDcepAck(payload).ok() && it != channels_.end() && it->second.localOpen) {
      it->second.acked = true;
    }
    return;
  }
  if (type.value() != kDcepOpen) return;  // unknown DCEP messages are ignored

  const std::shared_ptr<bool> alive = alive_;
  auto open = ParseDcepOpen(payload);
  // The peer opens ids of the other parity (RFC 8832 §6).
  const bool peerParity = (streamId % 2 == 0) != config_.dtlsClient;
  auto existing = channels_.find(streamId);
  if (!open.ok() || !peerParity || existing != channels_.end()) {
    // RFC 8832 §6: close the stream and send no ACK.
    if (existing != channels_.end()) {
      Channel& c = existing->second;
      if (c.state != DataChannelState::kClosing) {
        c.state = DataChannelState::kClosing;
        if (cbs->onClosing) cbs->onClosing(streamId);
        if (!*alive) return;
      }
      auto again = channels_.find(streamId);
      if (again != channels_.end()) RequestReset(again->second);
    } else {
      (void)association_->ResetStreams({streamId});  // fails only if the association is gone
    }
    if (cbs->onError) {
      cbs->onError(streamId,
                   Fail("ERR_DATACHANNEL_OPEN_REFUSED",
                        "refused DATA_CHANNEL_OPEN on stream " + std::to_string(streamId) + ": " +
                            (!open.ok()    ? open.status().message()
                             : !peerParity ? std::string("the id has our parity")
                                           : std::string("the stream is in use"))));
    }
    return;
  }
  const DcepOpen& o = open.value();
  Channel c;
  c.info.id = streamId;
  c.info.label = o.label;
  c.info.protocol = o.protocol;
  c.info.ordered = o.ordered;
  c.info.priority = o.priority;
  c.info.negotiated = false;
  if (o.reliability == Reliability::kRexmit) c.info.maxRetransmits = o.reliabilityParameter;
  if (o.reliability == Reliability::kTimed) c.info.maxPacketLifeTimeMs = o.reliabilityParameter;
  c.state = DataChannelState::kOpen;
  const DataChannelInfo info = c.info;
  channels_.emplace(streamId, std::move(c));
  SendOptions reliable;
  if (!association_->Send(streamId, kPpidDcep, BuildDcepAck(), reliable).ok()) return;
  if (!*alive) return;
  if (cbs->onChannel) cbs->onChannel(info);
  if (!*alive) return;
  if (channels_.count(streamId) != 0 && cbs->onOpen) cbs->onOpen(streamId);
}

void DataChannels::OnStreamReset(const std::vector<uint16_t>& streams, StreamDirection direction,
                                 bool ok) {
  const std::shared_ptr<const DataChannelsCallbacks> cbs = callbacks_;
  const std::shared_ptr<bool> alive = alive_;
  std::vector<uint16_t> ids = streams;
  if (ids.empty()) {  // usrsctp reports "all streams" with an empty list
    for (const auto& entry : channels_) ids.push_back(entry.first);
  }
  for (uint16_t id : ids) {
    auto it = channels_.find(id);
    if (it == channels_.end()) continue;
    Channel& c = it->second;
    if (direction == StreamDirection::kIncoming) {
      if (!ok) continue;
      c.incomingReset = true;
      c.legacy.clear();
      if (c.state != DataChannelState::kClosing) {
        // The peer closed the channel: close ours too (RFC 8831 §6.7).
        c.state = DataChannelState::kClosing;
        RequestReset(c);
        if (cbs->onClosing) cbs->onClosing(id);
        if (!*alive) return;
      } else {
        RequestReset(c);
      }
    } else {
      c.outgoingReset = true;
      if (!ok && cbs->onError) {
        cbs->onError(id, Fail("ERR_DATACHANNEL_RESET",
                              "the peer refused to reset the "
                              "stream of " +
                                  Id(id)));
        if (!*alive) return;
      }
      if (!ok) {
        // Without the peer's reset the channel cannot close cleanly; close it here anyway.
        auto again = channels_.find(id);
        if (again != channels_.end()) again->second.incomingReset = true;
      }
    }
    MaybeFinishClose(id);
    if (!*alive) return;
  }
}

void DataChannels::MaybeFinishClose(uint16_t id) {
  const std::shared_ptr<const DataChannelsCallbacks> cbs = callbacks_;
  auto it = channels_.find(id);
  if (it == channels_.end()) return;
  if (!it->second.incomingReset || !it->second.outgoingReset) return;
  channels_.erase(it);
  if (cbs->onClose) cbs->onClose(id);
}

void DataChannels::OnSent(uint16_t streamId) {
  const std::shared_ptr<const DataChannelsCallbacks> cbs = callbacks_;
  auto it = channels_.find(streamId);
  if (it == channels_.end()) return;
  Channel& c = it->second;
  if (c.aboveThreshold && association_->BufferedBytes(streamId) <= c.lowThreshold) {
    c.aboveThreshold = false;
    if (cbs->onBufferedAmountLow) cbs->onBufferedAmountLow(streamId);
  }
}

void DataChannels::OnStreamError(uint16_t streamId, const Status& error) {
  const std::shared_ptr<const DataChannelsCallbacks> cbs = callbacks_;
  if (channels_.count(streamId) == 0) return;
  const std::shared_ptr<bool> alive = alive_;
  if (cbs->onError) cbs->onError(streamId, error);
  if (*alive) OnSent(streamId);  // a dropped message left the queue too
}

}  // namespace kvs::sctp
