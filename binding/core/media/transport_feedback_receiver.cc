#include "media/transport_feedback_receiver.h"

#include <algorithm>
#include <climits>

#include "common/bytes.h"
#include "rtp/rtcp_twcc.h"

namespace kvs::media {

namespace {
// Statuses per feedback packet: at worst about 2.3 bytes each (a two-bit vector chunk per 7,
// a 2-byte delta each), so 400 stay within 1200 bytes with the headers and SRTCP's trailer.
constexpr size_t kMaxStatusesPerPacket = 400;
// A receive delta is 16 bits of 250 µs: consecutive arrivals further apart start a new packet.
constexpr int64_t kMaxDeltaUs = 8'000'000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// The signed 24-bit wire form of a reference time in 64 ms units (it wraps every 12.4 days).
int32_t Wire24(int64_t units) {
  const auto u = static_cast<int32_t>(units & 0xFFFFFF);
  return u >= 0x800000 ? u - 0x1000000 : u;
}
}  // namespace

TransportFeedbackReceiver::TransportFeedbackReceiver(const TransportFeedbackReceiverConfig& c)
    : config_(c) {
  pending_.reserve(config_.maxPendingPackets + 1);
}

void TransportFeedbackReceiver::OnPacket(uint16_t sequence, int64_t arrivalUs) {
  const int64_t s = unwrapper_.Unwrap(sequence);
  if (!started_) {
    started_ = true;
    nextUnreported_ = s;
  }
  if (s < nextUnreported_) {
    ++stats_.lateArrivals;
    return;
  }
  if (pending_.size() >= 2 * config_.maxPendingPackets) {
    ++stats_.lateArrivals;  // the caller has not ticked: keep memory bounded
    return;
  }
  if (pending_.empty() || s > pending_.back().sequence) {
    pending_.push_back({s, arrivalUs});
  } else {
    auto it = std::lower_bound(pending_.begin(), pending_.end(), s,
                               [](const Arrival& a, int64_t v) { return a.sequence < v; });
    if (it != pending_.end() && it->sequence == s) {
      ++stats_.duplicates;
      return;
    }
    pending_.insert(it, {s, arrivalUs});
  }
  if (pending_.size() == 1) firstPendingUs_ = arrivalUs;
  ++stats_.packetsRecorded;
}

int64_t TransportFeedbackReceiver::NextTickUs() const {
  if (pending_.empty()) return INT64_MAX;
  if (pending_.size() >= config_.maxPendingPackets) return INT64_MIN;
  return std::max(lastFeedbackUs_ + config_.intervalUs, firstPendingUs_);
}

void TransportFeedbackReceiver::Tick(int64_t nowUs, std::vector<std::vector<uint8_t>>& rtcpOut) {
  if (pending_.empty()) return;
  if (nowUs < NextTickUs()) return;
  Flush(rtcpOut);
  lastFeedbackUs_ = nowUs;
}

void TransportFeedbackReceiver::Flush(std::vector<std::vector<uint8_t>>& rtcpOut) {
  size_t i = 0;
  while (i < pending_.size()) {
    // One packet: from nextUnreported_ up to kMaxStatusesPerPacket numbers, cut where
    // consecutive arrivals are too far apart for a delta.
    size_t j = i;
    int64_t minArrival = pending_[i].arrivalUs;
    while (j + 1 < pending_.size() &&
           pending_[j + 1].sequence - nextUnreported_ < int64_t{kMaxStatusesPerPacket} &&
           std::abs(pending_[j + 1].arrivalUs - pending_[j].arrivalUs) < kMaxDeltaUs &&
           std::abs(pending_[j + 1].arrivalUs - minArrival) < kMaxDeltaUs) {
      ++j;
      minArrival = std::min(minArrival, pending_[j].arrivalUs);
    }
    const int64_t refUnits = FloorDiv(minArrival, rtp::kTwccReferenceUnitUs);
    const int64_t refUs = refUnits * rtp::kTwccReferenceUnitUs;
    rtp::TransportFeedback fb;
    fb.senderSsrc = config_.senderSsrc;
    fb.mediaSsrc = config_.mediaSsrc;
    fb.baseSequence = static_cast<uint16_t>(nextUnreported_);
    fb.referenceTime = Wire24(refUnits);
    fb.feedbackCount = feedbackCount_;
    const int64_t last = pending_[j].sequence;
    fb.packets.reserve(static_cast<size_t>(last - nextUnreported_ + 1));
    size_t k = i;
    for (int64_t s = nextUnreported_; s <= last; ++s) {
      rtp::TwccPacketStatus st;
      st.sequenceNumber = static_cast<uint16_t>(s);
      if (k <= j && pending_[k].sequence == s) {
        st.received = true;
        st.arrivalUs = pending_[k].arrivalUs - refUs;
        ++k;
      }
      fb.packets.push_back(st);
    }
    std::vector<uint8_t> bytes;
    ByteWriter w(bytes);
    if (rtp::WriteRtcp(fb, w).ok()) {
      rtcpOut.push_back(std::move(bytes));
      ++feedbackCount_;
      ++stats_.feedbackPacketsSent;
    }
    nextUnreported_ = last + 1;
    i = j + 1;
  }
  pending_.clear();
}

}  // namespace kvs::media
