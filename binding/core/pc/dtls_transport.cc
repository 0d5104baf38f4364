#include "pc/dtls_transport.h"

namespace kvs::pc {

DtlsTransport::DtlsTransport(loop::EventLoop& loop, DatagramSender send,
                             std::shared_ptr<const dtls::Certificate> certificate)
    : loop_(loop),
      send_(std::move(send)),
      certificate_(std::move(certificate)),
      retransmit_(loop) {}

DtlsTransport::~DtlsTransport() {
  onStateChange = nullptr;
  onSrtpKeys = nullptr;
}

Status DtlsTransport::Configure(dtls::DtlsRole role, const std::string& remoteFingerprint,
                                std::vector<srtp::SrtpProfile> profiles) {
  if (session_) return Status::Ok();  // a renegotiation keeps the association
  if (state_ != dtls::DtlsState::kNew) {
    return Status::Fail("ERR_INVALID_STATE", "the DTLS transport is closed or failed");
  }
  dtls::DtlsConfig config;
  config.role = role;
  config.certificate = certificate_;
  config.srtpProfiles = std::move(profiles);
  config.remoteFingerprint = remoteFingerprint;
  auto session = dtls::DtlsSession::Create(std::move(config));
  if (!session.ok()) {
    Fail(session.status());
    return session.status();
  }
  session_ = session.take();
  session_->SetApplicationDataHandler(onApplicationData_);
  return Status::Ok();
}

void DtlsTransport::SetApplicationDataHandler(std::function<void(ByteSpan)> handler) {
  onApplicationData_ = std::move(handler);
  if (session_) session_->SetApplicationDataHandler(onApplicationData_);
}

void DtlsTransport::Connect() {
  if (!session_ || started_ || state_ != dtls::DtlsState::kNew) return;
  started_ = true;
  if (session_->role() != dtls::DtlsRole::kClient) return;
  AfterProgress(session_->Start());
}

void DtlsTransport::HandleDatagram(ByteSpan data) {
  if (!session_ || state_ == dtls::DtlsState::kFailed || state_ == dtls::DtlsState::kClosed) {
    return;
  }
  AfterProgress(session_->HandleDatagram(data.data, data.size));
}

Status DtlsTransport::SendApplicationData(ByteSpan data) {
  if (!session_ || state_ != dtls::DtlsState::kConnected) {
    return Status::Fail("ERR_INVALID_STATE", "DTLS is not connected");
  }
  Status st = session_->Send(data.data, data.size);
  FlushOutgoing();
  return st;
}

void DtlsTransport::FlushOutgoing() {
  if (!session_) return;
  for (auto& d : session_->TakeOutgoing()) {
    if (!send_(ByteSpan(d)).ok()) ++sendFailures_;
  }
}

void DtlsTransport::AfterProgress(const Status& step) {
  FlushOutgoing();
  const dtls::DtlsState after = session_->state();
  if (after == dtls::DtlsState::kFailed) return Fail(session_->failure());
  // A datagram the session refused without failing (e.g. an empty one) changes nothing.
  (void)step;
  if (after == dtls::DtlsState::kConnected && !keysDelivered_) {
    keysDelivered_ = true;
    auto keys = session_->ExportSrtpKeys();
    if (!keys.ok()) return Fail(keys.status());
    if (onSrtpKeys) {
      Status st = onSrtpKeys(keys.value());
      if (!st.ok()) return Fail(st);
    }
  }
  ArmRetransmit();
  SetState(after);
}

void DtlsTransport::ArmRetransmit() {
  auto wait = session_ ? session_->TimeUntilRetransmit() : std::nullopt;
  if (!wait) {
    retransmit_.Stop();
    return;
  }
  // OpenSSL's timer has microsecond resolution; round up so we never fire early.
  const uint64_t ms = static_cast<uint64_t>((wait->count() + 999) / 1000);
  retransmit_.Start(ms, [this] { AfterProgress(session_->HandleTimeout()); });
}

void DtlsTransport::SetState(dtls::DtlsState next) {
  if (next == state_ || state_ == dtls::DtlsState::kFailed) return;
  state_ = next;
  if (onStateChange) onStateChange(next);
}

void DtlsTransport::Fail(const Status& status) {
  if (state_ == dtls::DtlsState::kFailed) return;
  failure_ = status.ok() ? Status::Fail("ERR_DTLS_HANDSHAKE", "DTLS failed") : status;
  retransmit_.Stop();
  state_ = dtls::DtlsState::kFailed;
  if (onStateChange) onStateChange(state_);
}

void DtlsTransport::Close() {
  retransmit_.Stop();
  if (state_ == dtls::DtlsState::kFailed || state_ == dtls::DtlsState::kClosed) return;
  if (session_) {
    session_->Close();
    FlushOutgoing();
  }
  SetState(dtls::DtlsState::kClosed);
}

}  // namespace kvs::pc
