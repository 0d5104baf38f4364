#include "pc/rtp_transport.h"

#include <uv.h>

#include <algorithm>
#include <chrono>

#include "crypto/random.h"
#include "rtp/rtp_extension_codecs.h"
#include "srtp/srtp_session.h"

namespace kvs::pc {
namespace {

// Streams' timers (NACK retries, reports, jitter-buffer deadlines) run on one 10 ms tick.
constexpr uint64_t kTickMs = 10;
// A packet of at most the MTU, plus SRTP's trailer room.
constexpr size_t kSendBufferSize = 1500 + srtp::SrtpSession::kMaxRtcpTrailer;

// The codec we send on a transceiver: the app's first preference that the answer kept, else
// the answer's first.
const sdp::NegotiatedCodec* SendCodec(const Transceiver& t) {
  if (t.rtp.codecs.empty()) return nullptr;
  for (sdp::Codec wanted : t.init.codecs) {
    for (const auto& c : t.rtp.codecs) {
      if (c.codec == wanted) return &c;
    }
  }
  return &t.rtp.codecs.front();
}

media::RtcpFeedback FeedbackOf(const sdp::RtpParameters& p) {
  media::RtcpFeedback f;
  f.nack = p.nack;
  f.pli = p.pli;
  f.fir = p.fir;
  f.remb = p.remb;
  f.transportCc = p.transportCc && p.twccExtensionId != 0;
  return f;
}

// One-byte-form ids only: the streams write the one-byte form.
uint8_t OneByteId(uint8_t id) { return id >= 1 && id <= 14 ? id : 0; }

}  // namespace

RtpTransport::RtpTransport(loop::EventLoop& loop, SrtpTransport& srtp,
                           std::vector<std::unique_ptr<Transceiver>>& transceivers,
                           std::string cname)
    : loop_(loop),
      srtp_(srtp),
      transceivers_(transceivers),
      cname_(std::move(cname)),
      random_(crypto::UniqueBytes),
      sendBuffer_(kSendBufferSize),
      tick_(loop) {}

RtpTransport::~RtpTransport() {
  onFrame = nullptr;
  onKeyFrameNeeded = nullptr;
  onBandwidth = nullptr;
}

int64_t RtpTransport::NowUs() { return static_cast<int64_t>(uv_hrtime() / 1000); }

int64_t RtpTransport::UnixNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status RtpTransport::ApplyNegotiation() {
  if (closed_) return Status::Ok();
  bool anyStream = false;
  for (auto& t : transceivers_) {
    if (t->mid.empty() || !t->negotiatedDirection || t->rtp.codecs.empty()) continue;
    if (Sends(*t->negotiatedDirection)) {
      Status st = ConfigureSend(*t);
      if (!st.ok()) return st;
    } else {
      t->send.reset();
    }
    if (Receives(*t->negotiatedDirection)) {
      Status st = ConfigureReceive(*t);
      if (!st.ok()) return st;
    } else {
      t->receiveTemplate.reset();
      t->receive.clear();
    }
    anyStream = anyStream || t->send || t->receiveTemplate;
    if (!twccReceiver_ && t->receiving() && t->rtp.transportCc && t->rtp.twccExtensionId != 0) {
      media::TransportFeedbackReceiverConfig c;
      c.senderSsrc = t->ssrc;
      twccReceiver_ = std::make_unique<media::TransportFeedbackReceiver>(c);
    }
  }
  if (anyStream && !tick_.active()) tick_.StartRepeating(kTickMs, [this] { Tick(); });
  return Status::Ok();
}

Status RtpTransport::ConfigureSend(Transceiver& t) {
  const sdp::NegotiatedCodec* c = SendCodec(t);
  if (c == nullptr) return Status::Ok();
  if (t.send && t.send->config().payloadType == c->payloadType &&
      t.send->config().codec == c->codec) {
    return Status::Ok();  // a renegotiation that changed nothing we send
  }
  media::SendStreamConfig cfg;
  cfg.codec = c->codec;
  cfg.payloadType = c->payloadType;
  cfg.ssrc = t.ssrc;
  if (c->rtxPayloadType && t.rtxSsrc != 0)
    cfg.rtx = media::RtxSendConfig{*c->rtxPayloadType, t.rtxSsrc};
  cfg.midExtensionId = t.mid.size() <= 16 ? OneByteId(t.rtp.midExtensionId) : 0;
  cfg.mid = t.mid;
  cfg.absSendTimeExtensionId = OneByteId(t.rtp.absSendTimeExtensionId);
  cfg.feedback = FeedbackOf(t.rtp);
  cfg.transportCcExtensionId = cfg.feedback.transportCc ? OneByteId(t.rtp.twccExtensionId) : 0;
  cfg.cname = cname_;
  cfg.rollingBuffer = t.rollingBuffer;
  auto stream =
      media::SendStream::Create(cfg, random_, cfg.transportCcExtensionId ? &twccSender_ : nullptr);
  if (!stream.ok()) return stream.status();
  t.send = stream.take();
  if (ready_) {
    t.send->RequestKeyFrame(media::KeyFrameReason::kFirstFrame, NowUs(), sendOut_);
    Flush(t, sendOut_);
  }
  return Status::Ok();
}

Status RtpTransport::ConfigureReceive(Transceiver& t) {
  media::ReceiveStreamConfig cfg;
  cfg.localSsrc = t.ssrc;
  cfg.cname = cname_;
  cfg.feedback = FeedbackOf(t.rtp);
  cfg.reducedSizeRtcp = t.rtp.reducedSizeRtcp;
  cfg.transportCcExtensionId = cfg.feedback.transportCc ? OneByteId(t.rtp.twccExtensionId) : 0;
  // The codec, its payload types and RTX are chosen per stream from its first packet.
  t.receiveTemplate = cfg;
  // A renegotiation that dropped a codec: streams for it go.
  t.receive.erase(std::remove_if(t.receive.begin(), t.receive.end(),
                                 [&](const std::unique_ptr<media::ReceiveStream>& s) {
                                   for (const auto& c : t.rtp.codecs) {
                                     if (c.payloadType == s->config().payloadTypes.front()) {
                                       return false;
                                     }
                                   }
                                   return true;
                                 }),
                  t.receive.end());
  return Status::Ok();
}

void RtpTransport::SetReady(bool ready) {
  if (ready == ready_ || closed_) return;
  ready_ = ready;
  if (!ready) return;
  // The first frame after the connection is ready must be a key frame: say so to the app.
  const int64_t now = NowUs();
  for (auto& t : transceivers_) {
    if (!t->sending()) continue;
    t->send->RequestKeyFrame(media::KeyFrameReason::kFirstFrame, now, sendOut_);
    Flush(*t, sendOut_);
  }
}

WriteOutcome RtpTransport::WriteFrame(Transceiver& t, const media::EncodedFrame& frame,
                                      Status* error) {
  if (!ready_ || closed_) {
    ++counters_.framesDiscardedNotReady;
    return WriteOutcome::kNotReady;
  }
  if (!t.sending()) {
    ++counters_.framesDiscardedNotSending;
    return WriteOutcome::kNotSending;
  }
  Status st = t.send->SendFrame(frame, NowUs(), sendOut_);
  Flush(t, sendOut_);
  if (!st.ok()) {
    if (error) *error = st;
    return WriteOutcome::kRejected;
  }
  return WriteOutcome::kSent;
}

void RtpTransport::RequestKeyFrame(Transceiver& t) {
  if (closed_) return;
  const int64_t now = NowUs();
  for (auto& s : t.receive) {
    s->RequestKeyFrame(now, receiveOut_);
    Flush(t, receiveOut_);
  }
}

void RtpTransport::Flush(Transceiver& t, media::SendStreamOutput& out) {
  // Packets the network refused are reported after the walk: reporting appends to `out`.
  std::vector<size_t> failed;
  for (size_t i = 0; i < out.packets.size(); ++i) {
    const media::OutgoingRtpPacket& p = out.packets[i];
    if (p.size() + srtp::SrtpSession::kMaxRtcpTrailer > sendBuffer_.size()) {
      failed.push_back(i);
      continue;
    }
    p.WriteTo(sendBuffer_.data());
    if (!srtp_.SendRtp(sendBuffer_.data(), p.size(), sendBuffer_.size()).ok()) failed.push_back(i);
  }
  SendRtcpPackets(out.rtcp);
  std::vector<media::SendStreamEvent> events = std::move(out.events);
  if (!failed.empty() && t.send) {
    std::vector<media::OutgoingRtpPacket> packets = std::move(out.packets);
    out.Clear();
    const int64_t now = NowUs();
    for (size_t i : failed) t.send->OnPacketSendFailed(packets[i], now, out);
    SendRtcpPackets(out.rtcp);
    for (auto& e : out.events) events.push_back(e);
  }
  out.Clear();
  for (const auto& e : events) {
    if (e.type == media::SendStreamEvent::Type::kKeyFrameNeeded) {
      if (onKeyFrameNeeded) onKeyFrameNeeded(t, e.reason);
    } else if (onBandwidth) {
      onBandwidth(&t, e.bitrateBps, "remb");
    }
  }
}

void RtpTransport::Flush(Transceiver& t, media::ReceiveStreamOutput& out) {
  SendRtcpPackets(out.rtcp);
  std::vector<media::ReceivedFrame> frames = std::move(out.frames);
  out.Clear();
  for (auto& f : frames) {
    if (onFrame) onFrame(t, std::move(f));
  }
}

void RtpTransport::SendRtcpPackets(std::vector<std::vector<uint8_t>>& rtcp) {
  for (auto& packet : rtcp) {
    const size_t length = packet.size();
    packet.resize(length + srtp::SrtpSession::kMaxRtcpTrailer);
    // A refused report or feedback is lost like any datagram; the next one follows.
    (void)srtp_.SendRtcp(packet.data(), length, packet.size());
  }
  rtcp.clear();
}

media::ReceiveStream* RtpTransport::AddReceiveStream(Transceiver& t, uint32_t ssrc, Status* error) {
  if (!t.receiveTemplate) return nullptr;
  const uint8_t pt = view_.payloadType;
  const sdp::NegotiatedCodec* codec = nullptr;
  for (const auto& c : t.rtp.codecs) {
    if (c.payloadType == pt) codec = &c;
  }
  if (codec == nullptr) return nullptr;  // RTX or unknown: no stream starts from it
  media::ReceiveStreamConfig cfg = *t.receiveTemplate;
  cfg.codec = codec->codec;
  cfg.remoteSsrc = ssrc;
  cfg.payloadTypes = {codec->payloadType};
  for (const auto& c : t.rtp.codecs) {
    if (c.codec == codec->codec && c.payloadType != codec->payloadType) {
      cfg.payloadTypes.push_back(c.payloadType);
    }
  }
  if (codec->rtxPayloadType) {
    uint32_t rtxSsrc = 0;
    for (const auto& r : t.remoteSsrcs) {
      if (r.ssrc == ssrc) rtxSsrc = r.rtxSsrc;
    }
    cfg.rtx = media::RtxReceiveConfig{*codec->rtxPayloadType, rtxSsrc};
  }
  auto stream = media::ReceiveStream::Create(cfg, random_, twccReceiver_.get());
  if (!stream.ok()) {
    if (error) *error = stream.status();
    return nullptr;
  }
  if (rttUs_ > 0) stream.value()->SetRoundTripTime(rttUs_);
  if (twccReceiver_) twccReceiver_->SetMediaSsrc(ssrc);
  // A new SSRC on a transceiver replaces the old one (a track switch): the old stream goes.
  t.receive.clear();
  t.receive.push_back(stream.take());
  return t.receive.back().get();
}

media::ReceiveStream* RtpTransport::StreamFor(const rtp::RtpPacketView& v, Transceiver** owner) {
  // 1. By SSRC, media or RTX.
  for (auto& t : transceivers_) {
    for (auto& s : t->receive) {
      const auto& c = s->config();
      if (c.remoteSsrc == v.ssrc || (c.rtx && c.rtx->ssrc == v.ssrc && c.rtx->ssrc != 0)) {
        *owner = t.get();
        return s.get();
      }
    }
  }
  // 2. By what the SDP announced, by the mid extension, or by a payload type only one
  //    receiving transceiver has.
  Transceiver* found = nullptr;
  for (auto& t : transceivers_) {
    if (!t->receiving()) continue;
    for (const auto& r : t->remoteSsrcs) {
      if (r.ssrc == v.ssrc || r.rtxSsrc == v.ssrc) found = t.get();
    }
  }
  if (found == nullptr) {
    // One BUNDLE group: the mid extension has one id in every m-line that negotiated it.
    uint8_t midId = 0;
    for (auto& t : transceivers_) {
      if (t->receiving() && t->rtp.midExtensionId != 0) midId = t->rtp.midExtensionId;
    }
    if (auto ext = midId ? v.extensions.Find(midId) : std::nullopt) {
      auto mid = rtp::ParseSdesExtension(*ext);
      for (auto& t : transceivers_) {
        if (mid.ok() && t->receiving() && mid.value() == t->mid) found = t.get();
      }
    }
  }
  if (found == nullptr) {
    int matches = 0;
    for (auto& t : transceivers_) {
      if (!t->receiving()) continue;
      for (const auto& c : t->rtp.codecs) {
        if (c.payloadType == v.payloadType || c.rtxPayloadType == v.payloadType) {
          found = t.get();
          ++matches;
          break;
        }
      }
    }
    if (matches != 1) found = nullptr;
  }
  if (found == nullptr) return nullptr;
  *owner = found;
  // An RTX packet of a stream that has not started: nothing to repair yet.
  for (auto& s : found->receive) {
    const auto& c = s->config();
    if (c.rtx && c.rtx->payloadType == v.payloadType) return s.get();
  }
  Status error;
  return AddReceiveStream(*found, v.ssrc, &error);
}

void RtpTransport::HandleRtp(std::vector<uint8_t>&& packet) {
  if (closed_) return;
  if (!rtp::ParseRtp(ByteSpan(packet), &view_).ok()) {
    ++counters_.rtpMalformed;
    return;
  }
  Transceiver* owner = nullptr;
  media::ReceiveStream* stream = StreamFor(view_, &owner);
  if (stream == nullptr || owner == nullptr) {
    ++counters_.rtpUnroutable;
    return;
  }
  stream->OnRtp(std::move(packet), NowUs(), receiveOut_);
  Flush(*owner, receiveOut_);
}

void RtpTransport::HandleRtcp(std::vector<uint8_t>&& packet) {
  if (closed_) return;
  // The packets before a framing error still count.
  if (!media::ParseRtcpCompound(ByteSpan(packet), &parsedRtcp_).ok()) ++counters_.rtcpMalformed;
  const int64_t now = NowUs();
  for (auto& t : transceivers_) {
    if (t->send) {
      t->send->OnRtcp(parsedRtcp_, now, sendOut_);
      Flush(*t, sendOut_);
    }
    for (auto& s : t->receive) {
      s->OnRtcp(parsedRtcp_, now, receiveOut_);
      Flush(*t, receiveOut_);
    }
  }
  for (const auto& fb : parsedRtcp_.transportFeedback) {
    auto estimate = twccSender_.OnFeedback(fb, now);
    if (estimate && onBandwidth) onBandwidth(nullptr, estimate->targetBps, "transport-cc");
  }
}

void RtpTransport::SetRoundTripTime(int64_t rttUs) {
  if (rttUs <= 0) return;
  rttUs_ = rttUs;
  twccSender_.SetRoundTripTime(rttUs);
  for (auto& t : transceivers_) {
    if (t->send) t->send->SetRoundTripTime(rttUs);
    for (auto& s : t->receive) s->SetRoundTripTime(rttUs);
  }
}

void RtpTransport::Tick() {
  if (closed_) return;
  const int64_t now = NowUs();
  const int64_t unixNow = UnixNowUs();
  if (rttSource && now >= nextRttPollUs_) {
    nextRttPollUs_ = now + 500'000;
    SetRoundTripTime(rttSource());
  }
  for (auto& t : transceivers_) {
    if (t->send && ready_) {
      t->send->Tick(now, unixNow, sendOut_);
      Flush(*t, sendOut_);
    }
    for (auto& s : t->receive) {
      s->Tick(now, receiveOut_);
      Flush(*t, receiveOut_);
    }
  }
  if (twccReceiver_) {
    twccReceiver_->Tick(now, rtcpOut_);
    SendRtcpPackets(rtcpOut_);
  }
}

void RtpTransport::Close() {
  closed_ = true;
  tick_.Stop();
}

}  // namespace kvs::pc
