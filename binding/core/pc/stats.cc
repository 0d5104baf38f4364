#include "pc/stats.h"

#include "dtls/dtls_session.h"
#include "srtp/srtp_profile.h"

namespace kvs::pc {
namespace {

std::string CandidateId(const char* side, size_t index) {
  return std::string(side) + "-candidate-" + std::to_string(index);
}

StatsObject CandidateStats(const char* type, const std::string& id, const ice::Candidate& c,
                           double now) {
  StatsObject o{type, id, now, {}};
  o.fields = {
      {"transportId", std::string("transport-0")},
      {"address", c.address.IpString()},
      {"port", static_cast<double>(c.address.port())},
      {"protocol", std::string(c.transport == ice::TransportProtocol::kUdp ? "udp" : "tcp")},
      {"candidateType", std::string(ice::ToString(c.type))},
      {"priority", static_cast<double>(c.priority)},
      {"foundation", c.foundation},
  };
  return o;
}

const char* DtlsStateName(dtls::DtlsState s) {
  switch (s) {
    case dtls::DtlsState::kNew:
      return "new";
    case dtls::DtlsState::kConnecting:
      return "connecting";
    case dtls::DtlsState::kConnected:
      return "connected";
    case dtls::DtlsState::kFailed:
      return "failed";
    case dtls::DtlsState::kClosed:
      return "closed";
  }
  return "new";
}

using Fields = std::vector<std::pair<std::string, StatValue>>;

double Num(uint64_t v) { return static_cast<double>(v); }
double Num(int64_t v) { return static_cast<double>(v); }
double Num(uint32_t v) { return static_cast<double>(v); }

template <typename T>
void AddIf(Fields& f, const char* key, const std::optional<T>& v) {
  if (v) f.emplace_back(key, static_cast<double>(*v));
}

std::string CodecId(const Transceiver& t, uint8_t pt) {
  return "codec-" + t.mid + "-" + std::to_string(pt);
}

const char* MimeType(sdp::Codec c) {
  switch (c) {
    case sdp::Codec::kH264:
      return "video/H264";
    case sdp::Codec::kH265:
      return "video/H265";
    case sdp::Codec::kVp8:
      return "video/VP8";
    case sdp::Codec::kOpus:
      return "audio/opus";
    case sdp::Codec::kPcmu:
      return "audio/PCMU";
    case sdp::Codec::kPcma:
      return "audio/PCMA";
  }
  return "";
}

// W3C webrtc-stats for the RTP streams, the codecs they use and their media sources, from the
// figures the media streams collect where they happen (media/stream_stats.h).
void CollectMediaStats(const PeerConnection& pc, double now, double monotonicToEpochMs,
                       std::vector<StatsObject>& out) {
  // The streams count in microseconds of the same monotonic clock as the loop's milliseconds.
  auto epochUs = [&](int64_t us) { return static_cast<double>(us) / 1000.0 + monotonicToEpochMs; };
  const std::string transport = "transport-0";
  for (const auto& tp : pc.transceivers()) {
    const Transceiver& t = *tp;
    if (t.mid.empty()) continue;
    const std::string kind = sdp::MediaKindName(t.init.kind);
    for (const auto& c : t.negotiatedCodecs) {
      const sdp::CodecInfo& info = sdp::InfoOf(c.codec);
      StatsObject o{"codec", CodecId(t, c.payloadType), now, {}};
      o.fields = {{"transportId", transport},
                  {"payloadType", Num(uint32_t{c.payloadType})},
                  {"mimeType", std::string(MimeType(c.codec))},
                  {"clockRate", Num(info.clockRate)}};
      if (info.channels != 0) o.fields.emplace_back("channels", Num(info.channels));
      if (!c.fmtp.empty()) o.fields.emplace_back("sdpFmtpLine", c.fmtp);
      out.push_back(std::move(o));
    }
    const std::string sourceId = "media-source-" + std::to_string(t.index);
    if (t.send) {
      StatsObject src{"media-source", sourceId, now, {}};
      src.fields = {{"kind", kind}, {"trackIdentifier", t.init.trackId}};
      out.push_back(std::move(src));
      const media::OutboundRtpStats s = t.send->outboundStats();
      const std::string id = "outbound-rtp-" + std::to_string(s.ssrc);
      const std::string remoteId = "remote-inbound-rtp-" + std::to_string(s.ssrc);
      StatsObject o{"outbound-rtp", id, now, {}};
      Fields& f = o.fields;
      f = {{"ssrc", Num(s.ssrc)},
           {"kind", kind},
           {"mid", t.mid},
           {"transportId", transport},
           {"codecId", CodecId(t, s.payloadType)},
           {"mediaSourceId", sourceId},
           {"remoteId", remoteId},
           {"packetsSent", Num(s.packetsSent)},
           {"bytesSent", Num(s.bytesSent)},
           {"headerBytesSent", Num(s.headerBytesSent)},
           {"retransmittedPacketsSent", Num(s.retransmittedPacketsSent)},
           {"retransmittedBytesSent", Num(s.retransmittedBytesSent)},
           {"totalPacketSendDelay", s.totalPacketSendDelay},
           {"packetsDiscardedOnSend", Num(s.packetsDiscardedOnSend)},
           {"bytesDiscardedOnSend", Num(s.bytesDiscardedOnSend)},
           {"nackCount", Num(s.nackCount)},
           {"active", true},
           // kvs-webrtc's own, for diagnosing repair: the sequence numbers NACKs asked for, and
           // of those the ones no longer kept or resent less than an RTT before.
           {"nackedPackets", Num(s.nackedPackets)},
           {"nackedPacketsNotFound", Num(s.nackedPacketsNotFound)},
           {"nackedPacketsThrottled", Num(s.nackedPacketsThrottled)}};
      if (s.rtxSsrc) f.emplace_back("rtxSsrc", Num(*s.rtxSsrc));
      if (s.lastPacketSentUs)
        f.emplace_back("lastPacketSentTimestamp", epochUs(*s.lastPacketSentUs));
      if (t.init.kind == sdp::MediaKind::kVideo) {
        f.emplace_back("firCount", Num(s.firCount));
        f.emplace_back("pliCount", Num(s.pliCount));
        f.emplace_back("framesEncoded", Num(s.framesEncoded));
        f.emplace_back("keyFramesEncoded", Num(s.keyFramesEncoded));
        f.emplace_back("framesSent", Num(s.framesSent));
        f.emplace_back("hugeFramesSent", Num(s.hugeFramesSent));
        f.emplace_back("framesDiscardedOnSend", Num(s.framesDiscardedOnSend));
        AddIf(f, "framesPerSecond", s.framesPerSecond);
        AddIf(f, "frameWidth", s.frameWidth);
        AddIf(f, "frameHeight", s.frameHeight);
      }
      out.push_back(std::move(o));
      const media::RemoteInboundRtpStats r = t.send->remoteInboundStats();
      if (r.reportsReceived > 0) {
        StatsObject ri{
            "remote-inbound-rtp", remoteId, r.lastReportUs ? epochUs(*r.lastReportUs) : now, {}};
        ri.fields = {{"ssrc", Num(r.ssrc)},
                     {"kind", kind},
                     {"transportId", transport},
                     {"codecId", CodecId(t, s.payloadType)},
                     {"localId", id},
                     {"packetsLost", Num(r.packetsLost)},
                     {"fractionLost", r.fractionLost},
                     {"jitter", r.jitter},
                     {"reportsReceived", Num(r.reportsReceived)},
                     {"totalRoundTripTime", r.totalRoundTripTime},
                     {"roundTripTimeMeasurements", Num(r.roundTripTimeMeasurements)}};
        if (r.roundTripTime) ri.fields.emplace_back("roundTripTime", *r.roundTripTime);
        out.push_back(std::move(ri));
      }
    }
    for (const auto& stream : t.receive) {
      const media::InboundRtpStats s = stream->inboundStats();
      const std::string id = "inbound-rtp-" + std::to_string(s.ssrc);
      const std::string remoteId = "remote-outbound-rtp-" + std::to_string(s.ssrc);
      const media::RemoteOutboundRtpStats r = stream->remoteOutboundStats();
      StatsObject o{"inbound-rtp", id, now, {}};
      Fields& f = o.fields;
      f = {{"ssrc", Num(s.ssrc)},
           {"kind", kind},
           {"mid", t.mid},
           {"trackIdentifier", t.init.trackId},
           {"transportId", transport},
           {"codecId", CodecId(t, s.payloadType)},
           // W3C counts retransmissions (over RTX too) in packetsReceived and bytesReceived,
           // as the sender counts them in packetsSent; packetsLost stays RFC 3550's.
           {"packetsReceived", Num(s.packetsReceived + s.retransmittedPacketsReceived)},
           {"packetsLost", Num(s.packetsLost)},
           {"jitter", s.jitter},
           {"bytesReceived", Num(s.bytesReceived + s.retransmittedBytesReceived)},
           {"headerBytesReceived", Num(s.headerBytesReceived)},
           {"retransmittedPacketsReceived", Num(s.retransmittedPacketsReceived)},
           {"retransmittedBytesReceived", Num(s.retransmittedBytesReceived)},
           {"jitterBufferDelay", s.jitterBufferDelay},
           {"jitterBufferEmittedCount", Num(s.jitterBufferEmittedCount)},
           {"packetsDiscarded", Num(s.packetsDiscarded)},
           {"nackCount", Num(s.nackCount)},
           // kvs-webrtc's own: padding-only packets (bandwidth probes; they carry no media),
           // duplicates, and the sequence numbers our NACKs named.
           {"paddingPacketsReceived", Num(s.paddingPacketsReceived)},
           {"packetsDuplicated", Num(s.packetsDuplicated)},
           {"packetsRejected", Num(s.packetsRejected)},
           {"nackedPackets", Num(s.nackedPackets)}};
      if (r.reportsSent > 0) f.emplace_back("remoteId", remoteId);
      if (s.lastPacketReceivedUs) {
        f.emplace_back("lastPacketReceivedTimestamp", epochUs(*s.lastPacketReceivedUs));
      }
      const auto& srtp = pc.srtp().counters();
      // Decryption failures are counted per transport; with one receiving stream they are its.
      f.emplace_back("packetsFailedDecryption", Num(srtp.rtpDecryptFailures));
      if (t.init.kind == sdp::MediaKind::kVideo) {
        f.emplace_back("firCount", Num(s.firCount));
        f.emplace_back("pliCount", Num(s.pliCount));
        f.emplace_back("framesReceived", Num(s.framesReceived));
        f.emplace_back("keyFramesReceived", Num(s.keyFramesReceived));
        f.emplace_back("framesDropped", Num(s.framesDropped));
        AddIf(f, "framesPerSecond", s.framesPerSecond);
        AddIf(f, "frameWidth", s.frameWidth);
        AddIf(f, "frameHeight", s.frameHeight);
      } else {
        f.emplace_back("totalSamplesReceived", Num(s.totalSamplesReceived));
      }
      out.push_back(std::move(o));
      if (r.reportsSent > 0) {
        StatsObject ro{
            "remote-outbound-rtp", remoteId, r.lastReportUs ? epochUs(*r.lastReportUs) : now, {}};
        ro.fields = {{"ssrc", Num(r.ssrc)},
                     {"kind", kind},
                     {"transportId", transport},
                     {"codecId", CodecId(t, s.payloadType)},
                     {"localId", id},
                     {"packetsSent", Num(r.packetsSent)},
                     {"bytesSent", Num(r.bytesSent)},
                     {"reportsSent", Num(r.reportsSent)}};
        if (r.remoteTimestamp) ro.fields.emplace_back("remoteTimestamp", *r.remoteTimestamp);
        out.push_back(std::move(ro));
      }
    }
  }
}

// W3C RTCDataChannelStats, and the data-channel counts of RTCPeerConnectionStats.
void CollectDataChannelStats(const PeerConnection& pc, double now, std::vector<StatsObject>& out) {
  for (const auto& s : pc.sctp().Stats()) {
    StatsObject o{"data-channel", "data-channel-" + std::to_string(s.id), now, {}};
    o.fields = {{"label", s.label},
                {"protocol", s.protocol},
                {"dataChannelIdentifier", Num(uint32_t{s.id})},
                {"state", std::string(sctp::ToString(s.state))},
                {"messagesSent", Num(s.messagesSent)},
                {"bytesSent", Num(s.bytesSent)},
                {"messagesReceived", Num(s.messagesReceived)},
                {"bytesReceived", Num(s.bytesReceived)}};
    out.push_back(std::move(o));
  }
  StatsObject p{"peer-connection", "peer-connection", now, {}};
  p.fields = {{"dataChannelsOpened", Num(pc.sctp().channelsOpened())},
              {"dataChannelsClosed", Num(pc.sctp().channelsClosed())}};
  out.push_back(std::move(p));
}

}  // namespace

std::vector<StatsObject> CollectStats(const PeerConnection& pc, double nowEpochMs,
                                      double monotonicToEpochMs) {
  std::vector<StatsObject> out;
  const ice::IceAgent& agent = pc.ice().agent();
  auto epoch = [&](uint64_t monotonicMs) -> double {
    return monotonicMs == 0 ? 0 : static_cast<double>(monotonicMs) + monotonicToEpochMs;
  };
  for (size_t i = 0; i < agent.localCandidates().size(); ++i) {
    out.push_back(CandidateStats("local-candidate", CandidateId("local", i),
                                 agent.localCandidates()[i], nowEpochMs));
  }
  for (size_t i = 0; i < agent.remoteCandidates().size(); ++i) {
    out.push_back(CandidateStats("remote-candidate", CandidateId("remote", i),
                                 agent.remoteCandidates()[i], nowEpochMs));
  }
  std::string selectedId;
  for (size_t i = 0; i < agent.pairs().size(); ++i) {
    const ice::CandidatePair& p = agent.pairs()[i];
    const std::string id = "candidate-pair-" + std::to_string(i);
    if (&p == agent.selectedPair()) selectedId = id;
    const ice::PairStats& s = p.stats;
    StatsObject o{"candidate-pair", id, nowEpochMs, {}};
    o.fields = {
        {"transportId", std::string("transport-0")},
        {"localCandidateId", CandidateId("local", static_cast<size_t>(p.localIndex))},
        {"remoteCandidateId", CandidateId("remote", static_cast<size_t>(p.remoteIndex))},
        {"state", std::string(ice::ToString(p.state))},
        {"nominated", p.nominated},
        {"priority", static_cast<double>(p.priority)},
        {"packetsSent", static_cast<double>(s.packetsSent)},
        {"packetsReceived", static_cast<double>(s.packetsReceived)},
        {"bytesSent", static_cast<double>(s.bytesSent)},
        {"bytesReceived", static_cast<double>(s.bytesReceived)},
        {"requestsSent", static_cast<double>(s.requestsSent)},
        {"requestsReceived", static_cast<double>(s.requestsReceived)},
        {"responsesSent", static_cast<double>(s.responsesSent)},
        {"responsesReceived", static_cast<double>(s.responsesReceived)},
        {"consentRequestsSent", static_cast<double>(s.consentRequestsSent)},
        {"totalRoundTripTime", s.totalRoundTripTimeMs / 1000.0},
        {"currentRoundTripTime", s.currentRoundTripTimeMs / 1000.0},
        {"lastPacketSentTimestamp", epoch(s.lastPacketSentTimestampMs)},
        {"lastPacketReceivedTimestamp", epoch(s.lastPacketReceivedTimestampMs)},
        {"lastRequestTimestamp", epoch(s.lastRequestTimestampMs)},
        {"lastResponseTimestamp", epoch(s.lastResponseTimestampMs)},
    };
    out.push_back(std::move(o));
  }
  const auto servers = pc.ice().iceServerStats();
  for (size_t i = 0; i < servers.size(); ++i) {
    const auto& s = servers[i];
    StatsObject o{"ice-server", "ice-server-" + std::to_string(i), nowEpochMs, {}};
    o.fields = {
        {"url", s.url},
        {"totalRequestsSent", static_cast<double>(s.requestsSent)},
        {"totalResponsesReceived", static_cast<double>(s.responsesReceived)},
        {"totalRoundTripTime", static_cast<double>(s.totalRoundTripTimeMs) / 1000.0},
        {"roundTripTimeMeasurements", static_cast<double>(s.roundTripTimeSamples)},
    };
    out.push_back(std::move(o));
  }
  StatsObject t{"transport", "transport-0", nowEpochMs, {}};
  t.fields = {
      {"iceState", std::string(ice::ToString(agent.state()))},
      {"iceRole",
       std::string(agent.role() == ice::IceRole::kControlling ? "controlling" : "controlled")},
      {"iceLocalUsernameFragment", agent.localCredentials().ufrag},
      {"dtlsState", std::string(DtlsStateName(pc.dtls().state()))},
  };
  if (!selectedId.empty()) t.fields.emplace_back("selectedCandidatePairId", selectedId);
  {
    // kvs-webrtc's own: what the transport dropped before any stream could count it, so that a
    // peer's packetsSent can be squared with the receiving streams' packetsReceived. The first
    // is RTP and RTCP, either way, before DTLS gave the SRTP keys.
    const auto& srtp = pc.srtp().counters();
    t.fields.emplace_back("srtpDroppedBeforeKeys", Num(srtp.droppedBeforeKeys));
    t.fields.emplace_back("rtpPacketsReplayed", Num(srtp.rtpReplayed));
    t.fields.emplace_back("rtpPacketsUnroutable", Num(pc.rtp().counters().rtpUnroutable));
    t.fields.emplace_back("rtpPacketsMalformed", Num(pc.rtp().counters().rtpMalformed));
  }
  // RTCCertificateStats: ours always; the peer's once DTLS has seen it.
  {
    StatsObject c{"certificate", "certificate-local", nowEpochMs, {}};
    c.fields = {{"fingerprint", pc.localFingerprint()},
                {"fingerprintAlgorithm", std::string("sha-256")},
                {"base64Certificate", dtls::CertificateBase64(pc.certificate().x509())}};
    out.push_back(std::move(c));
    t.fields.emplace_back("localCertificateId", std::string("certificate-local"));
  }
  if (const dtls::DtlsSession* d = pc.dtls().session();
      d != nullptr && !d->peerFingerprint().empty()) {
    StatsObject c{"certificate", "certificate-remote", nowEpochMs, {}};
    c.fields = {{"fingerprint", d->peerFingerprint()},
                {"fingerprintAlgorithm", std::string("sha-256")},
                {"base64Certificate", d->peerCertificateBase64()}};
    out.push_back(std::move(c));
    t.fields.emplace_back("remoteCertificateId", std::string("certificate-remote"));
  }
  if (const dtls::DtlsSession* d = pc.dtls().session();
      d != nullptr && d->state() == dtls::DtlsState::kConnected) {
    t.fields.emplace_back("tlsVersion", d->protocolVersion());
    t.fields.emplace_back("dtlsCipher", d->cipher());
    t.fields.emplace_back("dtlsRole",
                          std::string(d->role() == dtls::DtlsRole::kClient ? "client" : "server"));
    if (auto profile = d->selectedSrtpProfile()) {
      t.fields.emplace_back("srtpCipher", std::string(srtp::InfoOf(*profile).ianaName));
    }
  }
  out.push_back(std::move(t));
  CollectMediaStats(pc, nowEpochMs, monotonicToEpochMs, out);
  CollectDataChannelStats(pc, nowEpochMs, out);
  return out;
}

}  // namespace kvs::pc
