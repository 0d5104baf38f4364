#include "media/send_stream.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>

#include "media/frame_rate_meter.h"
#include "media/h264_packetizer.h"
#include "media/h265_packetizer.h"
#include "media/payload_formats.h"
#include "media/rtp_history.h"
#include "media/sender_reporter.h"
#include "media/video_size.h"
#include "media/vp8_packetizer.h"
#include "rtp/rtp_extension_codecs.h"
#include "rtp/rtp_packet.h"
#include "srtp/srtp_session.h"

namespace kvs::media {

namespace {

constexpr int64_t kKeyFrameEventRepeatUs = 500'000;
constexpr size_t kOsnSize = 2;
constexpr size_t kMinPayload = 16;
// W3C hugeFramesSent: at least 2.5 times the average frame size.
constexpr uint64_t kHugeNumerator = 5, kHugeDenominator = 2;

Status ConfigError(const std::string& what) { return Status::Fail("ERR_MEDIA_CONFIG", what); }

// The RTP header every packet of one SSRC starts from: written once with placeholder values,
// then copied and patched per packet (sequence number, timestamp, marker and the two changing
// extension values), which costs a 40-byte copy instead of a header build.
struct HeaderTemplate {
  std::array<uint8_t, OutgoingRtpPacket::kMaxHeaderSize> bytes{};
  uint8_t size = 0;
  uint8_t absSendTimeOffset = 0;  // 0: not negotiated (offset 0 is the fixed header)
  uint8_t transportCcOffset = 0;
};

Result<HeaderTemplate> BuildTemplate(const SendStreamConfig& c, uint8_t payloadType,
                                     uint32_t ssrc) {
  HeaderTemplate t;
  std::array<rtp::HeaderExtension, 3> ext;
  size_t n = 0;
  const std::array<uint8_t, rtp::kAbsSendTimeSize> ast{};
  const std::array<uint8_t, rtp::kTransportSequenceNumberSize> twcc{};
  if (c.midExtensionId != 0) ext[n++] = {c.midExtensionId, rtp::SdesValue(c.mid)};
  if (c.absSendTimeExtensionId != 0) {
    ext[n++] = {c.absSendTimeExtensionId, ByteSpan(ast.data(), ast.size())};
  }
  if (c.transportCcExtensionId != 0) {
    ext[n++] = {c.transportCcExtensionId, ByteSpan(twcc.data(), twcc.size())};
  }
  rtp::RtpHeader h;
  h.payloadType = payloadType;
  h.ssrc = ssrc;
  h.extensions = rtp::ArrayView<rtp::HeaderExtension>(ext.data(), n);
  h.extensionForm = rtp::ExtensionForm::kOneByte;
  // Room for the RTX OSN after the header.
  auto written = rtp::WriteRtpHeader(h, t.bytes.data(), t.bytes.size() - kOsnSize);
  if (!written.ok()) return ConfigError("RTP header: " + written.status().message());
  t.size = static_cast<uint8_t>(written.value());
  rtp::RtpPacketView v;
  if (Status s = rtp::ParseRtp(ByteSpan(t.bytes.data(), t.size), &v); !s.ok()) {
    return ConfigError("RTP header does not parse back: " + s.message());
  }
  auto offsetOf = [&](uint8_t id) -> uint8_t {
    if (id == 0) return 0;
    auto d = v.extensions.Find(id);
    return d ? static_cast<uint8_t>(d->data - t.bytes.data()) : 0;
  };
  t.absSendTimeOffset = offsetOf(c.absSendTimeExtensionId);
  t.transportCcOffset = offsetOf(c.transportCcExtensionId);
  return t;
}

Status Validate(const SendStreamConfig& c, TransportSequencer* sequencer) {
  if (c.payloadType > rtp::kMaxPayloadType) return ConfigError("payload type over 127");
  if (c.rtx) {
    if (c.rtx->payloadType > rtp::kMaxPayloadType || c.rtx->payloadType == c.payloadType) {
      return ConfigError("RTX payload type must be 0-127 and differ from the media one");
    }
    if (c.rtx->ssrc == c.ssrc) return ConfigError("RTX SSRC equals the media SSRC");
  }
  const uint8_t ids[] = {c.midExtensionId, c.absSendTimeExtensionId, c.transportCcExtensionId};
  for (size_t i = 0; i < 3; ++i) {
    if (ids[i] > rtp::kMaxOneByteExtensionId) {
      return ConfigError("header extension id " + std::to_string(ids[i]) + " is over 14");
    }
    for (size_t j = 0; j < i; ++j) {
      if (ids[i] != 0 && ids[i] == ids[j]) {
        return ConfigError("header extension id " + std::to_string(ids[i]) + " used twice");
      }
    }
  }
  if (c.midExtensionId != 0) {
    if (c.mid.empty() || c.mid.size() > rtp::kMaxOneByteExtensionSize) {
      return ConfigError("mid must be 1-16 bytes to go in a one-byte header extension");
    }
    if (Status s = rtp::CheckSdesExtension(c.mid); !s.ok()) return ConfigError(s.message());
  }
  if (c.transportCcExtensionId != 0 && sequencer == nullptr) {
    return ConfigError("transport-cc needs a TransportSequencer");
  }
  if (!(c.rollingBuffer.seconds >= 0.1 && c.rollingBuffer.seconds <= 10)) {
    return ConfigError("rolling buffer seconds must lie in 0.1-10");
  }
  if (c.rollingBuffer.bitrateBps == 0) return ConfigError("rolling buffer bitrate of 0");
  if (c.senderReportMinIntervalMs == 0 ||
      c.senderReportMaxIntervalMs < c.senderReportMinIntervalMs) {
    return ConfigError("sender report interval must be positive with min <= max");
  }
  if (c.mtu > 65535) return ConfigError("MTU over 65535");
  if (c.cname.size() > 255) return ConfigError("CNAME over 255 bytes");
  return Status::Ok();
}

RtpHistory::Limits HistoryLimits(const RollingBufferConfig& rb) {
  RtpHistory::Limits l;
  l.maxAgeUs = static_cast<int64_t>(rb.seconds * 1e6);
  l.maxBytes = static_cast<size_t>(rb.seconds * static_cast<double>(rb.bitrateBps) / 8);
  l.maxPackets = srtp::SrtpSession::kReplayWindowPackets;
  return l;
}

void PutU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void PutU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

struct SendStream::State {
  State(const SendStreamConfig& c, const RandomSource& random)
      : history(HistoryLimits(c.rollingBuffer)),
        reporter({c.ssrc, c.cname, c.clockRate, int64_t{c.senderReportMinIntervalMs} * 1000,
                  int64_t{c.senderReportMaxIntervalMs} * 1000},
                 random) {}

  std::unique_ptr<Packetizer> packetizer;
  NalPacketizer* nal = nullptr;  // the same object, for H.264 / H.265
  size_t spsSlot = 0;
  SharedBytes lastSps;  // the SPS the frame size was read from
  bool video = true;

  std::vector<RtpPayload> payloads;  // reused per frame
  HeaderTemplate media, rtx;

  int64_t sequence = 0;  // unwrapped; the wire carries its low 16 bits
  uint16_t rtxSequence = 0;
  uint32_t timestampOffset = 0;
  bool haveFirstPts = false;
  int64_t firstPts = 0;

  RtpHistory history;
  SenderReporter reporter;
  FrameRateMeter frameRate;

  OutboundRtpStats stats;
  RemoteInboundRtpStats remote;
  uint64_t frameNumber = 0;
  uint64_t lastFailedFrame = UINT64_MAX;
  uint64_t sentFrameBytes = 0;  // for the huge-frame average
  int64_t rttUs = 0;            // 0: unknown, no throttling

  bool keyFrameEventRaised = false;
  KeyFrameReason waitReason = KeyFrameReason::kFirstFrame;  // why the stream waits
  int64_t lastKeyFrameEventUs = 0;
  struct FirSeen {
    uint32_t senderSsrc;
    uint8_t sequenceNumber;
  };
  std::vector<FirSeen> firSeen;
  ReportBlockProvider reportBlocks;

  // Writes the header for one packet into p. Returns the transport-wide number taken, if any.
  void WriteHeader(const HeaderTemplate& t, OutgoingRtpPacket& p, uint8_t payloadType, uint16_t seq,
                   uint32_t ts, bool marker, int64_t nowUs, TransportSequencer* sequencer) {
    uint8_t* h = p.header.data();
    std::memcpy(h, t.bytes.data(), t.size);
    h[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | payloadType);
    PutU16(h + 2, seq);
    PutU32(h + 4, ts);
    p.headerSize = t.size;
    p.payloadType = payloadType;
    p.sequenceNumber = seq;
    p.timestamp = ts;
    p.marker = marker;
    p.createdUs = nowUs;
    p.absSendTimeOffset = t.absSendTimeOffset;
    if (t.absSendTimeOffset != 0) {
      const auto v = rtp::EncodeAbsSendTime(rtp::AbsSendTimeFromMicros(nowUs));
      std::memcpy(h + t.absSendTimeOffset, v.data(), v.size());
    }
    p.hasTransportSequence = t.transportCcOffset != 0;
    if (p.hasTransportSequence) {
      p.transportSequence = sequencer->NextTransportSequence();
      PutU16(h + t.transportCcOffset, p.transportSequence);
    }
  }
};

const char* ToString(KeyFrameReason reason) {
  switch (reason) {
    case KeyFrameReason::kFirstFrame:
      return "first-frame";
    case KeyFrameReason::kPli:
      return "pli";
    case KeyFrameReason::kFir:
      return "fir";
    case KeyFrameReason::kSendFailure:
      return "send-failure";
    case KeyFrameReason::kRequested:
      return "requested";
  }
  return "unknown";
}

Result<std::unique_ptr<SendStream>> SendStream::Create(const SendStreamConfig& config,
                                                       RandomSource random,
                                                       TransportSequencer* sequencer) {
  SendStreamConfig c = config;
  if (c.clockRate == 0) c.clockRate = DefaultClockRate(c.codec);
  if (Status s = Validate(c, sequencer); !s.ok()) return s;
  auto media = BuildTemplate(c, c.payloadType, c.ssrc);
  if (!media.ok()) return media.status();
  HeaderTemplate rtx;
  if (c.rtx) {
    auto r = BuildTemplate(c, c.rtx->payloadType, c.rtx->ssrc);
    if (!r.ok()) return r.status();
    rtx = r.value();
  }
  const size_t overhead = media.value().size + (c.rtx ? kOsnSize : 0) + c.srtpOverhead;
  if (c.mtu < overhead + kMinPayload) {
    return ConfigError("MTU of " + std::to_string(c.mtu) + " leaves under " +
                       std::to_string(kMinPayload) + " payload bytes after " +
                       std::to_string(overhead) + " of headers and SRTP");
  }
  auto stream = std::make_unique<SendStream>(Key{}, c, std::move(random), sequencer);
  stream->s_->media = media.value();
  stream->s_->rtx = rtx;
  stream->maxPayload_ = c.mtu - overhead;
  return stream;
}

SendStream::SendStream(Key, const SendStreamConfig& config, RandomSource random,
                       TransportSequencer* sequencer)
    : config_(config),
      random_(std::move(random)),
      sequencer_(sequencer),
      s_(std::make_unique<State>(config_, random_)) {
  State& s = *s_;
  s.video = IsVideo(config_.codec);
  waitingForKeyFrame_ = s.video;
  switch (config_.codec) {
    case sdp::Codec::kH264: {
      auto p = std::make_unique<H264Packetizer>();
      s.nal = p.get();
      s.spsSlot = 0;
      s.packetizer = std::move(p);
      break;
    }
    case sdp::Codec::kH265: {
      auto p = std::make_unique<H265Packetizer>();
      s.nal = p.get();
      s.spsSlot = 1;
      s.packetizer = std::move(p);
      break;
    }
    default:
      s.packetizer =
          MakePacketizer(config_.codec, static_cast<uint16_t>(RandomU32(random_) & 0x7FFF));
      break;
  }
  s.sequence = config_.initialSequenceNumber ? *config_.initialSequenceNumber
                                             : static_cast<uint16_t>(RandomU32(random_));
  if (config_.rtx) {
    s.rtxSequence = config_.rtxInitialSequenceNumber ? *config_.rtxInitialSequenceNumber
                                                     : static_cast<uint16_t>(RandomU32(random_));
  }
  s.timestampOffset = config_.initialTimestamp ? *config_.initialTimestamp : RandomU32(random_);
  s.payloads.reserve(128);
  s.stats.ssrc = config_.ssrc;
  if (config_.rtx) s.stats.rtxSsrc = config_.rtx->ssrc;
  s.stats.kind = sdp::InfoOf(config_.codec).kind;
  s.stats.payloadType = config_.payloadType;
  s.remote.ssrc = config_.ssrc;
  s.remote.kind = s.stats.kind;
}

SendStream::~SendStream() = default;

Status SendStream::SendFrame(const EncodedFrame& frame, int64_t nowUs, SendStreamOutput& out) {
  State& s = *s_;
  if (!frame.data || frame.data->empty()) {
    return Status::Fail("ERR_MEDIA_EMPTY_FRAME", "SendFrame got a frame without bytes");
  }
  s.payloads.clear();
  if (Status st = s.packetizer->Packetize(frame.data, maxPayload_, s.payloads); !st.ok()) {
    return st;
  }
  if (s.payloads.empty()) return Status::Ok();  // only delimiters or filler

  bool key = true;
  if (s.video) {
    if (s.nal != nullptr) {
      key = s.nal->lastFrameWasKeyPicture();
    } else if (config_.codec == sdp::Codec::kVp8) {
      key = Vp8IsKeyFrame(*frame.data);
    } else {
      key = (frame.flags & kFrameFlagKeyFrame) != 0;
    }
    if (waitingForKeyFrame_ && !key) {
      ++s.stats.framesDiscardedOnSend;
      s.payloads.clear();
      KeyFrameNeeded(s.waitReason, 0, nowUs, out);
      return Status::Ok();
    }
    if (key) waitingForKeyFrame_ = false;
  }

  if (!s.haveFirstPts) {
    s.haveFirstPts = true;
    s.firstPts = frame.presentationTs;
  }
  const uint32_t ts = s.timestampOffset +
                      static_cast<uint32_t>(RescaleTicks(frame.presentationTs - s.firstPts,
                                                         kHundredNsPerSecond, config_.clockRate));
  const uint64_t frameNumber = s.frameNumber++;
  for (RtpPayload& payload : s.payloads) {
    OutgoingRtpPacket& p = out.packets.emplace_back();
    s.WriteHeader(s.media, p, config_.payloadType, static_cast<uint16_t>(s.sequence), ts,
                  payload.marker, nowUs, sequencer_);
    p.ssrc = config_.ssrc;
    p.originalSequenceNumber = p.sequenceNumber;
    p.retransmission = false;
    p.frameNumber = frameNumber;
    p.payload = payload;
    s.history.Put(s.sequence, std::move(payload), ts, nowUs, frameNumber);
    ++s.sequence;
    if (!config_.callerReportsSendTimes) CountSent(p, nowUs);
  }
  s.payloads.clear();

  if (s.video) {
    const size_t bytes = frame.data->size();
    ++s.stats.framesEncoded;
    ++s.stats.framesSent;
    if (key) ++s.stats.keyFramesEncoded;
    // The mean of the frames before this one (W3C leaves the averaging open).
    if (s.stats.framesSent > 1 &&
        bytes * kHugeDenominator * (s.stats.framesSent - 1) >= kHugeNumerator * s.sentFrameBytes) {
      ++s.stats.hugeFramesSent;
    }
    s.sentFrameBytes += bytes;
    s.frameRate.OnFrame(frame.presentationTs / 10);
    if (s.nal != nullptr) {
      const SharedBytes& sps = s.nal->parameterSet(s.spsSlot);
      if (sps && sps != s.lastSps) {
        s.lastSps = sps;
        auto size =
            config_.codec == sdp::Codec::kH264 ? ParseH264SpsSize(*sps) : ParseH265SpsSize(*sps);
        if (size.ok()) {
          s.stats.frameWidth = size.value().width;
          s.stats.frameHeight = size.value().height;
        }
      }
    } else if (config_.codec == sdp::Codec::kVp8 && key) {
      auto size = ParseVp8FrameSize(*frame.data);
      if (size.ok()) {
        s.stats.frameWidth = size.value().width;
        s.stats.frameHeight = size.value().height;
      }
    }
  }
  return Status::Ok();
}

void SendStream::CountSent(const OutgoingRtpPacket& p, int64_t sentUs) {
  State& s = *s_;
  const size_t payload = p.payloadBytes();
  ++s.stats.packetsSent;
  s.stats.bytesSent += payload;
  s.stats.headerBytesSent += p.headerSize;
  s.stats.lastPacketSentUs = sentUs;
  s.stats.totalPacketSendDelay += static_cast<double>(sentUs - p.createdUs) / 1e6;
  if (p.retransmission) {
    ++s.stats.retransmittedPacketsSent;
    s.stats.retransmittedBytesSent += payload;
  }
  if (p.ssrc == config_.ssrc) {
    if (p.retransmission) {
      s.reporter.OnRetransmissionSent(payload);
    } else {
      s.reporter.OnRtpSent(p.timestamp, p.createdUs, payload);
    }
  }
  if (p.hasTransportSequence && sequencer_ != nullptr) {
    sequencer_->OnTransportPacketSent(p.transportSequence, p.size(), sentUs);
  }
}

void SendStream::OnPacketSent(const OutgoingRtpPacket& p, int64_t sentUs) {
  if (config_.callerReportsSendTimes) CountSent(p, sentUs);
}

void SendStream::OnPacketSendFailed(const OutgoingRtpPacket& p, int64_t nowUs,
                                    SendStreamOutput& out) {
  State& s = *s_;
  if (!config_.callerReportsSendTimes) {
    // Counted as sent when handed out: take it back.
    const size_t payload = p.payloadBytes();
    --s.stats.packetsSent;
    s.stats.bytesSent -= payload;
    s.stats.headerBytesSent -= p.headerSize;
    if (p.retransmission) {
      --s.stats.retransmittedPacketsSent;
      s.stats.retransmittedBytesSent -= payload;
    }
    if (p.ssrc == config_.ssrc) s.reporter.OnRtpUnsent(payload);
  }
  ++s.stats.packetsDiscardedOnSend;
  s.stats.bytesDiscardedOnSend += p.size();
  if (!s.video || p.retransmission) return;
  if (p.frameNumber != s.lastFailedFrame) {
    s.lastFailedFrame = p.frameNumber;
    ++s.stats.framesDiscardedOnSend;
  }
  // With NACK the receiver asks for the packet (it is in the history); without, the frame
  // and every frame after it until the next key frame are lost to it.
  if (!config_.feedback.nack) KeyFrameNeeded(KeyFrameReason::kSendFailure, 0, nowUs, out);
}

void SendStream::KeyFrameNeeded(KeyFrameReason reason, uint32_t fromSsrc, int64_t nowUs,
                                SendStreamOutput& out) {
  State& s = *s_;
  if (!s.video) return;  // every audio frame is a key frame
  const bool raise = !waitingForKeyFrame_ || !s.keyFrameEventRaised ||
                     nowUs - s.lastKeyFrameEventUs >= kKeyFrameEventRepeatUs;
  if (!waitingForKeyFrame_) s.waitReason = reason;
  waitingForKeyFrame_ = true;
  if (!raise) return;
  s.keyFrameEventRaised = true;
  s.lastKeyFrameEventUs = nowUs;
  ++s.stats.keyFrameRequestsRaised;
  SendStreamEvent e;
  e.type = SendStreamEvent::Type::kKeyFrameNeeded;
  e.reason = reason;
  e.fromSsrc = fromSsrc;
  out.events.push_back(e);
}

void SendStream::RequestKeyFrame(KeyFrameReason reason, int64_t nowUs, SendStreamOutput& out) {
  KeyFrameNeeded(reason, 0, nowUs, out);
}

void SendStream::OnRtcp(const ParsedRtcp& rtcp, int64_t nowUs, SendStreamOutput& out) {
  for (const rtp::SenderReport& sr : rtcp.senderReports) {
    for (const rtp::ReportBlock& b : sr.reportBlocks) OnReportBlock(b, nowUs);
  }
  for (const rtp::ReceiverReport& rr : rtcp.receiverReports) {
    for (const rtp::ReportBlock& b : rr.reportBlocks) OnReportBlock(b, nowUs);
  }
  for (const rtp::Nack& n : rtcp.nacks) OnNack(n, nowUs, out);
  for (const rtp::Pli& p : rtcp.plis) OnPli(p, nowUs, out);
  for (const rtp::Fir& f : rtcp.firs) OnFir(f, nowUs, out);
  for (const rtp::Remb& r : rtcp.rembs) OnRemb(r, nowUs, out);
}

void SendStream::OnReportBlock(const rtp::ReportBlock& block, int64_t nowUs) {
  if (block.ssrc != config_.ssrc) return;
  RemoteInboundRtpStats& r = s_->remote;
  ++r.reportsReceived;
  r.lastReportUs = nowUs;
  r.packetsLost = block.cumulativeLost;
  r.fractionLost = block.fractionLost / 256.0;
  r.jitter = static_cast<double>(block.jitter) / config_.clockRate;
  r.extendedHighestSequence = block.extendedHighestSeq;
  if (auto rtt = s_->reporter.RoundTripUs(block.lastSr, block.delaySinceLastSr, nowUs)) {
    r.roundTripTime = static_cast<double>(*rtt) / 1e6;
    r.totalRoundTripTime += *r.roundTripTime;
    ++r.roundTripTimeMeasurements;
    s_->rttUs = *rtt;
  }
}

void SendStream::OnNack(const rtp::Nack& nack, int64_t nowUs, SendStreamOutput& out) {
  if (nack.mediaSsrc != config_.ssrc) return;
  State& s = *s_;
  ++s.stats.nackCount;
  if (!config_.feedback.nack) return;  // not negotiated: counted, not answered
  for (const rtp::NackItem& item : nack.items) {
    for (int bit = -1; bit < 16; ++bit) {
      if (bit >= 0 && (item.blp & (1u << bit)) == 0) continue;
      Resend(static_cast<uint16_t>(item.pid + bit + 1), nowUs, out);
    }
  }
}

void SendStream::Resend(uint16_t seq, int64_t nowUs, SendStreamOutput& out) {
  State& s = *s_;
  ++s.stats.nackedPackets;
  HistoryPacket* h = s.history.Find(seq, nowUs);
  if (h == nullptr) {
    ++s.stats.nackedPacketsNotFound;
    return;
  }
  if (h->resends > 0 && nowUs - h->lastResentUs < s.rttUs) {
    ++s.stats.nackedPacketsThrottled;  // the last resend may still be on its way
    return;
  }
  ++h->resends;
  h->lastResentUs = nowUs;
  OutgoingRtpPacket& p = out.packets.emplace_back();
  const auto osn = static_cast<uint16_t>(h->sequence);
  if (config_.rtx) {
    s.WriteHeader(s.rtx, p, config_.rtx->payloadType, s.rtxSequence++, h->timestamp,
                  h->payload.marker, nowUs, sequencer_);
    PutU16(p.header.data() + p.headerSize, osn);
    p.headerSize = static_cast<uint8_t>(p.headerSize + kOsnSize);
    p.ssrc = config_.rtx->ssrc;
  } else {
    s.WriteHeader(s.media, p, config_.payloadType, osn, h->timestamp, h->payload.marker, nowUs,
                  sequencer_);
    p.ssrc = config_.ssrc;
  }
  p.originalSequenceNumber = osn;
  p.retransmission = true;
  p.frameNumber = h->frameNumber;
  p.payload = h->payload;
  if (!config_.callerReportsSendTimes) CountSent(p, nowUs);
}

void SendStream::OnPli(const rtp::Pli& pli, int64_t nowUs, SendStreamOutput& out) {
  if (pli.mediaSsrc != config_.ssrc) return;
  ++s_->stats.pliCount;
  KeyFrameNeeded(KeyFrameReason::kPli, pli.senderSsrc, nowUs, out);
}

void SendStream::OnFir(const rtp::Fir& fir, int64_t nowUs, SendStreamOutput& out) {
  State& s = *s_;
  for (const rtp::FirEntry& e : fir.entries) {
    if (e.ssrc != config_.ssrc) continue;
    ++s.stats.firCount;
    // RFC 5104 §4.3.1.2: the same sequence number from the same sender is a repetition of a
    // request already seen, not a new one.
    auto it = std::find_if(s.firSeen.begin(), s.firSeen.end(),
                           [&](const State::FirSeen& f) { return f.senderSsrc == fir.senderSsrc; });
    if (it != s.firSeen.end()) {
      if (it->sequenceNumber == e.sequenceNumber) continue;
      it->sequenceNumber = e.sequenceNumber;
    } else {
      if (s.firSeen.size() >= 16) s.firSeen.erase(s.firSeen.begin());  // bounded
      s.firSeen.push_back({fir.senderSsrc, e.sequenceNumber});
    }
    KeyFrameNeeded(KeyFrameReason::kFir, fir.senderSsrc, nowUs, out);
  }
}

void SendStream::OnRemb(const rtp::Remb& remb, int64_t, SendStreamOutput& out) {
  if (std::find(remb.ssrcs.begin(), remb.ssrcs.end(), config_.ssrc) == remb.ssrcs.end()) return;
  ++s_->stats.rembCount;
  s_->stats.rembBitrateBps = remb.bitrateBps;
  SendStreamEvent e;
  e.type = SendStreamEvent::Type::kBandwidthEstimate;
  e.fromSsrc = remb.senderSsrc;
  e.bitrateBps = remb.bitrateBps;
  out.events.push_back(e);
}

void SendStream::Tick(int64_t nowUs, int64_t unixNowUs, SendStreamOutput& out) {
  State& s = *s_;
  if (!s.reporter.Due(nowUs)) return;
  std::vector<rtp::ReportBlock> blocks;
  if (s.reportBlocks) s.reportBlocks(nowUs, blocks);
  if (blocks.size() > rtp::kMaxReportBlocks) blocks.resize(rtp::kMaxReportBlocks);
  auto sr = s.reporter.Build(nowUs, unixNowUs, std::move(blocks));
  if (!sr.ok()) return;  // only a CNAME over 255 bytes, which Create refused
  out.rtcp.push_back(sr.take());
  s.stats.senderReportsSent = s.reporter.reportsSent();
}

int64_t SendStream::NextTickUs() const { return s_->reporter.nextUs(); }

void SendStream::SetReportBlockProvider(ReportBlockProvider provider) {
  s_->reportBlocks = std::move(provider);
}

void SendStream::SetRoundTripTime(int64_t rttUs) { s_->rttUs = std::max<int64_t>(rttUs, 0); }

OutboundRtpStats SendStream::outboundStats() const {
  OutboundRtpStats st = s_->stats;
  if (s_->video) st.framesPerSecond = s_->frameRate.framesPerSecond();
  return st;
}

RemoteInboundRtpStats SendStream::remoteInboundStats() const { return s_->remote; }

}  // namespace kvs::media
