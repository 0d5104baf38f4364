// The rolling (retransmission) buffer of a SendStream: the packets sent on one SSRC, kept for
// NACKs. A ring indexed by the unwrapped sequence number modulo its capacity (no map, no
// allocation per packet once grown), holding for each packet the payload slice (a reference
// to the frame's shared bytes, never a copy) and the header fields needed to send it again.
// What is kept is what was first sent, untouched: SRTP protects the caller's copy on the wire
// buffer, never this one (media-facts.md: in-place encryption corrupted NACK buffers
// elsewhere).
//
// Bounded three ways (RollingBufferConfig): age (seconds), payload bytes (seconds * bps / 8)
// and packets (the SRTP replay window, srtp::SrtpSession::kReplayWindowPackets). The ring
// starts small and doubles on demand up to the packet bound, so memory follows the real rate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "media/rtp_payload.h"

namespace kvs::media {

struct HistoryPacket {
  int64_t sequence = -1;  // unwrapped; -1 marks an empty slot
  RtpPayload payload;
  uint32_t timestamp = 0;
  int64_t sentUs = 0;
  int64_t lastResentUs = 0;
  uint32_t resends = 0;
  uint64_t frameNumber = 0;
};

class RtpHistory {
 public:
  struct Limits {
    size_t maxPackets = 8192;
    size_t maxBytes = 625'000;
    int64_t maxAgeUs = 1'000'000;
  };
  explicit RtpHistory(const Limits& limits);

  // Stores the packet with sequence number `sequence` (unwrapped). Sequence numbers must be
  // consecutive (each one more than the last), as a sender writes them; a jump discards the
  // history. Evicts what the bounds require.
  void Put(int64_t sequence, RtpPayload payload, uint32_t timestamp, int64_t sentUs,
           uint64_t frameNumber);
  // The packet with this 16-bit sequence number: the unwrapped number nearest below the newest
  // with these low bits. nullptr when not held, or older than the age bound at nowUs.
  HistoryPacket* Find(uint16_t sequence, int64_t nowUs);

  size_t size() const { return count_; }
  size_t bytes() const { return bytes_; }
  size_t capacity() const { return ring_.size(); }
  const Limits& limits() const { return limits_; }

  struct Stats {
    uint64_t evictedByAge = 0;
    uint64_t evictedByBytes = 0;
    uint64_t evictedByCount = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  HistoryPacket& Slot(int64_t sequence) {
    return ring_[static_cast<size_t>(sequence) & (ring_.size() - 1)];
  }
  void EvictOldest();
  void ExpireBefore(int64_t cutoffUs);
  void Grow();

  Limits limits_;
  std::vector<HistoryPacket> ring_;
  int64_t oldest_ = 0;  // valid when count_ > 0
  int64_t newest_ = -1;
  size_t count_ = 0;
  size_t bytes_ = 0;
  Stats stats_;
};

}  // namespace kvs::media
