// STUB (first commit only: the header is the contract; the implementation follows).
#include "media/receive_stream.h"

#include <climits>

namespace kvs::media {

struct ReceiveStream::State {};

const char* ToString(FrameDropReason reason) {
  switch (reason) {
    case FrameDropReason::kIncomplete:
      return "incomplete";
    case FrameDropReason::kWaitingForKeyFrame:
      return "waiting-for-key-frame";
    case FrameDropReason::kOverflow:
      return "overflow";
    case FrameDropReason::kUndecodable:
      return "undecodable";
  }
  return "unknown";
}

const char* ToString(KeyFrameRequestReason reason) {
  switch (reason) {
    case KeyFrameRequestReason::kStart:
      return "start";
    case KeyFrameRequestReason::kFrameDropped:
      return "frame-dropped";
    case KeyFrameRequestReason::kNackOverflow:
      return "nack-overflow";
    case KeyFrameRequestReason::kNoDecodableFrame:
      return "no-decodable-frame";
    case KeyFrameRequestReason::kApp:
      return "app";
  }
  return "unknown";
}

Result<std::unique_ptr<ReceiveStream>> ReceiveStream::Create(const ReceiveStreamConfig& config,
                                                             RandomSource random,
                                                             TransportFeedbackReceiver* twcc) {
  return std::make_unique<ReceiveStream>(Key{}, config, std::move(random), twcc);
}
ReceiveStream::ReceiveStream(Key, const ReceiveStreamConfig& config, RandomSource,
                             TransportFeedbackReceiver*)
    : config_(config) {}
ReceiveStream::~ReceiveStream() = default;
void ReceiveStream::OnRtp(std::vector<uint8_t>, int64_t, ReceiveStreamOutput&) {}
void ReceiveStream::OnRtcp(const ParsedRtcp&, int64_t, ReceiveStreamOutput&) {}
void ReceiveStream::OnSenderReport(const rtp::SenderReport&, int64_t) {}
void ReceiveStream::Tick(int64_t, ReceiveStreamOutput&) {}
int64_t ReceiveStream::NextTickUs() const { return INT64_MAX; }
void ReceiveStream::RequestKeyFrame(int64_t, ReceiveStreamOutput&) {}
void ReceiveStream::SetRoundTripTime(int64_t) {}
std::optional<rtp::ReportBlock> ReceiveStream::MakeReportBlock(int64_t) { return std::nullopt; }
std::vector<uint8_t> ReceiveStream::TakeSpareBuffer() { return {}; }
InboundRtpStats ReceiveStream::inboundStats() const { return {}; }
RemoteOutboundRtpStats ReceiveStream::remoteOutboundStats() const { return {}; }

}  // namespace kvs::media
