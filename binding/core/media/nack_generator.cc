#include "media/nack_generator.h"

#include <algorithm>
#include <climits>

namespace kvs::media {

NackGenerator::NackGenerator(const NackGeneratorConfig& config) : config_(config) {
  missing_.reserve(config_.maxMissing + 1);
}

bool NackGenerator::OnPacket(int64_t sequence, int64_t nowUs) {
  if (!started_) {
    started_ = true;
    newest_ = sequence;
    return true;
  }
  if (sequence <= newest_) {
    auto it = std::lower_bound(missing_.begin(), missing_.end(), sequence,
                               [](const Entry& e, int64_t s) { return e.sequence < s; });
    if (it != missing_.end() && it->sequence == sequence) {
      missing_.erase(it);
      ++stats_.recovered;
    }
    return true;
  }
  const int64_t gap = sequence - newest_ - 1;
  newest_ = sequence;
  if (gap == 0) return true;
  if (missing_.size() + static_cast<uint64_t>(gap) > config_.maxMissing) {
    missing_.clear();
    ++stats_.overflows;
    return false;
  }
  for (int64_t s = sequence - gap; s < sequence; ++s) missing_.push_back({s, nowUs, 0, 0});
  DropBefore(newest_ - config_.maxDistance);
  return true;
}

void NackGenerator::CollectDue(int64_t nowUs, int64_t rttUs, std::vector<uint16_t>& out) {
  size_t kept = 0;
  for (size_t i = 0; i < missing_.size(); ++i) {
    Entry e = missing_[i];
    if (nowUs - e.detectedUs > config_.maxAgeUs) {
      ++stats_.expired;
      continue;
    }
    const bool due = e.sends == 0 || nowUs - e.lastSentUs >= rttUs;
    if (due && e.sends >= config_.maxRetries) {
      ++stats_.retriesExhausted;
      continue;
    }
    if (due) {
      out.push_back(static_cast<uint16_t>(e.sequence));
      ++e.sends;
      e.lastSentUs = nowUs;
      ++stats_.requested;
    }
    missing_[kept++] = e;
  }
  missing_.resize(kept);
}

int64_t NackGenerator::NextDueUs(int64_t rttUs) const {
  int64_t next = INT64_MAX;
  for (const Entry& e : missing_) {
    const int64_t at = e.sends == 0 ? e.detectedUs : e.lastSentUs + rttUs;
    next = std::min({next, at, e.detectedUs + config_.maxAgeUs + 1});
  }
  return next;
}

void NackGenerator::DropBefore(int64_t sequence) {
  auto it = std::lower_bound(missing_.begin(), missing_.end(), sequence,
                             [](const Entry& e, int64_t s) { return e.sequence < s; });
  stats_.expired += static_cast<uint64_t>(it - missing_.begin());
  missing_.erase(missing_.begin(), it);
}

}  // namespace kvs::media
