#include "media/receive_stream.h"

#include <algorithm>
#include <climits>

#include "media/audio_samples.h"
#include "media/frame_rate_meter.h"
#include "media/jitter_buffer.h"
#include "media/key_frame_requester.h"
#include "media/nack_generator.h"
#include "media/payload_formats.h"
#include "media/receive_statistics.h"
#include "media/transport_feedback_receiver.h"
#include "rtp/ntp_time.h"
#include "rtp/rtcp_compound.h"
#include "rtp/rtcp_nack.h"
#include "rtp/rtcp_sdes.h"
#include "rtp/rtp_extension_codecs.h"
#include "rtp/rtp_packet.h"
#include "rtp/unwrap.h"

namespace kvs::media {

namespace {

constexpr size_t kOsnSize = 2;
// Room an SRTCP trailer takes (HMAC-SHA1-80 tag + index, or the GCM tag + index).
constexpr size_t kSrtcpRoom = 20;

Status ConfigError(const std::string& what) { return Status::Fail("ERR_MEDIA_CONFIG", what); }

Status Validate(const ReceiveStreamConfig& c, TransportFeedbackReceiver* twcc) {
  if (c.payloadTypes.empty()) return ConfigError("no payload type");
  for (uint8_t pt : c.payloadTypes) {
    if (pt > rtp::kMaxPayloadType) return ConfigError("payload type over 127");
  }
  if (c.rtx) {
    if (c.rtx->payloadType > rtp::kMaxPayloadType) return ConfigError("RTX payload type over 127");
    if (std::find(c.payloadTypes.begin(), c.payloadTypes.end(), c.rtx->payloadType) !=
        c.payloadTypes.end()) {
      return ConfigError("the RTX payload type is also a media payload type");
    }
  }
  if (c.maxLatencyUs <= 0) return ConfigError("maxLatencyUs must be positive");
  if (c.reorderWindowUs < 0) return ConfigError("reorderWindowUs must not be negative");
  if (c.reportIntervalUs <= 0) return ConfigError("reportIntervalUs must be positive");
  if (c.transportCcExtensionId > 14) return ConfigError("transport-cc extension id over 14");
  if (c.transportCcExtensionId != 0 && twcc == nullptr) {
    return ConfigError("transport-cc needs a TransportFeedbackReceiver");
  }
  if (c.cname.size() > 255) return ConfigError("CNAME over 255 bytes");
  if (c.mtu < 200 + c.cname.size()) return ConfigError("MTU too small for feedback packets");
  return Status::Ok();
}

}  // namespace

const char* ToString(FrameDropReason reason) {
  switch (reason) {
    case FrameDropReason::kIncomplete:
      return "incomplete";
    case FrameDropReason::kWaitingForKeyFrame:
      return "waiting-for-key-frame";
    case FrameDropReason::kOverflow:
      return "overflow";
    case FrameDropReason::kUndecodable:
      return "undecodable";
  }
  return "unknown";
}

const char* ToString(KeyFrameRequestReason reason) {
  switch (reason) {
    case KeyFrameRequestReason::kStart:
      return "start";
    case KeyFrameRequestReason::kFrameDropped:
      return "frame-dropped";
    case KeyFrameRequestReason::kNackOverflow:
      return "nack-overflow";
    case KeyFrameRequestReason::kNoDecodableFrame:
      return "no-decodable-frame";
    case KeyFrameRequestReason::kApp:
      return "app";
  }
  return "unknown";
}

struct ReceiveStream::State {
  explicit State(const ReceiveStreamConfig& c)
      : video(IsVideo(c.codec)),
        depacketizer(MakeDepacketizer(c.codec)),
        jitter(JitterConfig(c), *depacketizer),
        stats(c.clockRate),
        nack(NackConfig(c)),
        requester({c.feedback.pli, c.feedback.fir, c.localSsrc, c.remoteSsrc, c.keyFrameRetryUs,
                   c.keyFrameStartRetryUs}) {}

  static JitterBufferConfig JitterConfig(const ReceiveStreamConfig& c) {
    JitterBufferConfig j;
    j.codec = c.codec;
    j.clockRate = c.clockRate;
    // A gap NACK can fill may wait the whole latency; one it cannot, only for reordering.
    j.missingWaitUs =
        c.feedback.nack ? c.maxLatencyUs : std::min(c.reorderWindowUs, c.maxLatencyUs);
    const bool video = IsVideo(c.codec);
    j.maxPackets = c.maxPackets != 0 ? c.maxPackets : (video ? 2048 : 256);
    j.maxBytes = c.maxBytes != 0 ? c.maxBytes : (video ? size_t{8} << 20 : size_t{256} << 10);
    return j;
  }
  static NackGeneratorConfig NackConfig(const ReceiveStreamConfig& c) {
    NackGeneratorConfig n;
    n.maxAgeUs = c.maxLatencyUs;
    return n;
  }

  bool video;
  std::unique_ptr<Depacketizer> depacketizer;
  JitterBuffer jitter;
  ReceiveStatistics stats;
  NackGenerator nack;
  KeyFrameRequester requester;
  FrameRateMeter frameRate;

  rtp::RtpPacketView view;  // reused per packet
  rtp::SeqUnwrapper seqUnwrapper;
  rtp::TimestampUnwrapper tsUnwrapper;
  JitterBufferOutput jbOut;
  std::vector<uint16_t> nackSeqs;

  InboundRtpStats inbound;
  RemoteOutboundRtpStats remote;
  int64_t rttUs = 100'000;
  bool haveReportTime = false;
  int64_t nextReportUs = 0;
  int64_t lastPacketUs = 0;
  int64_t lastDecodableUs = 0;
  bool anyPacket = false;
  bool sentKeyFrameRequestForStall = false;
};

Result<std::unique_ptr<ReceiveStream>> ReceiveStream::Create(const ReceiveStreamConfig& config,
                                                             RandomSource random,
                                                             TransportFeedbackReceiver* twcc) {
  ReceiveStreamConfig c = config;
  if (c.clockRate == 0) c.clockRate = DefaultClockRate(c.codec);
  if (Status s = Validate(c, twcc); !s.ok()) return s;
  return std::make_unique<ReceiveStream>(Key{}, c, std::move(random), twcc);
}

ReceiveStream::ReceiveStream(Key, const ReceiveStreamConfig& config, RandomSource random,
                             TransportFeedbackReceiver* twcc)
    : config_(config),
      random_(std::move(random)),
      twcc_(twcc),
      s_(std::make_unique<State>(config_)) {
  s_->inbound.ssrc = config_.remoteSsrc;
  s_->inbound.kind = sdp::InfoOf(config_.codec).kind;
  s_->inbound.payloadType = config_.payloadTypes.front();
  s_->remote.ssrc = config_.remoteSsrc;
  s_->remote.kind = s_->inbound.kind;
  s_->nackSeqs.reserve(1024);
}

ReceiveStream::~ReceiveStream() = default;

void ReceiveStream::OnRtp(std::vector<uint8_t> packet, int64_t nowUs, ReceiveStreamOutput& out) {
  State& s = *s_;
  rtp::RtpPacketView& v = s.view;
  if (!rtp::ParseRtp(packet, &v).ok()) {
    ++s.inbound.packetsRejected;
    return;
  }
  const bool rtx = config_.rtx && v.payloadType == config_.rtx->payloadType &&
                   (config_.rtx->ssrc == 0 || v.ssrc == config_.rtx->ssrc);
  if (!rtx) {
    const bool ours = v.ssrc == config_.remoteSsrc &&
                      std::find(config_.payloadTypes.begin(), config_.payloadTypes.end(),
                                v.payloadType) != config_.payloadTypes.end();
    if (!ours) {
      ++s.inbound.packetsRejected;
      return;
    }
  }
  if (config_.transportCcExtensionId != 0 && twcc_ != nullptr) {
    if (auto ext = v.extensions.Find(config_.transportCcExtensionId)) {
      auto seq = rtp::ParseTransportSequenceNumber(*ext);
      if (seq.ok()) twcc_->OnPacket(seq.value(), nowUs);
    }
  }

  size_t payloadOffset = v.headerSize;
  size_t payloadSize = v.payload.size;
  uint16_t wireSeq = v.sequenceNumber;
  const size_t headerAndPadding = v.packet.size - v.payload.size;
  if (rtx) {
    if (payloadSize == 0) {  // a padding probe on the RTX stream: no original packet
      s.inbound.headerBytesReceived += headerAndPadding;
      ++s.inbound.paddingPacketsReceived;
      return;
    }
    if (payloadSize < kOsnSize) {
      ++s.inbound.packetsRejected;
      return;
    }
    wireSeq = static_cast<uint16_t>(v.payload.data[0] << 8 | v.payload.data[1]);
    payloadOffset += kOsnSize;
    payloadSize -= kOsnSize;
    ++s.inbound.retransmittedPacketsReceived;
    s.inbound.retransmittedBytesReceived += payloadSize;
    s.inbound.headerBytesReceived += headerAndPadding + kOsnSize;
  } else {
    s.inbound.bytesReceived += payloadSize;
    s.inbound.headerBytesReceived += headerAndPadding;
    s.inbound.lastPacketReceivedUs = nowUs;
    if (v.paddingOnly()) ++s.inbound.paddingPacketsReceived;
  }
  // RTX numbers are the original stream's, from the past: unwrap them without moving the
  // reference the media packets keep.
  const int64_t seq = rtx ? s.seqUnwrapper.PeekUnwrap(wireSeq) : s.seqUnwrapper.Unwrap(wireSeq);
  const int64_t ts =
      rtx ? s.tsUnwrapper.PeekUnwrap(v.timestamp) : s.tsUnwrapper.Unwrap(v.timestamp);
  if (!rtx) s.stats.OnPacket(seq, v.timestamp, nowUs);
  if (!s.anyPacket) s.lastDecodableUs = nowUs;  // the stall clock starts with the stream
  s.anyPacket = true;
  s.lastPacketUs = nowUs;
  s.requester.OnPacket(nowUs);
  if (!s.haveReportTime) {
    s.haveReportTime = true;
    // RFC 3550 §6.3: the first report after half an interval, randomized like the rest.
    s.nextReportUs = nowUs + RandomBetween(random_, config_.reportIntervalUs / 4,
                                           config_.reportIntervalUs * 3 / 4);
  }

  bool newLoss = false;
  if (config_.feedback.nack) {
    const size_t before = s.nack.missingCount();
    if (!s.nack.OnPacket(seq, nowUs)) {
      ++s.inbound.nackListOverflows;
      s.requester.Request(KeyFrameRequestReason::kNackOverflow, nowUs);
    }
    newLoss = s.nack.missingCount() > before;
  }

  const bool padding = payloadSize == 0;
  const bool audio = !s.video;
  uint32_t samples = 0;
  if (audio && !padding) {
    auto n = AudioPayloadSamples(config_.codec, ByteSpan(packet).sub(payloadOffset, payloadSize));
    if (n.ok()) samples = n.value();
  }
  s.jbOut.Clear();
  auto r = s.jitter.Insert(seq, ts, v.marker, std::move(packet), payloadOffset, payloadSize, nowUs,
                           s.jbOut);
  if (r == JitterBuffer::InsertResult::kStored) s.inbound.totalSamplesReceived += samples;
  HandleJitterOutput(nowUs, out);
  if (newLoss) SendNacks(nowUs, out);
  SendKeyFrameRequest(nowUs, out);
}

void ReceiveStream::HandleJitterOutput(int64_t nowUs, ReceiveStreamOutput& out) {
  State& s = *s_;
  for (ReceivedFrame& f : s.jbOut.frames) {
    f.ssrc = config_.remoteSsrc;
    s.frameRate.OnFrame(RescaleTicks(f.presentationTs, kHundredNsPerSecond, kMicrosPerSecond));
    s.lastDecodableUs = nowUs;
    out.frames.push_back(std::move(f));
  }
  for (const DroppedFrame& d : s.jbOut.dropped) {
    ReceiveStreamEvent e;
    e.type = ReceiveStreamEvent::Type::kFrameDropped;
    e.rtpTimestamp = d.rtpTimestamp;
    e.dropReason = d.reason;
    out.events.push_back(e);
  }
  if (s.jbOut.keyFrameEmitted) s.requester.OnKeyFrame();
  if (s.jbOut.keyFrameNeeded && s.video) {
    s.requester.Request(
        s.jitter.stats().keyFramesReceived == 0 && s.jitter.stats().framesEmitted == 0
            ? KeyFrameRequestReason::kStart
            : KeyFrameRequestReason::kFrameDropped,
        nowUs);
  }
  if (config_.feedback.nack) s.nack.DropBefore(s.jitter.head());
  s.jbOut.Clear();
}

std::optional<std::vector<uint8_t>> ReceiveStream::BuildCompound(
    int64_t nowUs, const std::function<Status(rtp::RtcpCompoundBuilder&)>& addFeedback) {
  State& s = *s_;
  const bool withReport = !config_.reducedSizeRtcp || !addFeedback;
  rtp::RtcpCompoundBuilder b(config_.reducedSizeRtcp && addFeedback ? rtp::RtcpMode::kReducedSize
                                                                    : rtp::RtcpMode::kCompound);
  if (withReport) {
    rtp::ReceiverReport rr;
    rr.ssrc = config_.localSsrc;
    if (s.stats.started())
      rr.reportBlocks.push_back(s.stats.MakeReportBlock(config_.remoteSsrc, nowUs));
    if (!b.Add(rr).ok() || !b.Add(rtp::Sdes::Cname(config_.localSsrc, config_.cname)).ok()) {
      return std::nullopt;
    }
    ++s.inbound.receiverReportsSent;
  }
  if (addFeedback && !addFeedback(b).ok()) return std::nullopt;
  auto bytes = b.Finish();
  if (!bytes.ok()) return std::nullopt;
  return bytes.take();
}

void ReceiveStream::SendNacks(int64_t nowUs, ReceiveStreamOutput& out) {
  State& s = *s_;
  s.nackSeqs.clear();
  s.nack.CollectDue(nowUs, s.rttUs, s.nackSeqs);
  if (s.nackSeqs.empty()) return;
  std::vector<rtp::NackItem> items = rtp::PackNack(s.nackSeqs);
  // Items per packet so that RR + SDES + NACK + SRTCP fit the MTU.
  const size_t fixed = kSrtcpRoom + 8 + rtp::kReportBlockSize + 12 + config_.cname.size() + 4 + 12;
  const size_t perPacket = std::max<size_t>(1, (config_.mtu - std::min(config_.mtu, fixed)) / 4);
  for (size_t at = 0; at < items.size(); at += perPacket) {
    rtp::Nack nack;
    nack.senderSsrc = config_.localSsrc;
    nack.mediaSsrc = config_.remoteSsrc;
    nack.items.assign(
        items.begin() + static_cast<std::ptrdiff_t>(at),
        items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), at + perPacket)));
    auto bytes = BuildCompound(nowUs, [&](rtp::RtcpCompoundBuilder& b) { return b.Add(nack); });
    if (!bytes) continue;
    out.rtcp.push_back(std::move(*bytes));
    ++s.inbound.nackCount;
  }
  s.inbound.nackedPackets += s.nackSeqs.size();
}

void ReceiveStream::SendKeyFrameRequest(int64_t nowUs, ReceiveStreamOutput& out) {
  State& s = *s_;
  auto p = s.requester.Poll(nowUs);
  if (!p) return;
  auto bytes = BuildCompound(nowUs, [&](rtp::RtcpCompoundBuilder& b) {
    return p->fir ? b.Add(p->firPacket) : b.Add(p->pli);
  });
  if (!bytes) return;
  out.rtcp.push_back(std::move(*bytes));
  if (p->fir) {
    ++s.inbound.firCount;
  } else {
    ++s.inbound.pliCount;
  }
  ReceiveStreamEvent e;
  e.type = ReceiveStreamEvent::Type::kKeyFrameRequested;
  e.requestReason = p->reason;
  e.fir = p->fir;
  out.events.push_back(e);
}

void ReceiveStream::OnRtcp(const ParsedRtcp& rtcp, int64_t nowUs, ReceiveStreamOutput&) {
  for (const rtp::SenderReport& sr : rtcp.senderReports) {
    if (sr.ssrc == config_.remoteSsrc) OnSenderReport(sr, nowUs);
  }
}

void ReceiveStream::OnSenderReport(const rtp::SenderReport& sr, int64_t nowUs) {
  if (sr.ssrc != config_.remoteSsrc) return;
  State& s = *s_;
  s.stats.OnSenderReport(sr.info.ntpTimestamp, nowUs);
  RemoteOutboundRtpStats& r = s.remote;
  ++r.reportsSent;
  r.lastReportUs = nowUs;
  r.remoteTimestamp = static_cast<double>(rtp::UnixMicrosFromNtp(sr.info.ntpTimestamp)) / 1000.0;
  r.packetsSent = sr.info.packetCount;
  r.bytesSent = sr.info.octetCount;
}

void ReceiveStream::Tick(int64_t nowUs, ReceiveStreamOutput& out) {
  State& s = *s_;
  s.jbOut.Clear();
  s.jitter.Tick(nowUs, s.jbOut);
  HandleJitterOutput(nowUs, out);
  if (config_.feedback.nack) SendNacks(nowUs, out);
  // Chromium asks again when nothing decodable came for a while although packets do.
  if (s.video && s.anyPacket && nowUs - s.lastDecodableUs >= config_.noDecodableFrameUs) {
    if (nowUs - s.lastPacketUs < config_.noDecodableFrameUs) {
      s.requester.Request(KeyFrameRequestReason::kNoDecodableFrame, nowUs);
    }
    s.lastDecodableUs = nowUs;  // once per period; re-armed only by packets arriving after it
  }
  SendKeyFrameRequest(nowUs, out);
  if (config_.sendReceiverReports && s.haveReportTime && nowUs >= s.nextReportUs) {
    if (auto rr = BuildCompound(nowUs, nullptr)) out.rtcp.push_back(std::move(*rr));
    s.nextReportUs = nowUs + RandomBetween(random_, config_.reportIntervalUs / 2,
                                           config_.reportIntervalUs * 3 / 2);
  }
}

int64_t ReceiveStream::NextTickUs() const {
  State& s = *s_;
  int64_t next = s.jitter.NextDeadlineUs();
  if (config_.feedback.nack) next = std::min(next, s.nack.NextDueUs(s.rttUs));
  next = std::min(next, s.requester.NextUs());
  if (config_.sendReceiverReports && s.haveReportTime) next = std::min(next, s.nextReportUs);
  if (s.video && s.anyPacket && s.lastPacketUs > s.lastDecodableUs) {
    next = std::min(next, s.lastDecodableUs + config_.noDecodableFrameUs);
  }
  return next;
}

void ReceiveStream::RequestKeyFrame(int64_t nowUs, ReceiveStreamOutput& out) {
  s_->requester.Request(KeyFrameRequestReason::kApp, nowUs);
  SendKeyFrameRequest(nowUs, out);
}

void ReceiveStream::SetRoundTripTime(int64_t rttUs) { s_->rttUs = std::max<int64_t>(rttUs, 1000); }

std::optional<rtp::ReportBlock> ReceiveStream::MakeReportBlock(int64_t nowUs) {
  if (!s_->stats.started()) return std::nullopt;
  return s_->stats.MakeReportBlock(config_.remoteSsrc, nowUs);
}

std::vector<uint8_t> ReceiveStream::TakeSpareBuffer() { return s_->jitter.TakeSpareBuffer(); }

InboundRtpStats ReceiveStream::inboundStats() const {
  const State& s = *s_;
  InboundRtpStats st = s.inbound;
  st.packetsReceived = s.stats.packetsReceived();
  st.packetsLost = s.stats.cumulativeLost();
  st.jitter = s.stats.jitterSeconds();
  const JitterBuffer::Stats& j = s.jitter.stats();
  st.jitterBufferDelay = j.delaySeconds;
  st.jitterBufferEmittedCount = j.emittedCount;
  st.packetsDiscarded = j.packetsLate + j.packetsMalformed;
  st.packetsDuplicated = j.packetsDuplicated;
  st.keyFramesRequested = s.requester.requests();
  if (s.video) {
    st.framesReceived = static_cast<uint32_t>(j.framesReceived);
    st.keyFramesReceived = static_cast<uint32_t>(j.keyFramesReceived);
    st.framesDropped = static_cast<uint32_t>(j.framesDropped);
    st.framesPerSecond = s.frameRate.framesPerSecond();
    if (s.jitter.frameWidth() != 0) {
      st.frameWidth = s.jitter.frameWidth();
      st.frameHeight = s.jitter.frameHeight();
    }
  }
  return st;
}

RemoteOutboundRtpStats ReceiveStream::remoteOutboundStats() const { return s_->remote; }

}  // namespace kvs::media
