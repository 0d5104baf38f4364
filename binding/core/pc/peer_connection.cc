#include "pc/peer_connection.h"

#include "crypto/random.h"

#include "net/demux.h"
#include "pc/candidate_convert.h"
#include "sdp/candidate.h"
#include "sdp/negotiate.h"
#include "sdp/sdp_parser.h"
#include "sdp/sdp_writer.h"

namespace kvs::pc {
namespace {

// ice-char (RFC 8839): ALPHA / DIGIT / "+" / "/". The password is a secret: without
// entropy there is none to make.
Result<std::string> RandomIceString(size_t length) {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<uint8_t> bytes(length);
  Status st = crypto::RandomBytes(bytes.data(), bytes.size());
  if (!st.ok()) return st;
  std::string out;
  for (uint8_t b : bytes) out.push_back(kChars[b % 64]);
  return out;
}

// Letters and digits: safe in every SDP token (msid ids, cnames). Unique, not secret.
std::string RandomAlphanumeric(size_t length) {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::vector<uint8_t> bytes(length);
  crypto::UniqueBytes(bytes.data(), bytes.size());
  std::string out;
  for (uint8_t b : bytes) out.push_back(kChars[b % 62]);
  return out;
}

uint32_t RandomU32() {
  uint8_t b[4];
  crypto::UniqueBytes(b, sizeof b);
  const uint32_t v = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
  return v == 0 ? 1 : v;
}

std::string RandomSessionId() {
  uint8_t b[8];
  crypto::UniqueBytes(b, sizeof b);
  uint64_t v = 0;
  for (uint8_t x : b) v = (v << 8) | x;
  return std::to_string(v >> 2);  // positive and below 2^62, as browsers emit
}

Result<ice::IceCredentials> NewCredentials() {
  auto ufrag = RandomIceString(8);
  if (!ufrag.ok()) return ufrag.status();
  auto pwd = RandomIceString(24);
  if (!pwd.ok()) return pwd.status();
  return ice::IceCredentials{ufrag.take(), pwd.take()};
}

// With max-bundle every m-line shares one transport: the first one not rejected carries
// its ICE and DTLS parameters.
const sdp::MediaSection* FirstUsableSection(const sdp::SessionDescription& sd) {
  for (const auto& m : sd.media) {
    if (!m.rejected()) return &m;
  }
  return nullptr;
}

Status WrongState(const char* what, SignalingState s) {
  return Status::Fail("ERR_INVALID_STATE",
                      std::string(what) + " is not allowed in signaling state " + ToString(s));
}

}  // namespace

const char* ToString(ConnectionState s) {
  switch (s) {
    case ConnectionState::kNew:
      return "new";
    case ConnectionState::kConnecting:
      return "connecting";
    case ConnectionState::kConnected:
      return "connected";
    case ConnectionState::kDisconnected:
      return "disconnected";
    case ConnectionState::kFailed:
      return "failed";
    case ConnectionState::kClosed:
      return "closed";
  }
  return "new";
}

const char* ToString(SignalingState s) {
  switch (s) {
    case SignalingState::kStable:
      return "stable";
    case SignalingState::kHaveLocalOffer:
      return "have-local-offer";
    case SignalingState::kHaveRemoteOffer:
      return "have-remote-offer";
    case SignalingState::kClosed:
      return "closed";
  }
  return "stable";
}

Result<std::unique_ptr<PeerConnection>> PeerConnection::Create(loop::EventLoop& loop,
                                                               PeerConnectionConfig config) {
  if (!config.certificate) {
    auto cert = dtls::Certificate::GenerateEcdsaP256();
    if (!cert.ok()) return cert.status();
    config.certificate = cert.value();
  }
  auto credentials = NewCredentials();
  if (!credentials.ok()) return credentials.status();
  return std::make_unique<PeerConnection>(Key{}, loop, std::move(config), credentials.take());
}

PeerConnection::PeerConnection(Key, loop::EventLoop& loop, PeerConnectionConfig config,
                               ice::IceCredentials credentials)
    : loop_(loop),
      config_(std::move(config)),
      certificate_(config_.certificate),
      sessionId_(RandomSessionId()),
      localCredentials_(std::move(credentials)) {
  IceTransportConfig iceConfig;
  iceConfig.interfaces = config_.interfaces;
  iceConfig.relays = config_.relays;
  iceConfig.stunServers = config_.stunServers;
  iceConfig.relayOnly = config_.relayOnly;
  iceConfig.tlsCaFile = config_.tlsCaFile;
  iceConfig.mdnsHostCandidates = config_.mdnsHostCandidates;
  iceConfig.agent.local = localCredentials_;
  iceConfig.agent.connectionCheckTimeoutMs = config_.connectionCheckTimeoutMs;
  iceConfig.agent.nominationTimeoutMs = config_.nominationTimeoutMs;
  iceConfig.agent.disconnectedTimeoutMs = config_.disconnectedTimeoutMs;
  iceConfig.agent.failedTimeoutMs = config_.failedTimeoutMs;
  ice_ = std::make_unique<IceTransport>(loop_, std::move(iceConfig));
  auto sendOnIce = [this](ByteSpan d) { return ice_->Send(d); };
  dtls_ = std::make_unique<DtlsTransport>(loop_, sendOnIce, certificate_);
  srtp_ = std::make_unique<SrtpTransport>(sendOnIce);

  ice_->onLocalCandidate = [this](const sdp::Candidate& c) {
    if (onIceCandidate) onIceCandidate(sdp::FormatCandidate(c), FirstMid());
  };
  ice_->onGatheringComplete = [this] {
    if (onIceCandidate) onIceCandidate(std::nullopt, FirstMid());
  };
  ice_->onCandidateSkipped = [this](const sdp::Candidate& c, const std::string& reason) {
    if (onCandidateSkipped) onCandidateSkipped(sdp::FormatCandidate(c), reason);
  };
  ice_->onStateChange = [this](ice::IceState s) {
    if (s == ice::IceState::kConnected) dtls_->Connect();
    UpdateConnectionState();
  };
  // The one receive path: the demultiplexer has classed each datagram already.
  ice_->onPacket = [this](net::PacketClass kind, ByteSpan data) {
    switch (kind) {
      case net::PacketClass::kDtls:
        dtls_->HandleDatagram(data);
        break;
      case net::PacketClass::kRtp:
        srtp_->HandleRtp(data);
        break;
      case net::PacketClass::kRtcp:
        srtp_->HandleRtcp(data);
        break;
      default:
        break;
    }
  };
  dtls_->onSrtpKeys = [this](const srtp::SrtpKeys& keys) { return srtp_->Start(keys); };
  dtls_->onStateChange = [this](dtls::DtlsState s) {
    if (s == dtls::DtlsState::kFailed) Fail(dtls_->failure());
    UpdateConnectionState();
  };
}

PeerConnection::~PeerConnection() {
  // No events from a connection that is going away.
  onIceCandidate = nullptr;
  onConnectionStateChange = nullptr;
  onSignalingStateChange = nullptr;
  onError = nullptr;
  onCandidateSkipped = nullptr;
  Close();
}

std::string PeerConnection::FirstMid() const {
  const sdp::SessionDescription* sd = pendingLocal_ ? &*pendingLocal_ : nullptr;
  if (sd && !sd->media.empty() && sd->media[0].mid) return *sd->media[0].mid;
  if (!transceivers_.empty() && !transceivers_[0].mid.empty()) return transceivers_[0].mid;
  return dataMid_.value_or("0");
}

Result<size_t> PeerConnection::AddTransceiver(TransceiverInit init) {
  if (closed_) return Status::Fail("ERR_INVALID_STATE", "the peer connection is closed");
  for (auto c : init.codecs) {
    if (sdp::InfoOf(c).kind != init.kind) {
      return Status::Fail("ERR_INVALID_ARGUMENT", std::string("codec ") + sdp::InfoOf(c).name +
                                                      " is not a " + sdp::MediaKindName(init.kind) +
                                                      " codec");
    }
  }
  Transceiver t;
  t.init = std::move(init);
  // a=msid needs both: "-" is the W3C way of saying "no stream".
  if (t.init.streamId.empty()) t.init.streamId = "-";
  if (t.init.trackId.empty()) t.init.trackId = RandomAlphanumeric(16);
  t.ssrc = RandomU32();
  t.rtxSsrc = t.init.kind == sdp::MediaKind::kVideo ? RandomU32() : 0;
  transceivers_.push_back(std::move(t));
  return transceivers_.size() - 1;
}

sdp::LocalTransport PeerConnection::MakeLocalTransport() const {
  sdp::LocalTransport t;
  t.iceUfrag = localCredentials_.ufrag;
  t.icePwd = localCredentials_.pwd;
  t.fingerprintSha256 = certificate_->fingerprint();
  t.trickle = true;
  return t;
}

Result<std::string> PeerConnection::CreateOffer() {
  if (closed_) return Status::Fail("ERR_INVALID_STATE", "the peer connection is closed");
  if (signalingState_ != SignalingState::kStable &&
      signalingState_ != SignalingState::kHaveLocalOffer) {
    return WrongState("createOffer", signalingState_);
  }
  int nextMid = 0;
  auto takeMid = [&]() {
    for (;;) {
      const std::string mid = std::to_string(nextMid++);
      bool used = dataMid_ == mid;
      for (const auto& t : transceivers_) used |= t.mid == mid;
      if (!used) return mid;
    }
  };
  sdp::OfferSpec spec;
  spec.sessionId = sessionId_;
  spec.sessionVersion = ++sessionVersion_;
  spec.transport = MakeLocalTransport();
  for (auto& t : transceivers_) {
    if (t.mid.empty()) t.mid = takeMid();
    sdp::OfferedSection s;
    s.kind =
        t.init.kind == sdp::MediaKind::kAudio ? sdp::SectionKind::kAudio : sdp::SectionKind::kVideo;
    s.mid = t.mid;
    s.direction = t.init.direction;
    s.codecs = t.init.codecs;
    if (t.init.direction == sdp::Direction::kSendRecv ||
        t.init.direction == sdp::Direction::kSendOnly) {
      s.track = sdp::LocalTrack{t.ssrc, t.rtxSsrc, "kvs-webrtc", t.init.streamId, t.init.trackId};
    }
    spec.sections.push_back(std::move(s));
  }
  if (wantDataChannels_ && !dataMid_) dataMid_ = takeMid();
  if (dataMid_) {
    sdp::OfferedSection s;
    s.kind = sdp::SectionKind::kApplication;
    s.mid = *dataMid_;
    spec.sections.push_back(std::move(s));
  }
  if (spec.sections.empty()) {
    return Status::Fail("ERR_INVALID_STATE",
                        "createOffer: nothing to negotiate; add a transceiver or a data channel");
  }
  auto sd = sdp::BuildOffer(spec);
  if (!sd.ok()) return sd.status();
  if (const dtls::DtlsSession* d = dtls_->session()) {
    // A re-offer keeps the association: it states our role instead of actpass (RFC 5763 §5).
    const sdp::Setup setup =
        d->role() == dtls::DtlsRole::kClient ? sdp::Setup::kActive : sdp::Setup::kPassive;
    for (auto& m : sd.value().media) {
      if (m.transport.setup) m.transport.setup = setup;
    }
    if (sd.value().transport.setup) sd.value().transport.setup = setup;
  }
  pendingLocal_ = sd.value();
  return sdp::SerializeSessionDescription(sd.value());
}

Result<std::string> PeerConnection::CreateAnswer() {
  if (closed_) return Status::Fail("ERR_INVALID_STATE", "the peer connection is closed");
  if (signalingState_ != SignalingState::kHaveRemoteOffer || !remote_) {
    return WrongState("createAnswer", signalingState_);
  }
  sdp::AnswerSpec spec;
  spec.sessionId = sessionId_;
  spec.sessionVersion = ++sessionVersion_;
  spec.transport = MakeLocalTransport();
  // Our transceivers answer the offered m-lines of their kind, in order.
  std::vector<bool> used(transceivers_.size(), false);
  for (const auto& m : remote_->media) {
    if (!m.mid || (m.media != "audio" && m.media != "video")) continue;
    const sdp::MediaKind kind =
        m.media == "audio" ? sdp::MediaKind::kAudio : sdp::MediaKind::kVideo;
    std::optional<size_t> match;
    for (size_t i = 0; i < transceivers_.size() && !match; ++i) {
      if (!used[i] && transceivers_[i].init.kind == kind &&
          (transceivers_[i].mid.empty() || transceivers_[i].mid == *m.mid)) {
        match = i;
      }
    }
    sdp::AnswerPolicy policy;
    if (match) {
      used[*match] = true;
      Transceiver& t = transceivers_[*match];
      t.mid = *m.mid;
      policy.direction = t.init.direction;
      policy.codecs = t.init.codecs;
      if (t.init.direction == sdp::Direction::kSendRecv ||
          t.init.direction == sdp::Direction::kSendOnly) {
        policy.track =
            sdp::LocalTrack{t.ssrc, t.rtxSsrc, "kvs-webrtc", t.init.streamId, t.init.trackId};
      }
    } else {
      policy.direction = sdp::Direction::kRecvOnly;  // we can always receive
    }
    spec.byMid[*m.mid] = policy;
  }
  auto sd = sdp::BuildAnswer(*remote_, spec);
  if (!sd.ok()) return sd.status();
  pendingLocal_ = sd.value();
  return sdp::SerializeSessionDescription(sd.value());
}

Status PeerConnection::SetLocalDescription(SdpType type, const std::string& text) {
  if (closed_) return Status::Fail("ERR_INVALID_STATE", "the peer connection is closed");
  auto parsed = sdp::ParseSessionDescription(text);
  if (!parsed.ok()) return parsed.status();
  const sdp::SessionDescription& sd = parsed.value();
  if (type == SdpType::kOffer) {
    if (signalingState_ != SignalingState::kStable &&
        signalingState_ != SignalingState::kHaveLocalOffer) {
      return WrongState("setLocalDescription(offer)", signalingState_);
    }
    isOfferer_ = true;
    ice_->agent().SetRole(ice::IceRole::kControlling);
    SetSignalingState(SignalingState::kHaveLocalOffer);
  } else {
    if (signalingState_ != SignalingState::kHaveRemoteOffer) {
      return WrongState("setLocalDescription(answer)", signalingState_);
    }
    // Our answer's setup decides our DTLS role (RFC 5763 §5).
    const sdp::MediaSection* first = FirstUsableSection(sd);
    if (first == nullptr) {
      return Status::Fail("ERR_SDP_NEGOTIATION", "the answer rejects every m-line");
    }
    const auto setup = sdp::EffectiveTransport(sd, *first).setup.value_or(sdp::Setup::kActive);
    dtlsRole_ = setup == sdp::Setup::kPassive ? dtls::DtlsRole::kServer : dtls::DtlsRole::kClient;
    UpdateTransceivers(sd, /*local=*/true);
    SetSignalingState(SignalingState::kStable);
  }
  localSdp_ = text;
  pendingLocal_ = sd;
  StartTransportsIfReady();
  if (!gatheringStarted_) {
    gatheringStarted_ = true;
    // After this call returns, as W3C orders it: the description first, then candidates.
    loop_.Post([this] {
      if (!closed_) ice_->Gather();
    });
  } else if (reannounceCandidates_) {
    loop_.Post([this] {
      if (!closed_) ReannounceCandidates();
    });
  }
  return Status::Ok();
}

Status PeerConnection::SetRemoteDescription(SdpType type, const std::string& text) {
  if (closed_) return Status::Fail("ERR_INVALID_STATE", "the peer connection is closed");
  auto parsed = sdp::ParseSessionDescription(text);
  if (!parsed.ok()) return parsed.status();
  const sdp::SessionDescription& sd = parsed.value();
  if (type == SdpType::kOffer) {
    if (signalingState_ != SignalingState::kStable &&
        signalingState_ != SignalingState::kHaveRemoteOffer) {
      return WrongState("setRemoteDescription(offer)", signalingState_);
    }
    isOfferer_ = false;
    ice_->agent().SetRole(ice::IceRole::kControlled);
  } else if (signalingState_ != SignalingState::kHaveLocalOffer) {
    return WrongState("setRemoteDescription(answer)", signalingState_);
  }
  Status st = ApplyRemote(sd, type);
  if (!st.ok()) return st;
  remote_ = sd;
  remoteSdp_ = text;
  if (type == SdpType::kOffer) {
    SetSignalingState(SignalingState::kHaveRemoteOffer);
  } else {
    UpdateTransceivers(sd, /*local=*/false);
    SetSignalingState(SignalingState::kStable);
  }
  StartTransportsIfReady();
  return Status::Ok();
}

Status PeerConnection::ApplyRemote(const sdp::SessionDescription& sd, SdpType type) {
  const sdp::MediaSection* first = FirstUsableSection(sd);
  if (first == nullptr)
    return Status::Fail("ERR_SDP_NEGOTIATION", "no usable m-line in the remote description");
  const sdp::TransportAttributes t = sdp::EffectiveTransport(sd, *first);
  if (!t.iceUfrag || !t.icePwd) {
    return Status::Fail("ERR_SDP_NEGOTIATION", "the remote description has no ice-ufrag/ice-pwd");
  }
  std::string fingerprint;
  for (const auto& f : t.fingerprints) {
    if (f.hashFunction == "sha-256" || f.hashFunction == "SHA-256") fingerprint = f.value;
  }
  if (fingerprint.empty()) {
    return Status::Fail("ERR_SDP_NEGOTIATION", "the remote description has no sha-256 fingerprint");
  }
  if (!remoteFingerprint_.empty() && !dtls::FingerprintsEqual(fingerprint, remoteFingerprint_)) {
    return Status::Fail("ERR_SDP_NEGOTIATION",
                        "the remote fingerprint changed; a new DTLS association is not supported");
  }
  remoteFingerprint_ = fingerprint;
  if (type == SdpType::kAnswer) {
    const auto setup = t.setup.value_or(sdp::Setup::kActive);
    dtlsRole_ = setup == sdp::Setup::kActive ? dtls::DtlsRole::kServer : dtls::DtlsRole::kClient;
  }
  const ice::IceCredentials remote{*t.iceUfrag, *t.icePwd};
  const bool remoteRestart = remote_.has_value() && (remoteCredentials_.ufrag != remote.ufrag ||
                                                     remoteCredentials_.pwd != remote.pwd);
  if (remoteRestart && type == SdpType::kOffer) {
    // RFC 8445 §9: an ICE restart changes both sides' credentials; our answer carries new ones.
    Status restarted = RestartIce();
    if (!restarted.ok()) return restarted;
  }
  remoteCredentials_ = remote;
  ice_->SetRemoteCredentials(remote);
  for (const auto& m : sd.media) {
    for (const auto& c : m.candidates) {
      Status added = ice_->AddRemoteCandidate(c);
      // Unusable ones (mDNS, TCP) are skipped, as a trickled one would be, and reported.
      if (!added.ok() && onCandidateSkipped) {
        onCandidateSkipped(sdp::FormatCandidate(c), added.message());
      }
    }
    if (m.endOfCandidates) ice_->SetRemoteEndOfCandidates();
  }
  return Status::Ok();
}

void PeerConnection::UpdateTransceivers(const sdp::SessionDescription& sd, bool local) {
  for (const auto& m : sd.media) {
    if (!m.mid) continue;
    if (m.media == "application") {
      dataMid_ = *m.mid;
      continue;
    }
    for (auto& t : transceivers_) {
      if (t.mid != *m.mid) continue;
      t.negotiatedCodecs =
          m.rejected() ? std::vector<sdp::NegotiatedCodec>{} : sdp::NegotiatedCodecs(m);
      if (m.direction) {
        // The answer states the direction from the answerer's side.
        const sdp::Direction d = *m.direction;
        if (local) {
          t.negotiatedDirection = d;
        } else {
          t.negotiatedDirection = d == sdp::Direction::kSendOnly   ? sdp::Direction::kRecvOnly
                                  : d == sdp::Direction::kRecvOnly ? sdp::Direction::kSendOnly
                                                                   : d;
        }
      }
    }
  }
}

Status PeerConnection::AddIceCandidate(const std::string& candidate) {
  if (closed_) return Status::Fail("ERR_INVALID_STATE", "the peer connection is closed");
  if (!remote_) {
    return Status::Fail("ERR_INVALID_STATE",
                        "addIceCandidate before setRemoteDescription: hold candidates until then");
  }
  if (candidate.empty()) {
    ice_->SetRemoteEndOfCandidates();
    return Status::Ok();
  }
  auto parsed = sdp::ParseCandidate(candidate);
  if (!parsed.ok()) return parsed.status();
  return ice_->AddRemoteCandidate(parsed.value());
}

Status PeerConnection::RestartIce() {
  if (closed_) return Status::Fail("ERR_INVALID_STATE", "the peer connection is closed");
  auto credentials = NewCredentials();
  if (!credentials.ok()) return credentials.status();
  localCredentials_ = credentials.take();
  ice_->Restart(localCredentials_);
  // The peer forgets our candidates with our old credentials: they are announced again once
  // the description with the new ones is set (the peer needs it to use them).
  reannounceCandidates_ = true;
  return Status::Ok();
}

void PeerConnection::ReannounceCandidates() {
  reannounceCandidates_ = false;
  for (const auto& c : ice_->agent().localCandidates()) {
    if (c.type == ice::CandidateType::kPeerReflexive) continue;
    if (onIceCandidate)
      onIceCandidate(sdp::FormatCandidate(ice_->LocalSdpCandidate(c)), FirstMid());
  }
  if (ice_->gatheringComplete() && onIceCandidate) onIceCandidate(std::nullopt, FirstMid());
}

void PeerConnection::StartTransportsIfReady() {
  if (!dtlsRole_ || remoteFingerprint_.empty() || dtls_->configured() || failed_) return;
  Status st = dtls_->Configure(*dtlsRole_, remoteFingerprint_, config_.srtpProfiles);
  // A failed Configure fails the DTLS transport, whose state change reports it.
  if (!st.ok()) return;
  if (ice_->agent().state() == ice::IceState::kConnected) dtls_->Connect();
}

void PeerConnection::Fail(const Status& reason) {
  if (failed_ || closed_) return;
  failed_ = true;
  failure_ = reason;
  if (onError) onError(reason);
}

void PeerConnection::UpdateConnectionState() {
  ConnectionState next;
  const ice::IceState i = ice_->agent().state();
  const dtls::DtlsState d = dtls_->state();
  if (closed_) {
    next = ConnectionState::kClosed;
  } else if (failed_ || i == ice::IceState::kFailed || d == dtls::DtlsState::kFailed) {
    next = ConnectionState::kFailed;
  } else if (i == ice::IceState::kDisconnected) {
    next = ConnectionState::kDisconnected;
  } else if (i == ice::IceState::kConnected &&
             (d == dtls::DtlsState::kConnected || d == dtls::DtlsState::kClosed)) {
    // W3C aggregation: a DTLS transport the peer closed counts with the connected ones;
    // consent freshness then notices the peer is gone.
    next = ConnectionState::kConnected;
  } else if (i == ice::IceState::kNew && d == dtls::DtlsState::kNew) {
    next = ConnectionState::kNew;
  } else {
    next = ConnectionState::kConnecting;
  }
  if (next == connectionState_) return;
  connectionState_ = next;
  if (onConnectionStateChange) onConnectionStateChange(next);
}

void PeerConnection::SetSignalingState(SignalingState s) {
  if (s == signalingState_) return;
  signalingState_ = s;
  if (onSignalingStateChange) onSignalingStateChange(s);
}

void PeerConnection::Close() {
  if (closed_) return;
  closed_ = true;  // first, so the closes below read as closing, not as state changes
  dtls_->Close();  // close_notify leaves on the ICE route before ICE stops
  ice_->Close();
  SetSignalingState(SignalingState::kClosed);
  UpdateConnectionState();
}

}  // namespace kvs::pc
