#include "pc/dtls_transport.h"

namespace kvs::pc {

DtlsTransport::DtlsTransport(loop::EventLoop& loop, IceTransport& ice,
                             std::shared_ptr<const dtls::Certificate> certificate)
    : loop_(loop), ice_(ice), certificate_(std::move(certificate)), retransmit_(loop) {}

Status DtlsTransport::Configure(dtls::DtlsRole role, const std::string& remoteFingerprint,
                                std::vector<srtp::SrtpProfile> profiles) {
  if (session_) return Status::Ok();  // a renegotiation keeps the association
  dtls::DtlsConfig config;
  config.role = role;
  config.certificate = certificate_;
  config.srtpProfiles = std::move(profiles);
  config.remoteFingerprint = remoteFingerprint;
  auto session = dtls::DtlsSession::Create(std::move(config));
  if (!session.ok()) return session.status();
  session_ = session.take();
  return Status::Ok();
}

void DtlsTransport::Connect() {
  if (!session_ || started_) return;
  started_ = true;
  if (session_->role() != dtls::DtlsRole::kClient) return;
  const dtls::DtlsState before = session_->state();
  Status st = session_->Start();
  if (!st.ok()) return Fail(st);
  AfterProgress(before);
}

void DtlsTransport::HandleDatagram(ByteSpan data) {
  if (!session_) return;
  const dtls::DtlsState before = session_->state();
  session_->HandleDatagram(data.data, data.size);
  AfterProgress(before);
}

void DtlsTransport::AfterProgress(dtls::DtlsState before) {
  for (auto& d : session_->TakeOutgoing()) ice_.Send(ByteSpan(d));
  const dtls::DtlsState after = session_->state();
  if (after == dtls::DtlsState::kConnected && before != after) {
    auto keys = session_->ExportSrtpKeys();
    if (!keys.ok()) return Fail(keys.status());
    auto out = srtp::SrtpSession::Create(keys.value().profile, keys.value().localKeySalt,
                                         srtp::SrtpDirection::kOutbound);
    auto in = srtp::SrtpSession::Create(keys.value().profile, keys.value().remoteKeySalt,
                                        srtp::SrtpDirection::kInbound);
    if (!out.ok()) return Fail(out.status());
    if (!in.ok()) return Fail(in.status());
    srtpOut_ = out.take();
    srtpIn_ = in.take();
  }
  if (after == dtls::DtlsState::kFailed) failure_ = session_->failure();
  ArmRetransmit();
  if (before != after && onStateChange) onStateChange(after);
}

void DtlsTransport::ArmRetransmit() {
  auto wait = session_ ? session_->TimeUntilRetransmit() : std::nullopt;
  if (!wait) {
    retransmit_.Stop();
    return;
  }
  // OpenSSL's timer has microsecond resolution; round up so we never fire early.
  const uint64_t ms = static_cast<uint64_t>((wait->count() + 999) / 1000);
  retransmit_.Start(ms, [this] {
    const dtls::DtlsState before = session_->state();
    session_->HandleTimeout();
    AfterProgress(before);
  });
}

void DtlsTransport::Fail(const Status& status) {
  failure_ = status;
  retransmit_.Stop();
  if (onStateChange) onStateChange(dtls::DtlsState::kFailed);
}

void DtlsTransport::Close() {
  retransmit_.Stop();
  if (!session_) return;
  const dtls::DtlsState before = session_->state();
  session_->Close();
  for (auto& d : session_->TakeOutgoing()) ice_.Send(ByteSpan(d));
  if (before != session_->state() && onStateChange) onStateChange(session_->state());
}

}  // namespace kvs::pc
