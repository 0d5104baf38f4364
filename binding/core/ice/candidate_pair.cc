#include "ice/candidate_pair.h"

#include <algorithm>

namespace kvs::ice {

const char* ToString(PairState state) {
  switch (state) {
    case PairState::kFrozen:
      return "frozen";
    case PairState::kWaiting:
      return "waiting";
    case PairState::kInProgress:
      return "in-progress";
    case PairState::kSucceeded:
      return "succeeded";
    case PairState::kFailed:
      return "failed";
  }
  return "frozen";
}

uint64_t PairPriority(uint32_t controllingPriority, uint32_t controlledPriority) {
  const uint64_t g = controllingPriority;
  const uint64_t d = controlledPriority;
  return (std::min(g, d) << 32) + 2 * std::max(g, d) + (g > d ? 1 : 0);
}

}  // namespace kvs::ice
