// ReceiveStream: one per receiving SSRC of a transceiver (and its RTX stream). Pure: driven by
// calls that carry the time, producing frames, RTCP and events into a ReceiveStreamOutput the
// caller owns. No sockets, threads, clocks of its own or SRTP.
//
// Inputs:
//   OnRtp(packet)      a decrypted RTP packet routed here (media SSRC, or RTX by payload type or
//                      SSRC). RTX is unwrapped to the original sequence number first. Sequence
//                      numbers and timestamps are unwrapped to 64 bits. Padding-only packets
//                      count for loss and stats and carry no media.
//   OnRtcp(parsed)     the SRs of the remote SSRC: LSR/DLSR for our reports, remote-outbound
//                      stats.
//   Tick(now)          receiver reports (RR + SDES, every ~1 s, randomized by RFC 3550's
//                      [0.5, 1.5] factor), NACK retries, key-frame request repeats, the jitter
//                      buffer's deadlines.
//   RequestKeyFrame    the app asks: PLI (or FIR when only FIR was negotiated), rate limited.
//   SetRoundTripTime   the current RTT (from ICE or our own SR/RR), 100 ms until told.
//
// Outputs, appended to the caller's ReceiveStreamOutput:
//   frames  whole frames, in order (media_frame.h: Annex-B for H.264/H.265, presentationTs in
//           100 ns, the key flag, the RTP timestamp).
//   rtcp    plain RTCP: RR + SDES compounds, NACK / PLI / FIR (with an RR + SDES in front
//           unless reduced-size RTCP was negotiated).
//   events  a frame dropped, a key frame requested.
//
// The pieces (each its own file and tests): ReceiveStatistics (receive_statistics.h),
// NackGenerator (nack_generator.h), JitterBuffer (jitter_buffer.h), KeyFrameRequester
// (key_frame_requester.h).
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
#include "media/rtcp_input.h"
#include "media/stream_common.h"
#include "media/stream_stats.h"
#include "rtp/rtcp_compound.h"
#include "rtp/rtcp_report.h"
#include "sdp/codecs.h"

namespace kvs::media {

class TransportFeedbackReceiver;

struct RtxReceiveConfig {
  uint8_t payloadType = 0;
  uint32_t ssrc = 0;  // 0: not signalled (no a=ssrc-group); any SSRC with the RTX payload type
};

struct ReceiveStreamConfig {
  sdp::Codec codec = sdp::Codec::kH264;
  // The payload types of this codec the peer may use (several H.264 profiles map to one
  // depacketizer); the first is the one RTX repairs. At least one.
  std::vector<uint8_t> payloadTypes;
  uint32_t clockRate = 0;  // 0: the codec's
  uint32_t remoteSsrc = 0;
  std::optional<RtxReceiveConfig> rtx;
  RtcpFeedback feedback;  // nack: send NACKs; pli / fir: how key frames are asked for

  // Our SSRC as the sender of feedback (RR, NACK, PLI, FIR). A receive-only transceiver still
  // has one (RFC 8108); for a sendrecv one it is the send SSRC.
  uint32_t localSsrc = 0;
  std::string cname;
  bool reducedSizeRtcp = false;  // a=rtcp-rsize: feedback may go without RR + SDES
  size_t mtu = 1200;             // NACK packets are split to fit
  // The a=extmap id of transport-cc (0: not negotiated): each packet's transport-wide
  // sequence number goes to the TransportFeedbackReceiver given to Create.
  uint8_t transportCcExtensionId = 0;

  // The jitter buffer. A frame still incomplete when its first packet has waited
  // maxLatencyUs is given up (the C SDK's 2000 ms default). A gap that no retransmission can
  // fill (NACK not negotiated) holds the packets behind it only reorderWindowUs.
  int64_t maxLatencyUs = 2'000'000;
  int64_t reorderWindowUs = 50'000;
  size_t maxPackets = 0;  // 0: 2048 for video, 256 for audio (a power of two is used)
  size_t maxBytes = 0;    // 0: 8 MiB for video, 256 KiB for audio

  int64_t reportIntervalUs = 1'000'000;  // RR interval before randomization
  // false: no periodic RRs (a SendStream's SRs carry our report block instead, see
  // SendStream::SetReportBlockProvider). Feedback compounds still start with an RR.
  bool sendReceiverReports = true;
  // A request for a key frame is repeated every keyFrameRetryUs while none arrives, and at
  // start (none received yet) every keyFrameStartRetryUs (Chromium: 200 ms).
  int64_t keyFrameRetryUs = 300'000;
  int64_t keyFrameStartRetryUs = 200'000;
  // Chromium asks again after this long without a decodable frame while packets arrive.
  int64_t noDecodableFrameUs = 3'000'000;
};

struct ReceiveStreamEvent {
  enum class Type { kFrameDropped, kKeyFrameRequested };
  Type type = Type::kFrameDropped;
  // kFrameDropped: the frame's RTP timestamp (when any of its packets arrived) and why.
  uint32_t rtpTimestamp = 0;
  FrameDropReason dropReason = FrameDropReason::kIncomplete;
  // kKeyFrameRequested: why, and whether it went as FIR (else PLI). Raised when a PLI/FIR
  // packet is actually sent (repeats included).
  KeyFrameRequestReason requestReason = KeyFrameRequestReason::kStart;
  bool fir = false;
};

struct ReceiveStreamOutput {
  std::vector<ReceivedFrame> frames;
  std::vector<std::vector<uint8_t>> rtcp;
  std::vector<ReceiveStreamEvent> events;

  void Clear() {
    frames.clear();
    rtcp.clear();
    events.clear();
  }
};

class ReceiveStream {
  struct Key {};

 public:
  // ERR_MEDIA_CONFIG: no payload type, one over 127, the RTX payload type among the media
  // ones, maxLatencyUs not positive, transport-cc without `twcc`. `twcc` (may be null without
  // transport-cc) hears the transport-wide sequence number of every packet that carries one;
  // it is per transport, shared by the streams, and must outlive them.
  static Result<std::unique_ptr<ReceiveStream>> Create(const ReceiveStreamConfig& config,
                                                       RandomSource random,
                                                       TransportFeedbackReceiver* twcc);
  ReceiveStream(Key, const ReceiveStreamConfig& config, RandomSource random,
                TransportFeedbackReceiver* twcc);
  ~ReceiveStream();
  ReceiveStream(const ReceiveStream&) = delete;
  ReceiveStream& operator=(const ReceiveStream&) = delete;

  // One decrypted RTP packet (moved in: the jitter buffer keeps it without a copy until its
  // frame is emitted). Malformed packets and packets for another SSRC or payload type are
  // counted and dropped.
  void OnRtp(std::vector<uint8_t> packet, int64_t nowUs, ReceiveStreamOutput& out);
  // The SRs of the compound from our remote SSRC.
  void OnRtcp(const ParsedRtcp& rtcp, int64_t nowUs, ReceiveStreamOutput& out);
  void OnSenderReport(const rtp::SenderReport& sr, int64_t nowUs);

  void Tick(int64_t nowUs, ReceiveStreamOutput& out);
  // When Tick next has something to do (monotonic µs); INT64_MAX when nothing is scheduled.
  int64_t NextTickUs() const;

  // PLI, or FIR when only FIR was negotiated; at most one per keyFrameRetryUs, repeated until a
  // key frame arrives. Nothing when neither was negotiated.
  void RequestKeyFrame(int64_t nowUs, ReceiveStreamOutput& out);
  // A receiver measures no RTT of its own (that needs RTCP XR DLRR): pass the send side's
  // (SendStream::remoteInboundStats of the same transceiver) or ICE's. It paces NACK retries.
  void SetRoundTripTime(int64_t rttUs);

  // The report block about the remote stream as of now (for an SR of ours that carries it),
  // nullopt before the first packet. Building one starts a new fraction-lost interval.
  std::optional<rtp::ReportBlock> MakeReportBlock(int64_t nowUs);

  // A buffer the stream no longer needs (a frame's packets were emitted), capacity kept, for
  // the caller's next receive; an empty vector when none is spare. Using it is optional: it
  // saves the caller an allocation per packet.
  std::vector<uint8_t> TakeSpareBuffer();

  InboundRtpStats inboundStats() const;
  RemoteOutboundRtpStats remoteOutboundStats() const;
  const ReceiveStreamConfig& config() const { return config_; }

 private:
  void HandleJitterOutput(int64_t nowUs, ReceiveStreamOutput& out);
  // RR + SDES (unless reduced-size and there is feedback), then what addFeedback adds.
  std::optional<std::vector<uint8_t>> BuildCompound(
      int64_t nowUs, const std::function<Status(rtp::RtcpCompoundBuilder&)>& addFeedback);
  void SendNacks(int64_t nowUs, ReceiveStreamOutput& out);
  void SendKeyFrameRequest(int64_t nowUs, ReceiveStreamOutput& out);

  ReceiveStreamConfig config_;
  RandomSource random_;
  TransportFeedbackReceiver* twcc_;
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace kvs::media
