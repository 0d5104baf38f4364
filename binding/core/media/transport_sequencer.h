// The transport-wide sequence number of transport-cc (draft-holmer-rmcat-transport-wide-cc-
// extensions-01 §2) is one counter per transport (per BUNDLE group), not per stream. Every
// SendStream of the transport takes its numbers from one TransportSequencer, and notes each
// send, so that the sender side of TWCC (transport_feedback_sender.h) can match feedback to
// send times and sizes. TransportFeedbackSender implements it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kvs::media {

class TransportSequencer {
 public:
  virtual ~TransportSequencer() = default;
  // The number for the next packet (wraps at 65535).
  virtual uint16_t NextTransportSequence() = 0;
  // Packet `sequence` (a number NextTransportSequence gave) left at sendUs (monotonic µs);
  // `sizeBytes` is the RTP packet's size before SRTP. Called once per packet, in send order,
  // retransmissions included.
  virtual void OnTransportPacketSent(uint16_t sequence, size_t sizeBytes, int64_t sendUs) = 0;
};

}  // namespace kvs::media
