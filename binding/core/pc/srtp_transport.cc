#include "pc/srtp_transport.h"

namespace kvs::pc {

Status SrtpTransport::Start(const srtp::SrtpKeys& keys) {
  if (outbound_) return Status::Ok();  // one DTLS association, one set of keys
  auto out =
      srtp::SrtpSession::Create(keys.profile, keys.localKeySalt, srtp::SrtpDirection::kOutbound);
  if (!out.ok()) return out.status();
  auto in =
      srtp::SrtpSession::Create(keys.profile, keys.remoteKeySalt, srtp::SrtpDirection::kInbound);
  if (!in.ok()) return in.status();
  outbound_ = out.take();
  inbound_ = in.take();
  return Status::Ok();
}

std::optional<srtp::SrtpProfile> SrtpTransport::profile() const {
  if (!outbound_) return std::nullopt;
  return outbound_->profile();
}

Status SrtpTransport::Send(uint8_t* buf, size_t length) {
  Status st = send_(ByteSpan(buf, length));
  if (!st.ok()) ++counters_.sendFailures;
  return st;
}

Status SrtpTransport::SendRtp(uint8_t* buf, size_t length, size_t capacity) {
  if (!outbound_) {
    ++counters_.droppedBeforeKeys;
    return Status::Fail("ERR_SRTP_NOT_READY", "SRTP keys are not negotiated yet");
  }
  auto n = outbound_->ProtectRtp(buf, length, capacity);
  if (!n.ok()) return n.status();
  ++counters_.rtpSent;
  return Send(buf, n.value());
}

Status SrtpTransport::SendRtcp(uint8_t* buf, size_t length, size_t capacity) {
  if (!outbound_) {
    ++counters_.droppedBeforeKeys;
    return Status::Fail("ERR_SRTP_NOT_READY", "SRTP keys are not negotiated yet");
  }
  auto n = outbound_->ProtectRtcp(buf, length, capacity);
  if (!n.ok()) return n.status();
  ++counters_.rtcpSent;
  return Send(buf, n.value());
}

void SrtpTransport::HandleRtp(ByteSpan datagram) {
  if (!inbound_) {
    ++counters_.droppedBeforeKeys;
    return;
  }
  std::vector<uint8_t> packet(datagram.data, datagram.data + datagram.size);
  auto n = inbound_->UnprotectRtp(packet.data(), packet.size());
  if (!n.ok()) {
    if (n.status().code() == "ERR_SRTP_REPLAY") {
      ++counters_.rtpReplayed;
    } else {
      ++counters_.rtpDecryptFailures;
      if (onRtpDecryptFailure && datagram.size >= 12) {
        ByteReader r(datagram.sub(8, 4));
        onRtpDecryptFailure(r.u32());
      }
    }
    return;
  }
  packet.resize(n.value());
  ++counters_.rtpReceived;
  if (onRtp) onRtp(std::move(packet));
}

void SrtpTransport::HandleRtcp(ByteSpan datagram) {
  if (!inbound_) {
    ++counters_.droppedBeforeKeys;
    return;
  }
  std::vector<uint8_t> packet(datagram.data, datagram.data + datagram.size);
  auto n = inbound_->UnprotectRtcp(packet.data(), packet.size());
  if (!n.ok()) {
    ++counters_.rtcpDecryptFailures;
    return;
  }
  packet.resize(n.value());
  ++counters_.rtcpReceived;
  if (onRtcp) onRtcp(std::move(packet));
}

}  // namespace kvs::pc
