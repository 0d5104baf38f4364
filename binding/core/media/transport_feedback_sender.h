// The sender side of transport-wide congestion control: one per transport, shared by its
// SendStreams as their TransportSequencer. It numbers every RTP packet, remembers its send time
// and size (bounded: the last `historyPackets` numbers), and turns each transport-cc feedback
// (rtp/rtcp_twcc.h) into per-packet results for the BandwidthEstimator
// (bandwidth_estimator.h, which says what the estimate is and is not) and into the figures of
// the C SDK's peerConnectionOnSenderBandwidthEstimation callback.
//
//   TransportFeedbackSender twcc;                       // per transport
//   SendStream::Create(config, random, &twcc);          // each stream numbers through it
//   for (auto& fb : parsed.transportFeedback)
//     if (auto e = twcc.OnFeedback(fb, nowUs)) emit the bandwidth event with *e;
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "media/bandwidth_estimator.h"
#include "media/transport_sequencer.h"
#include "rtp/rtcp_twcc.h"
#include "rtp/unwrap.h"

namespace kvs::media {

struct TransportFeedbackSenderConfig {
  // Send records kept (rounded up to a power of two); feedback for older numbers is ignored.
  size_t historyPackets = 8192;
  BandwidthEstimatorConfig estimator;
  std::optional<uint16_t> initialSequence;  // 1 when unset, as libwebrtc starts
};

// What one feedback message said, and the estimate after it.
struct BandwidthEstimate {
  uint64_t targetBps = 0;
  std::optional<uint64_t> deliveredBps;
  double lossFraction = 0;
  int64_t queuingDelayUs = 0;
  // The packets this feedback reported, as peerConnectionOnSenderBandwidthEstimation gives
  // them: what we sent and what arrived of it, and the send time they span.
  uint32_t sentPackets = 0;
  uint32_t receivedPackets = 0;
  uint64_t sentBytes = 0;
  uint64_t receivedBytes = 0;
  int64_t durationUs = 0;
};

class TransportFeedbackSender final : public TransportSequencer {
 public:
  explicit TransportFeedbackSender(const TransportFeedbackSenderConfig& config = {});

  uint16_t NextTransportSequence() override;
  void OnTransportPacketSent(uint16_t sequence, size_t sizeBytes, int64_t sendUs) override;

  // nullopt when the feedback names no packet in the history (nothing to learn).
  std::optional<BandwidthEstimate> OnFeedback(const rtp::TransportFeedback& feedback,
                                              int64_t nowUs);
  void SetRoundTripTime(int64_t rttUs) { estimator_.SetRoundTripTime(rttUs); }
  uint64_t targetBps() const { return estimator_.targetBps(); }
  const BandwidthEstimator& estimator() const { return estimator_; }

  struct Stats {
    uint64_t packetsSent = 0;
    uint64_t feedbackReceived = 0;
    uint64_t feedbackLost = 0;  // gaps in the feedback packet count
    uint64_t packetsReported = 0;
    uint64_t packetsReportedLost = 0;
    uint64_t unknownPackets = 0;  // reported but not (or no longer) in the history
  };
  const Stats& stats() const { return stats_; }

 private:
  struct SentPacket {
    int64_t sequence = -1;  // unwrapped; -1: empty slot
    int64_t sendUs = 0;
    uint32_t size = 0;
    bool reported = false;
    bool reportedLost = false;
  };

  TransportFeedbackSenderConfig config_;
  BandwidthEstimator estimator_;
  std::vector<SentPacket> history_;
  size_t mask_ = 0;
  uint16_t next_;
  rtp::SeqUnwrapper sendUnwrapper_;
  int64_t newestSent_ = -1;
  // Reference times of successive feedbacks, unwrapped from 24 bits.
  bool haveReference_ = false;
  int64_t lastReference_ = 0;
  bool haveFeedbackCount_ = false;
  uint8_t lastFeedbackCount_ = 0;
  std::vector<PacketResult> results_;  // reused per feedback
  Stats stats_;
};

}  // namespace kvs::media
