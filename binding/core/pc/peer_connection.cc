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
      cname_(RandomAlphanumeric(16)),
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

  timeline_.createdMs = loop_.NowMs();
  ice_->onLocalCandidate = [this](const sdp::Candidate& c) {
    uint64_t* first = c.type == sdp::CandidateType::kHost    ? &timeline_.firstHostCandidateMs
                      : c.type == sdp::CandidateType::kSrflx ? &timeline_.firstSrflxCandidateMs
                      : c.type == sdp::CandidateType::kRelay ? &timeline_.firstRelayCandidateMs
                                                             : nullptr;
    if (first && *first == 0) *first = loop_.NowMs();
    if (onIceCandidate) onIceCandidate(sdp::FormatCandidate(c), FirstMid());
  };
  ice_->onGatheringComplete = [this] {
    if (timeline_.gatheringCompletedMs == 0) timeline_.gatheringCompletedMs = loop_.NowMs();
    if (onIceCandidate) onIceCandidate(std::nullopt, FirstMid());
  };
  ice_->onRelayFailed = [this](const std::string& url, const Status& error, bool inUse) {
    if (onRelayFailed) onRelayFailed(url, error, inUse);
  };
  ice_->onRelayError = [this](const std::string& url, const Status& error) {
    if (onRelayError) onRelayError(url, error);
  };
  ice_->onCandidateSkipped = [this](const sdp::Candidate& c, const std::string& reason) {
    if (onCandidateSkipped) onCandidateSkipped(sdp::FormatCandidate(c), reason);
  };
  ice_->onStateChange = [this](ice::IceState s) {
    if (s == ice::IceState::kChecking && timeline_.checkingStartedMs == 0) {
      timeline_.checkingStartedMs = loop_.NowMs();
    }
    if (s == ice::IceState::kConnected && timeline_.iceConnectedMs == 0) {
      timeline_.iceConnectedMs = loop_.NowMs();
      timeline_.dtlsStartedMs = loop_.NowMs();
    }
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
  rtp_ = std::make_unique<RtpTransport>(loop_, *srtp_, transceivers_, cname_);
  srtp_->onRtp = [this](std::vector<uint8_t>&& p) { rtp_->HandleRtp(std::move(p)); };
  srtp_->onRtcp = [this](std::vector<uint8_t>&& p) { rtp_->HandleRtcp(std::move(p)); };
  rtp_->rttSource = [this]() -> int64_t {
    const ice::CandidatePair* pair = ice_->agent().selectedPair();
    return pair ? static_cast<int64_t>(pair->stats.currentRoundTripTimeMs * 1000) : 0;
  };
  rtp_->onFrame = [this](Transceiver& t, media::ReceivedFrame&& f) {
    if (onFrame) onFrame(t, std::move(f));
  };
  rtp_->onKeyFrameNeeded = [this](Transceiver& t, media::KeyFrameReason r) {
    if (onKeyFrameRequest) onKeyFrameRequest(t, r);
  };
  rtp_->onBandwidth = [this](Transceiver* t, uint64_t bps, const char* source) {
    if (onBandwidth) onBandwidth(t, bps, source);
  };
  sctp_ = std::make_unique<SctpTransport>(loop_, *dtls_);
  sctp_->onChannel = [this](uint32_t h, const sctp::DataChannelInfo& info) {
    if (onDataChannel) onDataChannel(h, info, sctp_->remoteMaxMessageSize());
  };
  sctp_->onOpen = [this](uint32_t h, uint16_t id) {
    if (onDataChannelOpen) onDataChannelOpen(h, id, sctp_->remoteMaxMessageSize());
  };
  sctp_->onMessage = [this](uint32_t h, std::vector<uint8_t>&& data, bool binary) {
    if (onDataChannelMessage) onDataChannelMessage(h, std::move(data), binary);
  };
  sctp_->onBufferedAmountLow = [this](uint32_t h) {
    if (onDataChannelBufferedAmountLow) onDataChannelBufferedAmountLow(h);
  };
  sctp_->onClosing = [this](uint32_t h) {
    if (onDataChannelClosing) onDataChannelClosing(h);
  };
  sctp_->onClose = [this](uint32_t h) {
    if (onDataChannelClose) onDataChannelClose(h);
  };
  sctp_->onError = [this](uint32_t h, const Status& e) {
    if (onDataChannelError) onDataChannelError(h, e);
  };
  sctp_->onBufferedAmount = [this](uint32_t h, size_t n) {
    if (onDataChannelBufferedAmount) onDataChannelBufferedAmount(h, n);
  };
  dtls_->onSrtpKeys = [this](const srtp::SrtpKeys& keys) { return srtp_->Start(keys); };
  dtls_->onStateChange = [this](dtls::DtlsState s) {
    if (s == dtls::DtlsState::kFailed) Fail(dtls_->failure());
    if (s == dtls::DtlsState::kConnected) {
      if (timeline_.dtlsConnectedMs == 0) timeline_.dtlsConnectedMs = loop_.NowMs();
      Status st = sctp_->Start();
      if (!st.ok() && onError) onError(st);
    }
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
  onRelayFailed = nullptr;
  onRelayError = nullptr;
  onTrack = nullptr;
  onFrame = nullptr;
  onKeyFrameRequest = nullptr;
  onBandwidth = nullptr;
  onDataChannel = nullptr;
  onDataChannelOpen = nullptr;
  onDataChannelMessage = nullptr;
  onDataChannelBufferedAmountLow = nullptr;
  onDataChannelClosing = nullptr;
  onDataChannelClose = nullptr;
  onDataChannelError = nullptr;
  onDataChannelBufferedAmount = nullptr;
  Close();
}

std::string PeerConnection::FirstMid() const {
  const sdp::SessionDescription* sd = pendingLocal_ ? &*pendingLocal_ : nullptr;
  if (sd && !sd->media.empty() && sd->media[0].mid) return *sd->media[0].mid;
  if (!transceivers_.empty() && !transceivers_[0]->mid.empty()) return transceivers_[0]->mid;
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
  // Answering: take over an m-line of the offer that no transceiver of the app's has yet.
  if (signalingState_ == SignalingState::kHaveRemoteOffer) {
    for (auto& t : transceivers_) {
      if (t->createdByRemote && !t->claimed && t->init.kind == init.kind) {
        t->claimed = true;
        if (init.streamId.empty()) init.streamId = "-";
        if (init.trackId.empty()) init.trackId = t->init.trackId;
        t->init = std::move(init);
        return t->index;
      }
    }
  }
  return NewTransceiver(std::move(init))->index;
}

Transceiver* PeerConnection::NewTransceiver(TransceiverInit init) {
  auto t = std::make_unique<Transceiver>();
  t->index = transceivers_.size();
  t->init = std::move(init);
  // a=msid needs both: "-" is the W3C way of saying "no stream".
  if (t->init.streamId.empty()) t->init.streamId = "-";
  if (t->init.trackId.empty()) t->init.trackId = RandomAlphanumeric(16);
  t->ssrc = RandomU32();
  t->rtxSsrc = t->init.kind == sdp::MediaKind::kVideo ? RandomU32() : 0;
  transceivers_.push_back(std::move(t));
  return transceivers_.back().get();
}

// W3C setRemoteDescription(offer): an audio or video m-line that no transceiver is
// associated with gets one, associated with a transceiver the app added before (same kind,
// no mid yet) or made for it (recvonly, `track` when the peer sends).
void PeerConnection::AdoptRemoteSections(const sdp::SessionDescription& offer) {
  for (const auto& m : offer.media) {
    if (!m.mid || m.rejected() || (m.media != "audio" && m.media != "video")) continue;
    bool known = false;
    for (const auto& t : transceivers_) known |= t->mid == *m.mid;
    if (known) continue;
    const sdp::MediaKind kind =
        m.media == "audio" ? sdp::MediaKind::kAudio : sdp::MediaKind::kVideo;
    Transceiver* match = nullptr;
    for (auto& t : transceivers_) {
      if (!match && t->mid.empty() && t->init.kind == kind) match = t.get();
    }
    if (match == nullptr) {
      TransceiverInit init;
      init.kind = kind;
      init.direction = sdp::Direction::kRecvOnly;
      match = NewTransceiver(std::move(init));
      match->createdByRemote = true;
      match->claimed = false;
    }
    match->mid = *m.mid;
    const sdp::Direction remote = m.direction.value_or(sdp::Direction::kSendRecv);
    if (match->createdByRemote && Sends(remote) && onTrack) onTrack(*match);
  }
}

WriteOutcome PeerConnection::WriteFrame(size_t index, const media::EncodedFrame& frame,
                                        Status* error) {
  if (index >= transceivers_.size()) {
    if (error)
      *error = Status::Fail("ERR_INVALID_ARGUMENT", "no transceiver " + std::to_string(index));
    return WriteOutcome::kRejected;
  }
  return rtp_->WriteFrame(*transceivers_[index], frame, error);
}

Status PeerConnection::RequestKeyFrame(size_t index) {
  if (index >= transceivers_.size()) {
    return Status::Fail("ERR_INVALID_ARGUMENT", "no transceiver " + std::to_string(index));
  }
  rtp_->RequestKeyFrame(*transceivers_[index]);
  return Status::Ok();
}

Status PeerConnection::ConfigureRollingBuffer(size_t index, double seconds, uint64_t bitrateBps) {
  if (index >= transceivers_.size()) {
    return Status::Fail("ERR_INVALID_ARGUMENT", "no transceiver " + std::to_string(index));
  }
  if (!(seconds >= 0.1 && seconds <= 10)) {
    return Status::Fail("ERR_INVALID_ARGUMENT",
                        "rolling buffer seconds must be 0.1..10, got " + std::to_string(seconds));
  }
  if (bitrateBps < 1000 || bitrateBps > 1'000'000'000) {
    return Status::Fail(
        "ERR_INVALID_ARGUMENT",
        "rolling buffer bitrate must be 1000..1e9 bps, got " + std::to_string(bitrateBps));
  }
  // Takes effect when the send stream is (re)made by the next negotiation.
  transceivers_[index]->rollingBuffer = media::RollingBufferConfig{seconds, bitrateBps};
  return Status::Ok();
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
      for (const auto& t : transceivers_) used |= t->mid == mid;
      if (!used) return mid;
    }
  };
  sdp::OfferSpec spec;
  spec.sessionId = sessionId_;
  spec.sessionVersion = ++sessionVersion_;
  spec.transport = MakeLocalTransport();
  for (auto& t : transceivers_) {
    if (t->mid.empty()) t->mid = takeMid();
    sdp::OfferedSection s;
    s.kind = t->init.kind == sdp::MediaKind::kAudio ? sdp::SectionKind::kAudio
                                                    : sdp::SectionKind::kVideo;
    s.mid = t->mid;
    s.direction = t->init.direction;
    s.codecs = t->init.codecs;
    if (Sends(t->init.direction)) {
      s.track = sdp::LocalTrack{t->ssrc, t->rtxSsrc, cname_, t->init.streamId, t->init.trackId};
    }
    spec.sections.push_back(std::move(s));
  }
  if (wantDataChannels_ && !dataMid_) dataMid_ = takeMid();
  if (dataMid_) {
    sdp::OfferedSection s;
    s.kind = sdp::SectionKind::kApplication;
    s.maxMessageSize = config_.maxMessageSize;
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
  spec.maxMessageSize = config_.maxMessageSize;
  spec.sessionId = sessionId_;
  spec.sessionVersion = ++sessionVersion_;
  spec.transport = MakeLocalTransport();
  // Every offered audio/video m-line has its transceiver since setRemoteDescription.
  for (const auto& m : remote_->media) {
    if (!m.mid || (m.media != "audio" && m.media != "video")) continue;
    sdp::AnswerPolicy policy;
    policy.direction = sdp::Direction::kRecvOnly;  // we can always receive
    for (auto& t : transceivers_) {
      if (t->mid != *m.mid) continue;
      policy.direction = t->init.direction;
      policy.codecs = t->init.codecs;
      if (Sends(t->init.direction)) {
        policy.track =
            sdp::LocalTrack{t->ssrc, t->rtxSsrc, cname_, t->init.streamId, t->init.trackId};
      }
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
      if (closed_) return;
      timeline_.gatheringStartedMs = loop_.NowMs();
      ice_->Gather();
    });
  } else if (regatherPending_) {
    regatherPending_ = false;
    // A restart's new generation, after the description that carries its credentials.
    loop_.Post([this] {
      if (!closed_) ice_->Regather();
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
    AdoptRemoteSections(sd);
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
      if (t->mid != *m.mid) continue;
      t->rtp = m.rejected() ? sdp::RtpParameters{} : sdp::DescribeRtp(m);
      t->negotiatedCodecs = t->rtp.codecs;
      if (m.rejected()) {
        t->negotiatedDirection = sdp::Direction::kInactive;
      } else if (m.direction) {
        // The answer states the direction from the answerer's side.
        const sdp::Direction d = *m.direction;
        if (local) {
          t->negotiatedDirection = d;
        } else {
          t->negotiatedDirection = d == sdp::Direction::kSendOnly   ? sdp::Direction::kRecvOnly
                                   : d == sdp::Direction::kRecvOnly ? sdp::Direction::kSendOnly
                                                                    : d;
        }
      }
      // What the peer sends is in its own description: the offer when we answered.
      t->remoteSsrcs.clear();
      if (remote_) {
        if (const sdp::MediaSection* r = remote_->findMedia(*m.mid)) {
          t->remoteSsrcs = sdp::RemoteSsrcs(*r);
        }
      }
    }
  }
  Status st = rtp_->ApplyNegotiation();
  if (!st.ok()) Fail(st);
  UpdateMediaReady();
  ConfigureDataChannels();
}

// Both descriptions have a live application m-line: the association can be made (it
// connects when DTLS does), with the peer's port and max-message-size (RFC 8841).
void PeerConnection::ConfigureDataChannels() {
  if (!dataMid_ || !remote_ || !dtlsRole_ || !pendingLocal_) return;
  const sdp::MediaSection* remote = remote_->findMedia(*dataMid_);
  const sdp::MediaSection* local = pendingLocal_->findMedia(*dataMid_);
  if (!remote || !local || remote->rejected() || local->rejected()) return;
  const uint16_t port = remote->sctpPort.value_or(5000);
  // RFC 8841 §6.1: absent means 64 KiB; 0 means no limit.
  const uint64_t maxMessageSize = remote->maxMessageSize.value_or(65536);
  Status st = sctp_->Configure(*dtlsRole_ == dtls::DtlsRole::kClient, port, maxMessageSize,
                               config_.maxMessageSize);
  if (!st.ok()) {
    Fail(st);
    UpdateConnectionState();
    return;
  }
  if (dtls_->state() == dtls::DtlsState::kConnected) {
    Status started = sctp_->Start();
    if (!started.ok() && onError) onError(started);
  }
}

Status PeerConnection::CreateDataChannel(uint32_t handle, const sctp::DataChannelInit& init) {
  if (closed_) return Status::Fail("ERR_INVALID_STATE", "the peer connection is closed");
  if (handle >= kRemoteChannelHandleBase) {
    return Status::Fail("ERR_INVALID_ARGUMENT", "data channel handle out of range");
  }
  wantDataChannels_ = true;
  return sctp_->CreateChannel(handle, init);
}

Status PeerConnection::SendData(uint32_t handle, std::vector<uint8_t> data, bool binary) {
  if (closed_) return Status::Fail("ERR_INVALID_STATE", "the peer connection is closed");
  return sctp_->Send(handle, std::move(data), binary);
}

Status PeerConnection::CloseDataChannel(uint32_t handle) {
  if (closed_) return Status::Ok();  // closing the connection closed it
  return sctp_->CloseChannel(handle);
}

Status PeerConnection::SetDataChannelLowThreshold(uint32_t handle, size_t bytes) {
  if (closed_) return Status::Ok();
  return sctp_->SetBufferedAmountLowThreshold(handle, bytes);
}

void PeerConnection::UpdateMediaReady() {
  // Through an ICE restart (connecting again) the old pair carries the media until the new
  // one is selected: it does not stop.
  const bool restarting =
      connectionState_ == ConnectionState::kConnecting && ice_->carryingThroughRestart();
  rtp_->SetReady(!closed_ && !failed_ && srtp_->ready() &&
                 (connectionState_ == ConnectionState::kConnected || restarting));
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
  // The peer forgets our candidates with our old credentials. A new generation is gathered
  // once the description with the new ones is set (the peer needs it to use them): from the
  // interfaces as they are then, with the servers setConfiguration gave.
  regatherPending_ = true;
  return Status::Ok();
}

Status PeerConnection::SetIceServers(
    std::vector<RelayServer> relays,
    std::vector<std::pair<std::string, net::Address>> stunServers) {
  if (closed_) return Status::Fail("ERR_INVALID_STATE", "the peer connection is closed");
  config_.relays = relays;
  config_.stunServers = stunServers;
  ice_->SetServers(std::move(relays), std::move(stunServers));
  return Status::Ok();
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
  if (next == ConnectionState::kConnected && timeline_.connectedMs == 0) {
    timeline_.connectedMs = loop_.NowMs();
  }
  // Before the app hears "connected", media can flow (and the first key frame is asked for).
  UpdateMediaReady();
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
  rtp_->Close();
  sctp_->Close();
  dtls_->Close();  // close_notify leaves on the ICE route before ICE stops
  ice_->Close();
  SetSignalingState(SignalingState::kClosed);
  UpdateConnectionState();
}

}  // namespace kvs::pc
