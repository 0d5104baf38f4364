// STUB (first commit only: the header is the contract; the implementation follows).
#include "media/transport_feedback_sender.h"

namespace kvs::media {

TransportFeedbackSender::TransportFeedbackSender(const TransportFeedbackSenderConfig& config)
    : config_(config), estimator_(config.estimator), next_(config.initialSequence.value_or(1)) {}
uint16_t TransportFeedbackSender::NextTransportSequence() { return next_++; }
void TransportFeedbackSender::OnTransportPacketSent(uint16_t, size_t, int64_t) {}
std::optional<BandwidthEstimate> TransportFeedbackSender::OnFeedback(const rtp::TransportFeedback&,
                                                                     int64_t) {
  return std::nullopt;
}

}  // namespace kvs::media
