// A peer connection: offer/answer over the SDP model, one ICE transport and one DTLS
// association for everything (max-bundle, rtcp-mux), with the C SDK's states. Lives on the
// loop thread; the N-API layer posts to it and receives its events.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "dtls/certificate.h"
#include "loop/event_loop.h"
#include "pc/dtls_transport.h"
#include "pc/ice_transport.h"
#include "pc/srtp_transport.h"
#include "sdp/codecs.h"
#include "sdp/negotiate.h"
#include "sdp/session_description.h"

namespace kvs::pc {

// RTC_PEER_CONNECTION_STATE of the C SDK.
enum class ConnectionState { kNew, kConnecting, kConnected, kDisconnected, kFailed, kClosed };
enum class SignalingState { kStable, kHaveLocalOffer, kHaveRemoteOffer, kClosed };
enum class SdpType { kOffer, kAnswer };

const char* ToString(ConnectionState s);
const char* ToString(SignalingState s);

struct PeerConnectionConfig {
  InterfaceFilter interfaces;
  std::vector<RelayServer> relays;
  std::vector<std::pair<std::string, net::Address>> stunServers;
  bool relayOnly = false;                                // iceTransportPolicy "relay"
  std::string tlsCaFile;                                 // trust for turns: servers
  bool mdnsHostCandidates = false;                       // hide host addresses (.local)
  std::shared_ptr<const dtls::Certificate> certificate;  // generated when absent
  // SRTP protection profiles offered (DTLS client) or accepted (server), most preferred
  // first. An empty list can negotiate nothing: the connection fails when DTLS starts.
  std::vector<srtp::SrtpProfile> srtpProfiles = {srtp::SrtpProfile::kAeadAes128Gcm,
                                                 srtp::SrtpProfile::kAesCm128HmacSha1_80,
                                                 srtp::SrtpProfile::kAesCm128HmacSha1_32};
  uint32_t connectionCheckTimeoutMs = 12000;
  uint32_t nominationTimeoutMs = 12000;
  uint32_t disconnectedTimeoutMs = 30000;
  uint32_t failedTimeoutMs = 15000;
};

struct TransceiverInit {
  sdp::MediaKind kind = sdp::MediaKind::kVideo;
  std::vector<sdp::Codec> codecs;  // empty: the C SDK's defaults for the kind
  sdp::Direction direction = sdp::Direction::kSendRecv;
  std::string trackId;
  std::string streamId;
};

struct Transceiver {
  TransceiverInit init;
  std::string mid;  // assigned by the first description that carries it
  uint32_t ssrc = 0;
  uint32_t rtxSsrc = 0;
  std::optional<sdp::Direction> negotiatedDirection;
  std::vector<sdp::NegotiatedCodec> negotiatedCodecs;
};

class PeerConnection {
  struct Key {};

 public:
  static Result<std::unique_ptr<PeerConnection>> Create(loop::EventLoop& loop,
                                                        PeerConnectionConfig config);
  PeerConnection(Key, loop::EventLoop& loop, PeerConnectionConfig config,
                 ice::IceCredentials credentials);
  ~PeerConnection();

  // Returns the transceiver's index.
  Result<size_t> AddTransceiver(TransceiverInit init);
  // Asks for an application m-line (data channels) in the next offer.
  void EnableDataChannels() { wantDataChannels_ = true; }

  Result<std::string> CreateOffer();
  Result<std::string> CreateAnswer();
  Status SetLocalDescription(SdpType type, const std::string& sdp);
  Status SetRemoteDescription(SdpType type, const std::string& sdp);
  // "candidate:..." (or "a=candidate:..."); an empty string means end of candidates.
  // Candidates the agent cannot use are skipped with ERR_ICE_UNSUPPORTED_CANDIDATE.
  Status AddIceCandidate(const std::string& candidate);
  Status RestartIce();
  void Close();

  ConnectionState connectionState() const { return connectionState_; }
  SignalingState signalingState() const { return signalingState_; }
  const std::string& localFingerprint() const { return certificate_->fingerprint(); }
  const std::vector<Transceiver>& transceivers() const { return transceivers_; }
  const IceTransport& ice() const { return *ice_; }
  const DtlsTransport& dtls() const { return *dtls_; }
  const SrtpTransport& srtp() const { return *srtp_; }
  SrtpTransport& srtp() { return *srtp_; }
  // Why the connection failed (ok while it has not): DTLS, SRTP set-up, or ICE.
  const Status& failure() const { return failure_; }
  std::optional<std::string> localDescription() const { return localSdp_; }
  std::optional<std::string> remoteDescription() const { return remoteSdp_; }

  // A local candidate in "candidate:..." form with its m-line; nullopt at the end.
  std::function<void(std::optional<std::string> candidate, const std::string& mid)> onIceCandidate;
  std::function<void(ConnectionState)> onConnectionStateChange;
  std::function<void(SignalingState)> onSignalingStateChange;
  // A failure that ends the connection in kFailed, with its reason; raised before the state
  // change that reports it.
  std::function<void(const Status&)> onError;
  // A remote candidate from a description that could not be used here, and why.
  std::function<void(const std::string& candidate, const std::string& reason)> onCandidateSkipped;

 private:
  sdp::LocalTransport MakeLocalTransport() const;
  Status ApplyRemote(const sdp::SessionDescription& sd, SdpType type);
  void UpdateTransceivers(const sdp::SessionDescription& sd, bool local);
  void StartTransportsIfReady();
  void UpdateConnectionState();
  void SetSignalingState(SignalingState s);
  void Fail(const Status& reason);
  std::string FirstMid() const;
  void ReannounceCandidates();

  loop::EventLoop& loop_;
  PeerConnectionConfig config_;
  std::shared_ptr<const dtls::Certificate> certificate_;
  std::string sessionId_;
  uint64_t sessionVersion_ = 1;
  ice::IceCredentials localCredentials_;
  ice::IceCredentials remoteCredentials_;
  std::unique_ptr<IceTransport> ice_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::unique_ptr<SrtpTransport> srtp_;
  std::vector<Transceiver> transceivers_;
  bool wantDataChannels_ = false;
  std::optional<std::string> dataMid_;
  std::optional<sdp::SessionDescription> remote_;
  std::optional<std::string> localSdp_;
  std::optional<std::string> remoteSdp_;
  std::optional<sdp::SessionDescription> pendingLocal_;  // made by CreateOffer/CreateAnswer
  bool isOfferer_ = false;
  bool gatheringStarted_ = false;
  bool reannounceCandidates_ = false;
  std::optional<dtls::DtlsRole> dtlsRole_;
  std::string remoteFingerprint_;
  SignalingState signalingState_ = SignalingState::kStable;
  ConnectionState connectionState_ = ConnectionState::kNew;
  bool closed_ = false;
  bool failed_ = false;
  Status failure_;
};

}  // namespace kvs::pc
