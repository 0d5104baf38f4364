#include "media/rtp_history.h"

#include <algorithm>
#include <utility>

namespace kvs::media {

namespace {
constexpr size_t kInitialCapacity = 256;

size_t PowerOfTwoAtLeast(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}
}  // namespace

RtpHistory::RtpHistory(const Limits& limits) : limits_(limits) {
  limits_.maxPackets = std::max<size_t>(limits_.maxPackets, 1);
  ring_.resize(std::min(kInitialCapacity, PowerOfTwoAtLeast(limits_.maxPackets)));
}

void RtpHistory::EvictOldest() {
  HistoryPacket& p = Slot(oldest_);
  bytes_ -= p.payload.size();
  p = HistoryPacket{};  // drops the frame reference
  ++oldest_;
  --count_;
}

void RtpHistory::ExpireBefore(int64_t cutoffUs) {
  while (count_ > 0 && Slot(oldest_).sentUs < cutoffUs) {
    EvictOldest();
    ++stats_.evictedByAge;
  }
}

void RtpHistory::Grow() {
  std::vector<HistoryPacket> bigger(ring_.size() * 2);
  const size_t mask = bigger.size() - 1;
  for (int64_t s = oldest_; s <= newest_ && count_ > 0; ++s) {
    bigger[static_cast<size_t>(s) & mask] = std::move(Slot(s));
  }
  ring_ = std::move(bigger);
}

void RtpHistory::Put(int64_t sequence, RtpPayload payload, uint32_t timestamp, int64_t sentUs,
                     uint64_t frameNumber) {
  if (count_ > 0 && sequence != newest_ + 1) {
    // Not the next number: nothing held can be found by its number any more.
    while (count_ > 0) EvictOldest();
  }
  if (count_ == 0) oldest_ = sequence;
  ExpireBefore(sentUs - limits_.maxAgeUs);
  if (count_ == 0) oldest_ = sequence;
  if (count_ == limits_.maxPackets) {
    EvictOldest();
    ++stats_.evictedByCount;
  } else if (count_ == ring_.size()) {
    Grow();
  }
  HistoryPacket& slot = Slot(sequence);
  slot.sequence = sequence;
  slot.timestamp = timestamp;
  slot.sentUs = sentUs;
  slot.lastResentUs = 0;
  slot.resends = 0;
  slot.frameNumber = frameNumber;
  bytes_ += payload.size();
  slot.payload = std::move(payload);
  newest_ = sequence;
  ++count_;
  // The byte bound keeps at least the packet just stored.
  while (bytes_ > limits_.maxBytes && count_ > 1) {
    EvictOldest();
    ++stats_.evictedByBytes;
  }
}

HistoryPacket* RtpHistory::Find(uint16_t sequence, int64_t nowUs) {
  ExpireBefore(nowUs - limits_.maxAgeUs);
  if (count_ == 0) return nullptr;
  const auto back = static_cast<uint16_t>(static_cast<uint16_t>(newest_) - sequence);
  const int64_t unwrapped = newest_ - back;
  if (unwrapped < oldest_) return nullptr;
  HistoryPacket& p = Slot(unwrapped);
  return p.sequence == unwrapped ? &p : nullptr;
}

}  // namespace kvs::media
