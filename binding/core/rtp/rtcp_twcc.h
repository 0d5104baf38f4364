// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
// extensions-01 §3.1), RTPFB FMT 15: for a run of transport-wide sequence numbers, whether
// each packet arrived and when, relative to a reference time.
//
// Wire layout after the feedback header: base sequence (16), packet status count (16),
// reference time (signed 24, 64 ms units), feedback packet count (8), then 16-bit chunks
// giving one status symbol per packet, then one receive delta per received packet (symbol 1:
// 1 byte, 0..63.75 ms; symbol 2: 2 bytes signed, 250 µs units), then zero padding to 32 bits.
// Chunks are run-length (T=0: symbol, 13-bit run) or status vectors (T=1: 14 one-bit or 7
// two-bit symbols).
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "rtp/rtcp_packet.h"

namespace kvs::rtp {

inline constexpr int64_t kTwccDeltaUnitUs = 250;
inline constexpr int64_t kTwccReferenceUnitUs = 64'000;
inline constexpr int32_t kTwccMaxReferenceTime = 0x7FFFFF;  // signed 24-bit
inline constexpr int32_t kTwccMinReferenceTime = -0x800000;
inline constexpr size_t kTwccMaxPacketStatusCount = 0xFFFF;

struct TwccPacketStatus {
  uint16_t sequenceNumber = 0;
  bool received = false;
  // Arrival time in microseconds after the reference time (may be negative); 0 when not
  // received. Parsed values are multiples of 250; writing rounds each arrival to the nearest
  // 250 µs (so rounding never accumulates along the packet).
  int64_t arrivalUs = 0;

  bool operator==(const TwccPacketStatus& o) const {
    return sequenceNumber == o.sequenceNumber && received == o.received && arrivalUs == o.arrivalUs;
  }
};

struct TransportFeedback {
  uint32_t senderSsrc = 0;
  uint32_t mediaSsrc = 0;
  uint16_t baseSequence = 0;
  int32_t referenceTime = 0;  // signed 24-bit, in 64 ms units
  uint8_t feedbackCount = 0;  // incremented per feedback packet sent, to detect lost ones
  // One entry per packet from baseSequence on, consecutive (wrapping at 65535): the packet
  // status count is packets.size(), 1..65535.
  std::vector<TwccPacketStatus> packets;

  int64_t referenceTimeUs() const { return int64_t{referenceTime} * kTwccReferenceUnitUs; }
  bool operator==(const TransportFeedback& o) const {
    return senderSsrc == o.senderSsrc && mediaSsrc == o.mediaSsrc &&
           baseSequence == o.baseSequence && referenceTime == o.referenceTime &&
           feedbackCount == o.feedbackCount && packets == o.packets;
  }
};

// ERR_RTCP_WRONG_TYPE unless RTPFB FMT 15; ERR_RTCP_TRUNCATED when the fixed fields are
// missing; ERR_RTCP_TWCC for a status count of 0, a run-length chunk of length 0, the reserved
// symbol (3) for a counted packet, or chunks or deltas that end before the status count is
// reached. Symbols past the count in the last chunk, and bytes after the last delta (padding),
// are ignored; RTCP padding (P bit) is handled by the framing.
Result<TransportFeedback> ParseTransportFeedback(const RtcpPacketView& p);

// Chooses chunks greedily: a run-length chunk when a run of one symbol covers at least as many
// packets as a vector chunk would, else a one-bit vector when the next 14 packets need no large
// delta, else a two-bit vector. Received packets get a 1-byte delta when it fits 0..255 units
// and a 2-byte one otherwise. ERR_RTCP_INVALID_ARGUMENT for no packets or more than 65535, a
// sequence number other than baseSequence + i, a reference time beyond 24 bits, or a delta
// beyond -8192..8191.75 ms (start a new feedback packet with a later reference instead).
Status WriteRtcp(const TransportFeedback& fb, ByteWriter& w);

}  // namespace kvs::rtp
