// STUB (first commit only: the header is the contract; the implementation follows).
#include "media/send_stream.h"

#include <climits>

namespace kvs::media {

struct SendStream::State {};

const char* ToString(KeyFrameReason reason) {
  switch (reason) {
    case KeyFrameReason::kFirstFrame:
      return "first-frame";
    case KeyFrameReason::kPli:
      return "pli";
    case KeyFrameReason::kFir:
      return "fir";
    case KeyFrameReason::kSendFailure:
      return "send-failure";
    case KeyFrameReason::kRequested:
      return "requested";
  }
  return "unknown";
}

Result<std::unique_ptr<SendStream>> SendStream::Create(const SendStreamConfig& config,
                                                       RandomSource random,
                                                       TransportSequencer* sequencer) {
  return std::make_unique<SendStream>(Key{}, config, std::move(random), sequencer);
}
SendStream::SendStream(Key, const SendStreamConfig& config, RandomSource random,
                       TransportSequencer* sequencer)
    : config_(config), random_(std::move(random)), sequencer_(sequencer) {}
SendStream::~SendStream() = default;
Status SendStream::SendFrame(const EncodedFrame&, int64_t, SendStreamOutput&) {
  return Status::Fail("ERR_MEDIA_NOT_IMPLEMENTED", "stub");
}
void SendStream::OnRtcp(const ParsedRtcp&, int64_t, SendStreamOutput&) {}
void SendStream::OnReportBlock(const rtp::ReportBlock&, int64_t) {}
void SendStream::OnNack(const rtp::Nack&, int64_t, SendStreamOutput&) {}
void SendStream::OnPli(const rtp::Pli&, int64_t, SendStreamOutput&) {}
void SendStream::OnFir(const rtp::Fir&, int64_t, SendStreamOutput&) {}
void SendStream::OnRemb(const rtp::Remb&, int64_t, SendStreamOutput&) {}
void SendStream::RequestKeyFrame(KeyFrameReason, int64_t, SendStreamOutput&) {}
void SendStream::Tick(int64_t, int64_t, SendStreamOutput&) {}
int64_t SendStream::NextTickUs() const { return INT64_MAX; }
void SendStream::OnPacketSent(const OutgoingRtpPacket&, int64_t) {}
void SendStream::OnPacketSendFailed(const OutgoingRtpPacket&, int64_t, SendStreamOutput&) {}
void SendStream::SetRoundTripTime(int64_t) {}
OutboundRtpStats SendStream::outboundStats() const { return {}; }
RemoteInboundRtpStats SendStream::remoteInboundStats() const { return {}; }

}  // namespace kvs::media
