// SendStream: one per sending transceiver (one media SSRC, and its RTX SSRC when negotiated).
// Pure: driven by calls that carry the time, producing packets, RTCP and events into a
// SendStreamOutput that the caller owns. No sockets, threads, clocks of its own or SRTP.
//
// Inputs and what they produce:
//   SendFrame(frame)   packetize (H.264/H.265/VP8/Opus/G.711), write each RTP header (seq per
//                      SSRC, timestamp from presentationTs, marker, negotiated extensions),
//                      hand out each packet, keep it in the rolling buffer, count stats. Video
//                      waits for a key frame at the start and after a key frame was asked for:
//                      non-key frames meanwhile are discarded (framesDiscardedOnSend) and a
//                      kKeyFrameNeeded event is raised.
//   OnRtcp(parsed)     the parts of a compound naming our SSRC: report blocks (RTT, loss,
//                      jitter: remote-inbound stats), NACK (resend from the rolling buffer:
//                      over RTX with the OSN and RTX's own sequence numbers, else the original
//                      packet again), PLI and FIR (kKeyFrameNeeded; FIR repeats de-duplicated
//                      per RFC 5104 §4.3.1.2), REMB (kBandwidthEstimate).
//   Tick(now, unix)    a sender report (SR + SDES CNAME) when due: every 100-300 ms, jittered
//                      at random, once a packet has been sent.
//   OnPacketSent /     the caller's report of what happened to a packet (see the config's
//   OnPacketSendFailed callerReportsSendTimes).
//
// Outputs, all appended to the caller's SendStreamOutput, which the caller drains and Clear()s
// (keeping capacity, so steady-state sending allocates nothing per packet):
//   packets  RTP packets in send order (outgoing_rtp_packet.h: header area + payload slice).
//   rtcp     plain compound RTCP packets (the caller protects them).
//   events   key frame needed (with the reason), bandwidth estimate (REMB).
//
// The transport-wide sequence number (transport-cc) comes from the TransportSequencer passed
// in; every packet sent, retransmissions included, takes one when the extension is negotiated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "media/media_frame.h"
#include "media/outgoing_rtp_packet.h"
#include "media/rtcp_input.h"
#include "media/stream_common.h"
#include "media/stream_stats.h"
#include "media/transport_sequencer.h"
#include "sdp/codecs.h"

namespace kvs::media {

// The C SDK's configureTransceiverRollingBuffer: how much sent media to keep for NACKs. The
// default is the newer C SDK's 1 s at 5 Mbit/s (media-facts.md; C#1921): a NACK for a packet
// older than about a second is rarely useful and memory grew with the old 3 s default. Seconds
// must lie in 0.1-10 (ERR_MEDIA_CONFIG otherwise). The buffer keeps packets for at most
// `seconds`, at most seconds * bitrateBps / 8 payload bytes, and at most as many packets as
// the peer's SRTP replay window spans (srtp::SrtpSession::kReplayWindowPackets, 8192: a plain
// resend keeps its sequence number and must not be refused as a replay).
struct RollingBufferConfig {
  double seconds = 1.0;
  uint64_t bitrateBps = 5'000'000;
};

struct RtxSendConfig {
  uint8_t payloadType = 0;
  uint32_t ssrc = 0;
};

struct SendStreamConfig {
  sdp::Codec codec = sdp::Codec::kH264;
  uint8_t payloadType = 0;
  uint32_t clockRate = 0;  // 0: the codec's (90000, 48000, 8000)
  uint32_t ssrc = 0;
  std::optional<RtxSendConfig> rtx;  // when RTX was negotiated (a=rtpmap rtx, a=ssrc-group FID)

  // Header extension ids from a=extmap, 1-14 (one-byte form); 0 = not negotiated.
  uint8_t midExtensionId = 0;
  std::string mid;  // 1-16 bytes when midExtensionId is set
  uint8_t absSendTimeExtensionId = 0;
  uint8_t transportCcExtensionId = 0;  // needs a TransportSequencer

  RtcpFeedback feedback;  // nack: answer NACKs; the others only change what is counted
  // RTP header + extensions + payload + SRTP trailer fit in `mtu`; `srtpOverhead` is the room
  // left for the trailer (16 covers the AES-GCM and HMAC-SHA1-80 tags). With RTX the 2-byte OSN
  // is reserved too, so that a resend fits as well.
  size_t mtu = 1200;
  size_t srtpOverhead = 16;
  std::string cname;  // the SDES CNAME of our SRs (RFC 7022: random, per connection)
  RollingBufferConfig rollingBuffer;

  // Sender report interval: uniform in [min, max] ms, as the C SDK (100-300 ms).
  uint32_t senderReportMinIntervalMs = 100;
  uint32_t senderReportMaxIntervalMs = 300;

  // Start values; random (RFC 3550 §5.1) when not set. Tests set them to run across wraps.
  std::optional<uint16_t> initialSequenceNumber;
  std::optional<uint16_t> rtxInitialSequenceNumber;
  std::optional<uint32_t> initialTimestamp;

  // false: every packet is sent the moment it is handed out (the caller sends synchronously);
  // packetsSent and the TWCC send time are counted then, and totalPacketSendDelay stays 0.
  // true: the caller paces; it calls OnPacketSent(p, sentUs) for each packet it sends (that is
  // when it counts, and when the TransportSequencer hears of it) or OnPacketSendFailed.
  bool callerReportsSendTimes = false;
};

enum class KeyFrameReason {
  kFirstFrame,   // no key frame sent yet
  kPli,          // the peer sent a PLI
  kFir,          // the peer sent a new FIR
  kSendFailure,  // a packet could not be sent and NACK is not negotiated to repair it
  kRequested,    // RequestKeyFrame (the caller: resumed sending, new viewer...)
};
const char* ToString(KeyFrameReason reason);

struct SendStreamEvent {
  enum class Type {
    // The app should encode a key frame now (transceiverOnPictureLoss). Raised at once when
    // the stream starts waiting for one, and again at most every 500 ms while it waits and
    // the peer keeps asking or the app keeps writing delta frames (which are discarded).
    kKeyFrameNeeded,
    // The peer's REMB for our SSRC (transceiverOnBandwidthEstimation).
    kBandwidthEstimate,
  };
  Type type = Type::kKeyFrameNeeded;
  KeyFrameReason reason = KeyFrameReason::kFirstFrame;  // kKeyFrameNeeded
  uint32_t fromSsrc = 0;                                // who asked (PLI/FIR/REMB sender)
  uint64_t bitrateBps = 0;                              // kBandwidthEstimate
};

struct SendStreamOutput {
  std::vector<OutgoingRtpPacket> packets;
  std::vector<std::vector<uint8_t>> rtcp;
  std::vector<SendStreamEvent> events;

  void Clear() {
    packets.clear();
    rtcp.clear();
    events.clear();
  }
};

class SendStream {
  struct Key {};

 public:
  // ERR_MEDIA_CONFIG for a configuration that cannot work (payload type over 127, bad
  // extension ids or a duplicate, mid too long, an MTU too small for one payload byte, rolling
  // buffer seconds outside 0.1-10, transport-cc without a sequencer). `sequencer` may be null
  // when transport-cc is not negotiated; it must outlive the stream.
  static Result<std::unique_ptr<SendStream>> Create(const SendStreamConfig& config,
                                                    RandomSource random,
                                                    TransportSequencer* sequencer);
  SendStream(Key, const SendStreamConfig& config, RandomSource random,
             TransportSequencer* sequencer);
  ~SendStream();
  SendStream(const SendStream&) = delete;
  SendStream& operator=(const SendStream&) = delete;

  // Packetizes and hands out one frame. Errors (nothing sent, nothing counted but the state
  // unchanged): ERR_MEDIA_EMPTY_FRAME, the packetizer's (ERR_NAL_*, ERR_H264_BAD_NAL,
  // ERR_MEDIA_FRAME_TOO_LARGE for audio...). A non-key video frame while waiting for a key
  // frame is not an error: it is discarded and counted.
  Status SendFrame(const EncodedFrame& frame, int64_t nowUs, SendStreamOutput& out);

  // Everything in the compound that names our SSRC (or our RTX SSRC).
  void OnRtcp(const ParsedRtcp& rtcp, int64_t nowUs, SendStreamOutput& out);
  // The same, one item at a time (items for other SSRCs are ignored).
  void OnReportBlock(const rtp::ReportBlock& block, int64_t nowUs);
  void OnNack(const rtp::Nack& nack, int64_t nowUs, SendStreamOutput& out);
  void OnPli(const rtp::Pli& pli, int64_t nowUs, SendStreamOutput& out);
  void OnFir(const rtp::Fir& fir, int64_t nowUs, SendStreamOutput& out);
  void OnRemb(const rtp::Remb& remb, int64_t nowUs, SendStreamOutput& out);

  // The caller wants a key frame (a resume, a new consumer): waits for one as at the start.
  void RequestKeyFrame(KeyFrameReason reason, int64_t nowUs, SendStreamOutput& out);

  // Sends an SR when one is due. unixNowUs: the wall clock for the SR's NTP timestamp.
  void Tick(int64_t nowUs, int64_t unixNowUs, SendStreamOutput& out);
  // When Tick next has something to do (monotonic µs); INT64_MAX when nothing is scheduled.
  int64_t NextTickUs() const;
  // Report blocks for our SRs (RFC 3550 §6.4.1: a sender reports on what it receives in its
  // SR). Called only when an SR is built; for a sendrecv transceiver the caller appends
  // ReceiveStream::MakeReportBlock of its receive streams (and sets their
  // ReceiveStreamConfig::sendReceiverReports to false). Without it SRs carry no blocks.
  using ReportBlockProvider = std::function<void(int64_t nowUs, std::vector<rtp::ReportBlock>&)>;
  void SetReportBlockProvider(ReportBlockProvider provider);

  // With callerReportsSendTimes: packet p left at sentUs. Counts it, adds its delay and tells
  // the TransportSequencer. Ignored otherwise.
  void OnPacketSent(const OutgoingRtpPacket& p, int64_t sentUs);
  // The caller could not send p: moved from the sent counters to packetsDiscardedOnSend /
  // bytesDiscardedOnSend. Without NACK the receiver cannot repair the loss, so video then
  // waits for a key frame (kSendFailure).
  void OnPacketSendFailed(const OutgoingRtpPacket& p, int64_t nowUs, SendStreamOutput& out);

  // The RTT from elsewhere (ICE); our own SR/RR measurement replaces it when there is one.
  // Used to throttle resends of one packet to one per RTT.
  void SetRoundTripTime(int64_t rttUs);

  OutboundRtpStats outboundStats() const;
  RemoteInboundRtpStats remoteInboundStats() const;
  const SendStreamConfig& config() const { return config_; }
  // The payload size the packetizer is given: MTU minus header, extensions, SRTP room, OSN.
  size_t maxPayloadSize() const { return maxPayload_; }
  bool waitingForKeyFrame() const { return waitingForKeyFrame_; }

 private:
  void CountSent(const OutgoingRtpPacket& p, int64_t sentUs);
  void KeyFrameNeeded(KeyFrameReason reason, uint32_t fromSsrc, int64_t nowUs,
                      SendStreamOutput& out);
  void Resend(uint16_t sequence, int64_t nowUs, SendStreamOutput& out);

  SendStreamConfig config_;
  RandomSource random_;
  TransportSequencer* sequencer_;
  size_t maxPayload_ = 0;
  bool waitingForKeyFrame_ = true;

  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace kvs::media
