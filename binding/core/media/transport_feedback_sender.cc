#include "media/transport_feedback_sender.h"

#include <algorithm>
#include <climits>

namespace kvs::media {

namespace {
size_t PowerOfTwoAtLeast(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}
}  // namespace

TransportFeedbackSender::TransportFeedbackSender(const TransportFeedbackSenderConfig& config)
    : config_(config),
      estimator_(config.estimator),
      history_(PowerOfTwoAtLeast(std::max<size_t>(config.historyPackets, 64))),
      mask_(history_.size() - 1),
      next_(config.initialSequence.value_or(1)) {
  results_.reserve(1024);
}

uint16_t TransportFeedbackSender::NextTransportSequence() { return next_++; }

void TransportFeedbackSender::OnTransportPacketSent(uint16_t sequence, size_t sizeBytes,
                                                    int64_t sendUs) {
  const int64_t s = sendUnwrapper_.Unwrap(sequence);
  SentPacket& p = history_[static_cast<size_t>(s) & mask_];
  p.sequence = s;
  p.sendUs = sendUs;
  p.size = static_cast<uint32_t>(sizeBytes);
  p.reported = false;
  p.reportedLost = false;
  newestSent_ = std::max(newestSent_, s);
  ++stats_.packetsSent;
}

std::optional<BandwidthEstimate> TransportFeedbackSender::OnFeedback(
    const rtp::TransportFeedback& fb, int64_t nowUs) {
  ++stats_.feedbackReceived;
  if (haveFeedbackCount_) {
    const auto gap = static_cast<uint8_t>(fb.feedbackCount - lastFeedbackCount_ - 1);
    if (gap < 128) stats_.feedbackLost += gap;  // else reordered or repeated
  }
  haveFeedbackCount_ = true;
  lastFeedbackCount_ = fb.feedbackCount;
  // The 24-bit reference time wraps every 12.4 days: unwrap it against the last one.
  const int64_t wire = fb.referenceTime & 0xFFFFFF;
  if (!haveReference_) {
    lastReference_ = fb.referenceTime;
    haveReference_ = true;
  } else {
    int64_t diff = (wire - (lastReference_ & 0xFFFFFF)) & 0xFFFFFF;
    if (diff >= 0x800000) diff -= 0x1000000;
    lastReference_ += diff;
  }
  const int64_t referenceUs = lastReference_ * rtp::kTwccReferenceUnitUs;

  results_.clear();
  BandwidthEstimate e;
  int64_t firstSend = INT64_MAX, lastSend = INT64_MIN;
  if (newestSent_ < 0) return std::nullopt;
  for (const rtp::TwccPacketStatus& st : fb.packets) {
    ++stats_.packetsReported;
    const int64_t s =
        newestSent_ + rtp::SeqDelta(st.sequenceNumber, static_cast<uint16_t>(newestSent_));
    SentPacket& p = history_[static_cast<size_t>(s) & mask_];
    if (s < 0 || p.sequence != s) {
      ++stats_.unknownPackets;
      continue;
    }
    PacketResult r;
    r.sendUs = p.sendUs;
    r.size = p.size;
    r.received = st.received;
    r.arrivalUs = referenceUs + st.arrivalUs;
    if (p.reported) {
      // Reported again: only news if it was lost before and has arrived since.
      if (!(p.reportedLost && st.received)) continue;
      r.previouslyLost = true;
    }
    p.reported = true;
    p.reportedLost = !st.received;
    if (!st.received) ++stats_.packetsReportedLost;
    results_.push_back(r);
    ++e.sentPackets;
    e.sentBytes += p.size;
    if (st.received) {
      ++e.receivedPackets;
      e.receivedBytes += p.size;
    }
    firstSend = std::min(firstSend, p.sendUs);
    lastSend = std::max(lastSend, p.sendUs);
  }
  if (results_.empty()) return std::nullopt;
  estimator_.OnPacketResults(rtp::ArrayView<PacketResult>(results_.data(), results_.size()), nowUs);
  e.durationUs = lastSend - firstSend;
  e.targetBps = estimator_.targetBps();
  e.deliveredBps = estimator_.deliveredBps();
  e.lossFraction = estimator_.lossFraction();
  e.queuingDelayUs = estimator_.queuingDelayUs();
  return e;
}

}  // namespace kvs::media
