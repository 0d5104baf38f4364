// DTLS over the ICE transport, and the SRTP sessions its keys make. Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "dtls/dtls_session.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "pc/ice_transport.h"
#include "srtp/srtp_session.h"

namespace kvs::pc {

class DtlsTransport {
 public:
  DtlsTransport(loop::EventLoop& loop, IceTransport& ice,
                std::shared_ptr<const dtls::Certificate> certificate);

  // Creates the session; a client sends its ClientHello when Connect() is called, a server
  // answers whatever ClientHello arrives.
  Status Configure(dtls::DtlsRole role, const std::string& remoteFingerprint,
                   std::vector<srtp::SrtpProfile> profiles);
  bool configured() const { return session_ != nullptr; }
  void Connect();  // once ICE has a route
  void Close();

  // A datagram from ICE with a DTLS content type (RFC 7983: first byte 20-63).
  void HandleDatagram(ByteSpan data);

  dtls::DtlsState state() const { return session_ ? session_->state() : dtls::DtlsState::kNew; }
  const dtls::DtlsSession* session() const { return session_.get(); }
  const Status& failure() const { return failure_; }
  srtp::SrtpSession* srtpOutbound() { return srtpOut_.get(); }
  srtp::SrtpSession* srtpInbound() { return srtpIn_.get(); }

  std::function<void(dtls::DtlsState)> onStateChange;

 private:
  void AfterProgress(dtls::DtlsState before);
  void ArmRetransmit();
  void Fail(const Status& status);

  loop::EventLoop& loop_;
  IceTransport& ice_;
  std::shared_ptr<const dtls::Certificate> certificate_;
  std::unique_ptr<dtls::DtlsSession> session_;
  std::unique_ptr<srtp::SrtpSession> srtpOut_;
  std::unique_ptr<srtp::SrtpSession> srtpIn_;
  loop::Timer retransmit_;
  Status failure_;
  bool started_ = false;
};

}  // namespace kvs::pc
