// The DTLS layer of the stack: one association over whatever carries its datagrams (the
// ICE transport in production, a test link in tests). It owns its state, failures included,
// hands the exported SRTP keys up to the SRTP layer and each application record up to SCTP.
// Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "dtls/dtls_session.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "srtp/srtp_keys.h"

namespace kvs::pc {

class DtlsTransport {
 public:
  // Sends one datagram towards the peer. A failed send is the network's business (DTLS
  // retransmits); it is counted, not fatal.
  using DatagramSender = std::function<Status(ByteSpan)>;

  DtlsTransport(loop::EventLoop& loop, DatagramSender send,
                std::shared_ptr<const dtls::Certificate> certificate);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // Creates the session. A failure here fails the transport (state kFailed) and is
  // returned. A client sends its ClientHello when Connect() is called; a server answers
  // whatever ClientHello arrives.
  Status Configure(dtls::DtlsRole role, const std::string& remoteFingerprint,
                   std::vector<srtp::SrtpProfile> profiles);
  bool configured() const { return session_ != nullptr; }
  void Connect();  // once ICE has a route
  void Close();

  // A datagram the demultiplexer classed as DTLS.
  void HandleDatagram(ByteSpan data);
  // One application record (an SCTP packet) to the peer.
  Status SendApplicationData(ByteSpan data);

  dtls::DtlsState state() const { return state_; }
  // Why the transport failed (ok while it has not).
  const Status& failure() const { return failure_; }
  const dtls::DtlsSession* session() const { return session_.get(); }
  uint64_t sendFailures() const { return sendFailures_; }
  uint64_t droppedApplicationRecords() const {
    return session_ ? session_->droppedApplicationRecords() : 0;
  }

  // Called once, when the handshake completes, with the keys for SRTP. A failure returned
  // here (the SRTP sessions could not be made) fails the transport.
  std::function<Status(const srtp::SrtpKeys&)> onSrtpKeys;
  // Each application record as it is decrypted. Unset: records are dropped and counted.
  void SetApplicationDataHandler(std::function<void(ByteSpan)> handler);
  std::function<void(dtls::DtlsState)> onStateChange;

 private:
  void AfterProgress(const Status& step);
  void ArmRetransmit();
  void Fail(const Status& status);
  void SetState(dtls::DtlsState next);
  void FlushOutgoing();

  loop::EventLoop& loop_;
  DatagramSender send_;
  std::shared_ptr<const dtls::Certificate> certificate_;
  std::unique_ptr<dtls::DtlsSession> session_;
  std::function<void(ByteSpan)> onApplicationData_;
  loop::Timer retransmit_;
  dtls::DtlsState state_ = dtls::DtlsState::kNew;
  Status failure_;
  bool started_ = false;
  bool keysDelivered_ = false;
  uint64_t sendFailures_ = 0;
};

}  // namespace kvs::pc
