// Candidate pairs and the check list ordering (RFC 8445 §6.1.2).
#pragma once

#include <cstdint>
#include <string>

#include "ice/ice_candidate.h"

namespace kvs::ice {

enum class PairState { kFrozen, kWaiting, kInProgress, kSucceeded, kFailed };

const char* ToString(PairState state);

// RFC 8445 §6.1.2.3: 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0), G the controlling side's.
uint64_t PairPriority(uint32_t controllingPriority, uint32_t controlledPriority);

struct PairStats {
  uint64_t requestsSent = 0;
  uint64_t requestsReceived = 0;
  uint64_t responsesSent = 0;
  uint64_t responsesReceived = 0;
  uint64_t consentRequestsSent = 0;
  uint64_t packetsSent = 0;
  uint64_t packetsReceived = 0;
  uint64_t bytesSent = 0;
  uint64_t bytesReceived = 0;
  double totalRoundTripTimeMs = 0;
  double currentRoundTripTimeMs = 0;
  uint64_t roundTripTimeMeasurements = 0;
  uint64_t firstRequestTimestampMs = 0;
  uint64_t lastRequestTimestampMs = 0;
  uint64_t lastResponseTimestampMs = 0;
  uint64_t lastPacketSentTimestampMs = 0;
  uint64_t lastPacketReceivedTimestampMs = 0;
};

struct CandidatePair {
  int localIndex = -1;   // into the agent's local candidates
  int remoteIndex = -1;  // into the agent's remote candidates
  uint64_t priority = 0;
  PairState state = PairState::kFrozen;
  bool nominated = false;          // both sides agreed on it (USE-CANDIDATE)
  bool nominateOnSuccess = false;  // controlled: USE-CANDIDATE arrived before our check
  bool valid = false;              // a check on it succeeded
  PairStats stats;
};

}  // namespace kvs::ice
