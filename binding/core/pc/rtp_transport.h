// The RTP layer of the stack, between the SRTP transport below and the transceivers' media
// streams above. It routes each decrypted RTP packet to its transceiver's ReceiveStream (by
// SSRC, then by the sdes:mid extension, then by payload type), hands each RTCP compound to the
// streams that it names, numbers packets for transport-wide congestion control (one
// sequencer and one feedback receiver per transport), writes every outgoing packet once into
// its send buffer where SRTP encrypts it in place, and ticks the streams' timers.
// Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/status.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "media/media_frame.h"
#include "media/receive_stream.h"
#include "media/send_stream.h"
#include "media/transport_feedback_receiver.h"
#include "media/transport_feedback_sender.h"
#include "pc/srtp_transport.h"
#include "pc/transceiver.h"
#include "rtp/rtp_packet.h"

namespace kvs::pc {

// Why a frame handed to WriteFrame did not go out.
enum class WriteOutcome {
  kSent,        // packetized and handed to the network
  kNotReady,    // the connection has no SRTP keys or route yet: discarded, counted
  kNotSending,  // the transceiver does not send (direction, not negotiated): discarded
  kRejected,    // the frame itself is bad (empty, malformed for the codec): the Status says
};

struct RtpTransportCounters {
  uint64_t framesDiscardedNotReady = 0;
  uint64_t framesDiscardedNotSending = 0;
  uint64_t rtpUnroutable = 0;  // no transceiver for its SSRC, mid or payload type
  uint64_t rtpMalformed = 0;
  uint64_t rtcpMalformed = 0;
};

class RtpTransport {
 public:
  RtpTransport(loop::EventLoop& loop, SrtpTransport& srtp,
               std::vector<std::unique_ptr<Transceiver>>& transceivers, std::string cname);
  ~RtpTransport();
  RtpTransport(const RtpTransport&) = delete;
  RtpTransport& operator=(const RtpTransport&) = delete;

  // After a negotiation completes: creates or updates the streams of every transceiver from
  // what the answer agreed. A stream that cannot be made fails the call (with its reason).
  Status ApplyNegotiation();

  // The transport can carry media (ICE connected and SRTP keyed) or no longer can.
  void SetReady(bool ready);
  bool ready() const { return ready_; }

  WriteOutcome WriteFrame(Transceiver& t, const media::EncodedFrame& frame, Status* error);
  void RequestKeyFrame(Transceiver& t);
  // From the SRTP layer.
  void HandleRtp(std::vector<uint8_t>&& packet);
  void HandleRtcp(std::vector<uint8_t>&& packet);
  // The current round-trip time (from ICE's consent checks) for NACK pacing and estimation.
  void SetRoundTripTime(int64_t rttUs);
  void Close();

  const RtpTransportCounters& counters() const { return counters_; }
  const media::TransportFeedbackSender& twccSender() const { return twccSender_; }

  std::function<void(Transceiver&, media::ReceivedFrame&&)> onFrame;
  std::function<void(Transceiver&, media::KeyFrameReason)> onKeyFrameNeeded;
  // From REMB (per stream) or transport-cc (per transport: transceiver null).
  std::function<void(Transceiver*, uint64_t bitrateBps, const char* source)> onBandwidth;
  // The path's round-trip time in µs (ICE's consent checks), read twice a second; 0: unknown.
  std::function<int64_t()> rttSource;

 private:
  static int64_t NowUs();
  static int64_t UnixNowUs();
  Status ConfigureSend(Transceiver& t);
  Status ConfigureReceive(Transceiver& t);
  media::ReceiveStream* StreamFor(const rtp::RtpPacketView& view, Transceiver** owner);
  media::ReceiveStream* AddReceiveStream(Transceiver& t, uint32_t ssrc, Status* error);
  void Flush(Transceiver& t, media::SendStreamOutput& out);
  void Flush(Transceiver& t, media::ReceiveStreamOutput& out);
  void SendRtcpPackets(std::vector<std::vector<uint8_t>>& rtcp);
  void Tick();
  void ArmTick();

  loop::EventLoop& loop_;
  SrtpTransport& srtp_;
  std::vector<std::unique_ptr<Transceiver>>& transceivers_;
  std::string cname_;
  media::RandomSource random_;
  media::TransportFeedbackSender twccSender_;
  std::unique_ptr<media::TransportFeedbackReceiver> twccReceiver_;
  media::SendStreamOutput sendOut_;
  media::ReceiveStreamOutput receiveOut_;
  std::vector<std::vector<uint8_t>> rtcpOut_;
  rtp::RtpPacketView view_;
  media::ParsedRtcp parsedRtcp_;
  // One MTU-sized packet and SRTP's trailer: where each outgoing packet is written once.
  std::vector<uint8_t> sendBuffer_;
  loop::Timer tick_;
  bool ready_ = false;
  bool closed_ = false;
  int64_t rttUs_ = 0;
  int64_t nextRttPollUs_ = 0;
  RtpTransportCounters counters_;
};

}  // namespace kvs::pc
