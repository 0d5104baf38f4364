#include "sdp/negotiate.h"

#include <algorithm>
#include <set>

#include "sdp/text.h"

namespace kvs::sdp {

namespace {

constexpr const char* kErr = "ERR_SDP_NEGOTIATION";
constexpr const char* kRtpProtocol = "UDP/TLS/RTP/SAVPF";
constexpr const char* kSctpProtocol = "UDP/DTLS/SCTP";
constexpr const char* kSctpFormat = "webrtc-datachannel";
constexpr const char* kAnyAddress = "IN IP4 0.0.0.0";

Status Fail(const std::string& why) { return Status::Fail(kErr, why); }

bool Sends(Direction d) { return d == Direction::kSendRecv || d == Direction::kSendOnly; }
bool Receives(Direction d) { return d == Direction::kSendRecv || d == Direction::kRecvOnly; }
Direction FromFlags(bool send, bool recv) {
  if (send && recv) return Direction::kSendRecv;
  if (send) return Direction::kSendOnly;
  if (recv) return Direction::kRecvOnly;
  return Direction::kInactive;
}

// The RTCP feedback we implement (NACK and PLI responders, FIR, REMB, and TWCC when enabled).
std::vector<std::string> SupportedFeedback(MediaKind kind, bool twcc) {
  std::vector<std::string> fb;
  if (kind == MediaKind::kVideo) fb = {"goog-remb", "ccm fir", "nack", "nack pli"};
  if (twcc) fb.insert(fb.begin() + (kind == MediaKind::kVideo ? 1 : 0), "transport-cc");
  return fb;
}

Status CheckTransport(const LocalTransport& t) {
  if (t.iceUfrag.empty() || t.icePwd.empty()) return Fail("local ICE ufrag or pwd is empty");
  if (t.fingerprintSha256.empty()) return Fail("local fingerprint is empty");
  return Status::Ok();
}

void ApplyTransport(MediaSection& m, const LocalTransport& t, Setup setup) {
  m.transport.iceUfrag = t.iceUfrag;
  m.transport.icePwd = t.icePwd;
  if (t.trickle) m.transport.iceOptions = {"trickle"};
  m.transport.fingerprints = {Fingerprint{"sha-256", t.fingerprintSha256}};
  m.transport.setup = setup;
}

void ApplyTrack(MediaSection& m, const LocalTrack& track) {
  m.msids.push_back(Msid{track.streamId, track.trackId});
  if (track.rtxSsrc != 0) m.ssrcGroups.push_back(SsrcGroup{"FID", {track.ssrc, track.rtxSsrc}});
  for (uint32_t ssrc : {track.ssrc, track.rtxSsrc}) {
    if (ssrc == 0) continue;
    m.ssrcs.push_back(SsrcAttribute{ssrc, "cname", track.cname});
    m.ssrcs.push_back(SsrcAttribute{ssrc, "msid", track.streamId + " " + track.trackId});
  }
}

SessionDescription NewSession(const std::string& sessionId, uint64_t version) {
  SessionDescription sd;
  sd.origin.sessionId = sessionId;
  sd.origin.sessionVersion = version;
  sd.msidSemantic = "WMS";
  return sd;
}

void AddCandidates(SessionDescription& sd, const LocalTransport& t) {
  for (auto& m : sd.media) {
    if (m.port == 0) continue;
    m.candidates = t.candidates;
    m.endOfCandidates = t.endOfCandidates;
    return;
  }
}

std::string PlainFmtp(Codec c, const RtpFormat& offered) {
  // H.265's profile/level parameters describe the stream; echo the offer's rather than guess.
  if (c == Codec::kH265) return offered.fmtp.value_or("");
  if (c == Codec::kH264) {
    std::string plid =
        FmtpParameter(offered.fmtp.value_or(""), "profile-level-id").value_or("42e01f");
    return "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + plid;
  }
  return InfoOf(c).fmtp;
}

Result<MediaSection> OfferMedia(const OfferedSection& s, bool twcc) {
  MediaSection m;
  m.mid = s.mid;
  m.connection = kAnyAddress;
  if (s.kind == SectionKind::kApplication) {
    m.media = "application";
    m.protocol = kSctpProtocol;
    m.formats = {kSctpFormat};
    m.sctpPort = s.sctpPort;
    m.maxMessageSize = s.maxMessageSize;
    return m;
  }
  MediaKind kind = s.kind == SectionKind::kAudio ? MediaKind::kAudio : MediaKind::kVideo;
  m.media = MediaKindName(kind);
  m.protocol = kRtpProtocol;
  m.direction = s.direction;
  m.rtcpMux = true;
  m.rtcpRsize = true;
  if (twcc) m.extmaps.push_back(Extmap{kTwccExtensionId, std::nullopt, kTwccExtensionUri, ""});
  m.extmaps.push_back(Extmap{kAbsSendTimeExtensionId, std::nullopt, kAbsSendTimeExtensionUri, ""});
  m.extmaps.push_back(Extmap{kMidExtensionId, std::nullopt, kMidExtensionUri, ""});
  std::vector<Codec> codecs = s.codecs.empty() ? DefaultCodecs(kind) : s.codecs;
  std::set<Codec> seen;
  for (Codec c : codecs) {
    const CodecInfo& info = InfoOf(c);
    if (info.kind != kind) {
      return Fail(std::string("codec ") + info.name + " offered in a " + MediaKindName(kind) +
                  " section (mid " + s.mid + ")");
    }
    if (!seen.insert(c).second) continue;
    RtpFormat f;
    f.payloadType = info.payloadType;
    f.rtpmap = RtpMap{info.name, info.clockRate, std::nullopt};
    if (info.channels != 0) f.rtpmap->channels = info.channels;
    if (*info.fmtp != '\0') f.fmtp = info.fmtp;
    f.rtcpFeedback = SupportedFeedback(kind, twcc);
    m.formats.push_back(std::to_string(f.payloadType));
    m.rtpFormats.push_back(std::move(f));
    if (s.rtx && info.rtxPayloadType != 0) {
      RtpFormat rtx;
      rtx.payloadType = info.rtxPayloadType;
      rtx.rtpmap = RtpMap{"rtx", info.clockRate, std::nullopt};
      rtx.fmtp = "apt=" + std::to_string(info.payloadType);
      m.formats.push_back(std::to_string(rtx.payloadType));
      m.rtpFormats.push_back(std::move(rtx));
    }
  }
  if (s.track && Sends(s.direction)) ApplyTrack(m, *s.track);
  return m;
}

// Picks, for each of our codecs in preference order, the best-fitting offered payload type.
std::set<uint8_t> ChooseFormats(const MediaSection& offered, const AnswerPolicy& policy,
                                MediaKind kind) {
  std::set<uint8_t> chosen;
  std::vector<Codec> codecs = policy.codecs.empty() ? DefaultCodecs(kind) : policy.codecs;
  for (Codec c : codecs) {
    if (InfoOf(c).kind != kind) continue;
    const RtpFormat* best = nullptr;
    int bestScore = 0;
    for (const auto& f : offered.rtpFormats) {
      auto score = MatchScore(c, f);
      if (score && *score > bestScore && !chosen.count(f.payloadType)) {
        best = &f;
        bestScore = *score;
      }
    }
    if (best) chosen.insert(best->payloadType);
  }
  return chosen;
}

MediaSection Rejected(const MediaSection& offered) {
  MediaSection m;
  m.media = offered.media;
  m.port = 0;
  m.protocol = offered.protocol;
  m.formats = offered.formats;
  m.connection = kAnyAddress;
  m.mid = offered.mid;
  // The model lists every payload type of an RTP m-line, described or not (as the parser does).
  for (const auto& f : offered.rtpFormats) {
    if (std::find(m.formats.begin(), m.formats.end(), std::to_string(f.payloadType)) !=
        m.formats.end()) {
      m.rtpFormats.push_back(RtpFormat{f.payloadType, std::nullopt, std::nullopt, {}});
    }
  }
  return m;
}

std::optional<MediaSection> AnswerRtp(const MediaSection& offered, const AnswerSpec& spec,
                                      Setup setup) {
  MediaKind kind = offered.media == "audio" ? MediaKind::kAudio : MediaKind::kVideo;
  const AnswerPolicy* policy = kind == MediaKind::kAudio ? &spec.audio : &spec.video;
  if (offered.mid) {
    auto it = spec.byMid.find(*offered.mid);
    if (it != spec.byMid.end()) policy = &it->second;
  }
  std::set<uint8_t> chosen = ChooseFormats(offered, *policy, kind);
  if (chosen.empty()) return std::nullopt;

  MediaSection m;
  m.media = offered.media;
  m.port = 9;
  m.protocol = offered.protocol;
  m.connection = kAnyAddress;
  m.mid = offered.mid;
  ApplyTransport(m, spec.transport, setup);
  m.rtcpMux = true;
  m.rtcpRsize = offered.rtcpRsize;
  // The intersection of the offer's extensions with ours, at the offer's ids (RFC 8285 §6):
  // answering without transport-cc is what kept TWCC feedback from ever arriving elsewhere.
  for (const auto& e : offered.extmaps) {
    const bool ours = (spec.twcc && e.uri == kTwccExtensionUri) ||
                      e.uri == kAbsSendTimeExtensionUri || e.uri == kMidExtensionUri;
    // One-byte form ids only, unless the offer allows mixing (RFC 8285 §4.3, §6).
    if (ours && e.id >= 1 && (e.id <= 14 || offered.extmapAllowMixed)) {
      m.extmaps.push_back(Extmap{e.id, {}, e.uri, ""});
    }
  }
  Direction offeredDir = offered.direction.value_or(Direction::kSendRecv);
  m.direction = AnswerDirection(offeredDir, policy->direction);

  std::vector<std::string> supportedFb = SupportedFeedback(kind, spec.twcc);
  // Keep the offer's order: it is the offerer's preference, and we may send any of them.
  for (const auto& f : offered.rtpFormats) {
    RtpFormat out;
    out.payloadType = f.payloadType;
    if (chosen.count(f.payloadType)) {
      auto codec = IdentifyCodec(f);
      if (!codec) continue;
      out.rtpmap = f.rtpmap;
      std::string fmtp = PlainFmtp(*codec, f);
      if (!fmtp.empty()) out.fmtp = fmtp;
      for (const auto& fb : f.rtcpFeedback) {
        for (const auto& ours : supportedFb) {
          if (fb == ours) out.rtcpFeedback.push_back(fb);
        }
      }
    } else if (auto apt = RtxAssociatedPayloadType(f); apt && policy->rtx && chosen.count(*apt)) {
      out.rtpmap = f.rtpmap;
      out.fmtp = "apt=" + std::to_string(*apt);
    } else {
      continue;
    }
    m.formats.push_back(std::to_string(out.payloadType));
    m.rtpFormats.push_back(std::move(out));
  }
  if (policy->track && Sends(*m.direction)) ApplyTrack(m, *policy->track);
  return m;
}

}  // namespace

Direction AnswerDirection(Direction offered, Direction wanted) {
  return FromFlags(Sends(wanted) && Receives(offered), Receives(wanted) && Sends(offered));
}

Result<SessionDescription> BuildOffer(const OfferSpec& spec) {
  if (spec.sections.empty()) return Fail("an offer needs at least one section");
  Status st = CheckTransport(spec.transport);
  if (!st.ok()) return st;
  SessionDescription sd = NewSession(spec.sessionId, spec.sessionVersion);
  Group bundle{"BUNDLE", {}};
  std::set<std::string> mids;
  for (const auto& s : spec.sections) {
    if (s.mid.empty() || text::SplitFields(s.mid).size() != 1) {
      return Fail("mid \"" + s.mid + "\" is not one token");
    }
    if (!mids.insert(s.mid).second) return Fail("mid \"" + s.mid + "\" is used twice");
    auto m = OfferMedia(s, spec.twcc);
    if (!m.ok()) return m.status();
    if (s.stopped) {
      sd.media.push_back(Rejected(m.value()));
      continue;
    }
    ApplyTransport(m.value(), spec.transport, Setup::kActpass);
    bundle.mids.push_back(s.mid);
    sd.media.push_back(m.take());
  }
  sd.groups.push_back(std::move(bundle));
  AddCandidates(sd, spec.transport);
  return sd;
}

Result<SessionDescription> BuildAnswer(const SessionDescription& offer, const AnswerSpec& spec) {
  Status st = CheckTransport(spec.transport);
  if (!st.ok()) return st;
  if (offer.media.empty()) return Fail("the offer has no m= sections");
  SessionDescription sd = NewSession(spec.sessionId, spec.sessionVersion);
  const Group* offeredBundle = offer.bundleGroup();
  Group bundle{"BUNDLE", {}};

  for (const auto& om : offer.media) {
    bool inBundle = !offeredBundle ||
                    (om.mid && std::find(offeredBundle->mids.begin(), offeredBundle->mids.end(),
                                         *om.mid) != offeredBundle->mids.end());
    bool offeredLive = om.port != 0 || om.bundleOnly;
    std::optional<MediaSection> answered;
    if (offeredLive && inBundle) {
      TransportAttributes t = EffectiveTransport(offer, om);
      if (!t.iceUfrag || !t.icePwd) {
        return Fail("m= section " + om.mid.value_or(om.media) + " has no ICE ufrag or pwd");
      }
      if (t.fingerprints.empty()) {
        return Fail("m= section " + om.mid.value_or(om.media) + " has no fingerprint");
      }
      Setup offeredSetup = t.setup.value_or(Setup::kActpass);
      if (offeredSetup == Setup::kHoldconn) return Fail("the offer says setup:holdconn");
      // RFC 5763 §5: the answerer is active unless the offerer insists on being active.
      Setup setup = offeredSetup == Setup::kActive ? Setup::kPassive : Setup::kActive;

      if ((om.media == "audio" || om.media == "video") && om.isRtp() &&
          om.protocol.find("SAVP") != std::string::npos) {
        answered = AnswerRtp(om, spec, setup);
      } else if (om.media == "application" && spec.acceptDataChannel &&
                 om.protocol == kSctpProtocol && om.formats.size() == 1 &&
                 om.formats[0] == kSctpFormat) {
        MediaSection m;
        m.media = om.media;
        m.protocol = om.protocol;
        m.formats = om.formats;
        m.connection = kAnyAddress;
        m.mid = om.mid;
        ApplyTransport(m, spec.transport, setup);
        m.sctpPort = spec.sctpPort;
        m.maxMessageSize = spec.maxMessageSize;
        answered = std::move(m);
      }
    }
    if (answered) {
      if (offeredBundle && answered->mid) bundle.mids.push_back(*answered->mid);
      sd.media.push_back(std::move(*answered));
    } else {
      sd.media.push_back(Rejected(om));
    }
  }
  if (offeredBundle) sd.groups.push_back(std::move(bundle));
  AddCandidates(sd, spec.transport);
  return sd;
}

std::vector<NegotiatedCodec> NegotiatedCodecs(const MediaSection& m) {
  std::vector<NegotiatedCodec> out;
  for (const auto& f : m.rtpFormats) {
    auto codec = IdentifyCodec(f);
    if (!codec) continue;
    NegotiatedCodec n{*codec, f.payloadType, std::nullopt, f.fmtp.value_or("")};
    for (const auto& r : m.rtpFormats) {
      if (RtxAssociatedPayloadType(r) == f.payloadType) n.rtxPayloadType = r.payloadType;
    }
    out.push_back(std::move(n));
  }
  return out;
}

RtpParameters DescribeRtp(const MediaSection& m) {
  RtpParameters p;
  p.codecs = NegotiatedCodecs(m);
  for (const auto& e : m.extmaps) {
    if (e.id < 1 || e.id > 255) continue;
    const auto id = static_cast<uint8_t>(e.id);
    if (e.uri == kTwccExtensionUri) p.twccExtensionId = id;
    if (e.uri == kAbsSendTimeExtensionUri) p.absSendTimeExtensionId = id;
    if (e.uri == kMidExtensionUri) p.midExtensionId = id;
  }
  // The feedback of the codec we send (the first), plus what applies to every payload type.
  std::vector<std::string> fb = m.rtcpFeedbackAll;
  if (!p.codecs.empty()) {
    if (const RtpFormat* f = m.findFormat(p.codecs.front().payloadType)) {
      fb.insert(fb.end(), f->rtcpFeedback.begin(), f->rtcpFeedback.end());
    }
  }
  for (const auto& item : fb) {
    const std::string v = text::ToLower(item);
    if (v == "nack") p.nack = true;
    if (v == "nack pli") p.pli = true;
    if (v == "ccm fir") p.fir = true;
    if (v == "goog-remb") p.remb = true;
    if (v == "transport-cc") p.transportCc = true;
  }
  p.reducedSizeRtcp = m.rtcpRsize;
  return p;
}

std::vector<RemoteSsrc> RemoteSsrcs(const MediaSection& m) {
  std::vector<RemoteSsrc> out;
  std::vector<uint32_t> repair;  // the second of each FID group repairs the first
  for (const auto& g : m.ssrcGroups) {
    if (text::EqualsIgnoreCase(g.semantics, "FID") && g.ssrcs.size() == 2) {
      out.push_back({g.ssrcs[0], g.ssrcs[1]});
      repair.push_back(g.ssrcs[1]);
    }
  }
  for (const auto& a : m.ssrcs) {
    const bool known = std::any_of(out.begin(), out.end(),
                                   [&](const RemoteSsrc& r) { return r.ssrc == a.ssrc; }) ||
                       std::find(repair.begin(), repair.end(), a.ssrc) != repair.end();
    if (!known) out.push_back({a.ssrc, 0});
  }
  return out;
}

}  // namespace kvs::sdp
