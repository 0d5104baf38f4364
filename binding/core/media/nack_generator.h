// The receiver's NACK generator (RFC 4585 generic NACK), with Chromium's limits
// (media-facts.md): sequence numbers are tracked as missing when a later one arrives; each is
// asked for at most once per RTT and at most `maxRetries` times; nothing is asked for once it
// has been missing longer than the jitter buffer would wait (`maxAgeUs`) or once the jitter
// buffer has moved past it; numbers more than 10,000 behind the newest are forgotten; and when
// more than `maxMissing` (1000) numbers are missing the list is cleared and the caller is told
// to ask for a key frame instead. A number that arrives, directly or over RTX, leaves the list.
//
// Works on unwrapped sequence numbers (rtp/unwrap.h), so the wrap is invisible. The list is a
// vector sorted by number (new gaps append at the end; recoveries are found by binary
// search), reserved once: no allocation per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kvs::media {

struct NackGeneratorConfig {
  int64_t maxAgeUs = 2'000'000;
  uint32_t maxRetries = 10;
  size_t maxMissing = 1000;
  int64_t maxDistance = 10'000;  // behind the newest
};

class NackGenerator {
 public:
  explicit NackGenerator(const NackGeneratorConfig& config = {});

  // Sequence number `sequence` arrived (any way). Returns false when the gap it reveals
  // overflows the list: the list is cleared and the caller should request a key frame.
  bool OnPacket(int64_t sequence, int64_t nowUs);
  // Appends the numbers to NACK now (low 16 bits), counting a send for each.
  void CollectDue(int64_t nowUs, int64_t rttUs, std::vector<uint16_t>& out);
  // When CollectDue next has something to send (INT64_MAX: nothing missing).
  int64_t NextDueUs(int64_t rttUs) const;
  // The jitter buffer gave up on everything before `sequence`.
  void DropBefore(int64_t sequence);
  void Clear() { missing_.clear(); }

  size_t missingCount() const { return missing_.size(); }
  struct Stats {
    uint64_t requested = 0;  // numbers put in NACKs (each retry counts)
    uint64_t recovered = 0;  // arrived after having been missing
    uint64_t retriesExhausted = 0;
    uint64_t expired = 0;  // older than maxAgeUs, or behind the jitter buffer
    uint64_t overflows = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Entry {
    int64_t sequence;
    int64_t detectedUs;
    int64_t lastSentUs;
    uint32_t sends;
  };

  NackGeneratorConfig config_;
  std::vector<Entry> missing_;  // sorted by sequence
  bool started_ = false;
  int64_t newest_ = 0;
  Stats stats_;
};

}  // namespace kvs::media
