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
#include "pc/rtp_transport.h"
#include "pc/sctp_transport.h"
#include "pc/srtp_transport.h"
#include "pc/transceiver.h"
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
  // The largest data-channel message we take (our a=max-message-size, RFC 8841): messages are
  // reassembled in memory up to it. 0 would mean no limit; we always keep one.
  uint64_t maxMessageSize = 16 * 1024 * 1024;
  uint32_t connectionCheckTimeoutMs = 12000;
  uint32_t nominationTimeoutMs = 12000;
  uint32_t disconnectedTimeoutMs = 30000;
  uint32_t failedTimeoutMs = 15000;
};

// When each step of setting up the connection happened, in the loop's milliseconds (0: not
// yet): what the C SDK's peerConnectionGetMetrics and iceAgentGetMetrics report.
struct ConnectionTimeline {
  uint64_t createdMs = 0;
  uint64_t gatheringStartedMs = 0;
  uint64_t firstHostCandidateMs = 0;
  uint64_t firstSrflxCandidateMs = 0;
  uint64_t firstRelayCandidateMs = 0;
  uint64_t gatheringCompletedMs = 0;
  uint64_t checkingStartedMs = 0;
  uint64_t iceConnectedMs = 0;
  uint64_t dtlsStartedMs = 0;
  uint64_t dtlsConnectedMs = 0;
  uint64_t connectedMs = 0;
};

class PeerConnection {
  struct Key {};

 public:
  static Result<std::unique_ptr<PeerConnection>> Create(loop::EventLoop& loop,
                                                        PeerConnectionConfig config);
  PeerConnection(Key, loop::EventLoop& loop, PeerConnectionConfig config,
                 ice::IceCredentials credentials);
  ~PeerConnection();

  // Returns the transceiver's index. In have-remote-offer it adopts a transceiver the offer
  // made (one the app has not claimed) of the same kind, as W3C's addTrack does.
  Result<size_t> AddTransceiver(TransceiverInit init);

  // Media. Frames before the connection is ready, or on a transceiver that does not send, are
  // discarded and counted (the outcome says which); never an error for a network condition.
  WriteOutcome WriteFrame(size_t transceiver, const media::EncodedFrame& frame, Status* error);
  Status RequestKeyFrame(size_t transceiver);
  // The C SDK's configureTransceiverRollingBuffer: seconds 0.1-10, bitrate in bps.
  Status ConfigureRollingBuffer(size_t transceiver, double seconds, uint64_t bitrateBps);
  bool mediaReady() const { return rtp_->ready(); }

  // Data channels, named by a handle the caller chooses (below kRemoteChannelHandleBase).
  // Creating one asks for an application m-line in the next offer.
  Status CreateDataChannel(uint32_t handle, const sctp::DataChannelInit& init);
  Status SendData(uint32_t handle, std::vector<uint8_t> data, bool binary);
  Status CloseDataChannel(uint32_t handle);
  Status SetDataChannelLowThreshold(uint32_t handle, size_t bytes);
  const SctpTransport& sctp() const { return *sctp_; }
  const ConnectionTimeline& timeline() const { return timeline_; }
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
  // W3C setConfiguration({iceServers}): the STUN and TURN servers of the next gathering (an
  // ICE restart's); the candidates gathered so far keep theirs (ERR_INVALID_STATE if closed).
  Status SetIceServers(std::vector<RelayServer> relays,
                       std::vector<std::pair<std::string, net::Address>> stunServers);
  void Close();

  ConnectionState connectionState() const { return connectionState_; }
  SignalingState signalingState() const { return signalingState_; }
  const std::string& localFingerprint() const { return certificate_->fingerprint(); }
  const dtls::Certificate& certificate() const { return *certificate_; }
  const std::vector<std::unique_ptr<Transceiver>>& transceivers() const { return transceivers_; }
  const RtpTransport& rtp() const { return *rtp_; }
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
  // A transceiver the remote offer made (W3C `track`), with its index.
  std::function<void(const Transceiver&)> onTrack;
  std::function<void(const Transceiver&, media::ReceivedFrame&&)> onFrame;
  // The app should encode a key frame for this transceiver now (PLI, FIR, first frame).
  std::function<void(const Transceiver&, media::KeyFrameReason)> onKeyFrameRequest;
  // A bandwidth estimate: REMB for one transceiver, or transport-cc for all (null).
  std::function<void(const Transceiver*, uint64_t bitrateBps, const char* source)> onBandwidth;
  // Data channels (sctp_transport.h has the meaning of each).
  std::function<void(uint32_t handle, const sctp::DataChannelInfo&, uint64_t maxMessageSize)>
      onDataChannel;
  std::function<void(uint32_t handle, uint16_t id, uint64_t maxMessageSize)> onDataChannelOpen;
  std::function<void(uint32_t handle, std::vector<uint8_t>&& data, bool binary)>
      onDataChannelMessage;
  std::function<void(uint32_t handle)> onDataChannelBufferedAmountLow;
  std::function<void(uint32_t handle)> onDataChannelClosing;
  std::function<void(uint32_t handle)> onDataChannelClose;
  std::function<void(uint32_t handle, const Status&)> onDataChannelError;
  std::function<void(uint32_t handle, size_t bufferedAmount)> onDataChannelBufferedAmount;
  // A remote candidate from a description that could not be used here, and why.
  std::function<void(const std::string& candidate, const std::string& reason)> onCandidateSkipped;
  // A TURN allocation failed after it was made (IceTransport::onRelayFailed); `inUse`: the
  // media went through it, and only an ICE restart finds another path.
  std::function<void(const std::string& url, const Status& error, bool inUse)> onRelayFailed;
  // A TURN server gave no allocation (IceTransport::onRelayError): W3C icecandidateerror.
  std::function<void(const std::string& url, const Status& error)> onRelayError;

 private:
  sdp::LocalTransport MakeLocalTransport() const;
  Status ApplyRemote(const sdp::SessionDescription& sd, SdpType type);
  void UpdateTransceivers(const sdp::SessionDescription& sd, bool local);
  void AdoptRemoteSections(const sdp::SessionDescription& offer);
  Transceiver* NewTransceiver(TransceiverInit init);
  void UpdateMediaReady();
  void ConfigureDataChannels();
  void StartTransportsIfReady();
  void UpdateConnectionState();
  void SetSignalingState(SignalingState s);
  void Fail(const Status& reason);
  std::string FirstMid() const;

  loop::EventLoop& loop_;
  PeerConnectionConfig config_;
  std::shared_ptr<const dtls::Certificate> certificate_;
  std::string sessionId_;
  std::string cname_;  // RFC 7022: random per connection, in a=ssrc and in RTCP SDES
  uint64_t sessionVersion_ = 1;
  ice::IceCredentials localCredentials_;
  ice::IceCredentials remoteCredentials_;
  std::unique_ptr<IceTransport> ice_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::unique_ptr<SrtpTransport> srtp_;
  std::vector<std::unique_ptr<Transceiver>> transceivers_;
  std::unique_ptr<RtpTransport> rtp_;
  std::unique_ptr<SctpTransport> sctp_;
  bool wantDataChannels_ = false;
  std::optional<std::string> dataMid_;
  std::optional<sdp::SessionDescription> remote_;
  std::optional<std::string> localSdp_;
  std::optional<std::string> remoteSdp_;
  std::optional<sdp::SessionDescription> pendingLocal_;  // made by CreateOffer/CreateAnswer
  bool isOfferer_ = false;
  bool gatheringStarted_ = false;
  bool regatherPending_ = false;  // a restart's candidates: gathered after its description
  std::optional<dtls::DtlsRole> dtlsRole_;
  std::string remoteFingerprint_;
  SignalingState signalingState_ = SignalingState::kStable;
  ConnectionState connectionState_ = ConnectionState::kNew;
  bool closed_ = false;
  bool failed_ = false;
  Status failure_;
  ConnectionTimeline timeline_;
};

}  // namespace kvs::pc
