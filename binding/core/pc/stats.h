// W3C webrtc-stats objects for a peer connection, read from where the numbers are kept
// (agent pairs, candidates, DTLS). Names and units follow the W3C spec (times in seconds for
// round trips, milliseconds since the epoch for timestamps).
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "pc/peer_connection.h"

namespace kvs::pc {

using StatValue = std::variant<double, std::string, bool>;

struct StatsObject {
  std::string type;  // "candidate-pair", "local-candidate", "remote-candidate", "transport"
  std::string id;
  double timestamp = 0;  // ms since the Unix epoch
  std::vector<std::pair<std::string, StatValue>> fields;
};

// `monotonicToEpochMs` converts the loop clock to wall-clock time for timestamps.
std::vector<StatsObject> CollectStats(const PeerConnection& pc, double nowEpochMs,
                                      double monotonicToEpochMs);

}  // namespace kvs::pc
