// STUB (first commit only: the header is the contract; the implementation follows).
#include "media/transport_feedback_receiver.h"

#include <climits>

namespace kvs::media {

TransportFeedbackReceiver::TransportFeedbackReceiver(const TransportFeedbackReceiverConfig& c)
    : config_(c) {}
void TransportFeedbackReceiver::OnPacket(uint16_t, int64_t) {}
void TransportFeedbackReceiver::Tick(int64_t, std::vector<std::vector<uint8_t>>&) {}
int64_t TransportFeedbackReceiver::NextTickUs() const { return INT64_MAX; }

}  // namespace kvs::media
