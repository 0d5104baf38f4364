#include "pc/sctp_transport.h"

#include <uv.h>

namespace kvs::pc {
namespace {

uint64_t MonotonicMs() { return uv_hrtime() / 1'000'000; }

Status NoChannel(uint32_t handle) {
  return Status::Fail("ERR_INVALID_STATE",
                      "data channel " + std::to_string(handle) + " is closed or unknown");
}

}  // namespace

SctpTransport::SctpTransport(loop::EventLoop& loop, DtlsTransport& dtls)
    : loop_(loop), dtls_(dtls), tick_(loop) {}

SctpTransport::~SctpTransport() {
  *alive_ = false;
  dtls_.SetApplicationDataHandler(nullptr);
  channels_.reset();  // runs no callback
}

Status SctpTransport::Configure(bool dtlsClient, uint16_t remotePort, uint64_t remoteMaxMessageSize,
                                uint64_t localMaxMessageSize) {
  if (closed_) return Status::Fail("ERR_INVALID_STATE", "the peer connection is closed");
  remoteMaxMessageSize_ = remoteMaxMessageSize;
  if (channels_) {
    channels_->SetRemoteMaxMessageSize(remoteMaxMessageSize);
    return Status::Ok();
  }
  sctp::DataChannelsConfig config;
  config.dtlsClient = dtlsClient;
  config.sctp.remotePort = remotePort;
  config.remoteMaxMessageSize = remoteMaxMessageSize;
  config.sctp.maxReceiveMessageSize = static_cast<size_t>(localMaxMessageSize);
  // Work raised for us inside another association's call (its timers) is drained here.
  std::weak_ptr<bool> alive = alive_;
  config.sctp.wake = [this, alive] {
    loop_.Post([this, alive] {
      if (alive.lock() && channels_) {
        channels_->Poll();
        ReportBuffered();
      }
    });
  };
  sctp::DataChannelsCallbacks cb;
  cb.onPacket = [this](ByteSpan packet) {
    // A record DTLS cannot take now is lost like a datagram: SCTP retransmits it.
    (void)dtls_.SendApplicationData(packet);
  };
  cb.onAssociationState = [this](sctp::AssociationState s, const Status& why) {
    if (onAssociationState) onAssociationState(s, why);
  };
  cb.onChannel = [this](const sctp::DataChannelInfo& info) {
    const uint32_t handle = nextRemoteHandle_++;
    Bind(handle, info.id);
    if (onChannel) onChannel(handle, info);
  };
  cb.onOpen = [this](uint16_t id) {
    if (auto h = HandleOf(id); h && onOpen) onOpen(*h, id);
  };
  cb.onMessage = [this](uint16_t id, std::vector<uint8_t>&& data, bool binary) {
    if (auto h = HandleOf(id); h && onMessage) onMessage(*h, std::move(data), binary);
  };
  cb.onBufferedAmountLow = [this](uint16_t id) {
    if (auto h = HandleOf(id); h && onBufferedAmountLow) onBufferedAmountLow(*h);
  };
  cb.onClosing = [this](uint16_t id) {
    if (auto h = HandleOf(id); h && onClosing) onClosing(*h);
  };
  cb.onClose = [this](uint16_t id) {
    auto h = HandleOf(id);
    if (!h) return;
    // The id may be reused from now on: forget the binding before anyone can reuse it.
    handleById_.erase(id);
    idByHandle_.erase(*h);
    lastBuffered_.erase(*h);
    if (onClose) onClose(*h);
  };
  cb.onError = [this](uint16_t id, const Status& error) {
    if (auto h = HandleOf(id); h && onError) onError(*h, error);
  };
  auto made = sctp::DataChannels::Create(std::move(config), std::move(cb));
  if (!made.ok()) return made.status();
  channels_ = made.take();
  dtls_.SetApplicationDataHandler([this](ByteSpan record) {
    if (!channels_) return;
    channels_->HandlePacket(record);
    ReportBuffered();
  });
  // The channels the app asked for before there was an association.
  std::vector<Pending> pending = std::move(pending_);
  pending_.clear();
  for (const Pending& p : pending) {
    Status st = CreateChannel(p.handle, p.init);
    if (!st.ok() && onError) onError(p.handle, st);
  }
  return Status::Ok();
}

Status SctpTransport::Start() {
  if (!channels_ || closed_) return Status::Ok();
  StartTimer();
  Status st = channels_->Start();
  ReportBuffered();
  return st;
}

void SctpTransport::StartTimer() {
  if (tick_.active()) return;
  // usrsctp has no "next timer" call: poll it while our association lives.
  tick_.StartRepeating(sctp::kUsrsctpTickIntervalMs, [this] {
    sctp::TickUsrsctp(MonotonicMs());
    if (channels_) {
      channels_->Poll();
      ReportBuffered();
    }
  });
}

void SctpTransport::SetRemoteMaxMessageSize(uint64_t bytes) {
  remoteMaxMessageSize_ = bytes;
  if (channels_) channels_->SetRemoteMaxMessageSize(bytes);
}

void SctpTransport::Bind(uint32_t handle, uint16_t id) {
  idByHandle_[handle] = id;
  handleById_[id] = handle;
  auto t = lowThreshold_.find(handle);
  if (t != lowThreshold_.end() && channels_) {
    (void)channels_->SetBufferedAmountLowThreshold(id, t->second);  // a known id: cannot fail
    lowThreshold_.erase(t);
  }
}

std::optional<uint32_t> SctpTransport::HandleOf(uint16_t id) const {
  auto it = handleById_.find(id);
  if (it == handleById_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint16_t> SctpTransport::StreamId(uint32_t handle) const {
  auto it = idByHandle_.find(handle);
  if (it == idByHandle_.end()) return std::nullopt;
  return it->second;
}

Status SctpTransport::CreateChannel(uint32_t handle, const sctp::DataChannelInit& init) {
  if (closed_) return Status::Fail("ERR_INVALID_STATE", "the peer connection is closed");
  if (!channels_) {
    pending_.push_back({handle, init});
    return Status::Ok();
  }
  auto id = channels_->CreateChannel(init);
  if (!id.ok()) return id.status();
  Bind(handle, id.value());
  ReportBuffered();
  return Status::Ok();
}

Status SctpTransport::Send(uint32_t handle, std::vector<uint8_t> data, bool binary) {
  auto id = StreamId(handle);
  if (!id || !channels_) return NoChannel(handle);
  Status st = channels_->Send(*id, std::move(data), binary);
  ReportBuffered();
  return st;
}

Status SctpTransport::CloseChannel(uint32_t handle) {
  if (!channels_) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->handle == handle) {
        pending_.erase(it);
        if (onClose) onClose(handle);
        return Status::Ok();
      }
    }
    return NoChannel(handle);
  }
  auto id = StreamId(handle);
  if (!id) return NoChannel(handle);
  return channels_->CloseChannel(*id);
}

Status SctpTransport::SetBufferedAmountLowThreshold(uint32_t handle, size_t bytes) {
  auto id = StreamId(handle);
  if (!id || !channels_) {
    lowThreshold_[handle] = bytes;  // applied when the channel gets its id
    return Status::Ok();
  }
  return channels_->SetBufferedAmountLowThreshold(*id, bytes);
}

size_t SctpTransport::BufferedAmount(uint32_t handle) const {
  auto id = StreamId(handle);
  if (!id || !channels_) return 0;
  return channels_->BufferedAmount(*id);
}

void SctpTransport::ReportBuffered() {
  if (!onBufferedAmount || !channels_) return;
  for (const auto& [handle, id] : idByHandle_) {
    const size_t now = channels_->BufferedAmount(id);
    size_t& last = lastBuffered_[handle];
    if (now != last) {
      last = now;
      onBufferedAmount(handle, now);
    }
  }
}

std::vector<sctp::DataChannelStats> SctpTransport::Stats() const {
  return channels_ ? channels_->AllStats() : std::vector<sctp::DataChannelStats>{};
}

std::optional<sctp::DataChannelInfo> SctpTransport::Info(uint32_t handle) const {
  auto id = StreamId(handle);
  if (!id || !channels_) return std::nullopt;
  auto info = channels_->Info(*id);
  if (!info.ok()) return std::nullopt;
  return info.value();
}

void SctpTransport::Close() {
  if (closed_) return;
  closed_ = true;
  tick_.Stop();
  if (channels_) channels_->Abort();  // every channel's close is reported from here
  for (const Pending& p : pending_) {
    if (onClose) onClose(p.handle);
  }
  pending_.clear();
}

}  // namespace kvs::pc
