// Asking the sender for a key frame: PLI (RFC 4585 §6.3.1) when "nack pli" was negotiated,
// else FIR (RFC 5104 §4.3.1) when "ccm fir" was, else nothing (the request is counted as
// unanswerable). Rate limited: at most one packet per `retryUs` (300 ms), and a request stays
// pending, repeated at that rate, until a key frame arrives; before the first key frame the
// rate is `startRetryUs` (200 ms, as Chromium re-asks at start). Each FIR sent carries the next
// command sequence number: a repeat is sent because the last one did not produce a key frame
// that arrived, so it is a new request in RFC 5104's sense (libwebrtc numbers them the same).
// A sender silent for `inactiveUs` (5 s, as libwebrtc) is not asked: a paused or vanished
// stream would otherwise get a request every 300 ms for as long as it stays silent. The
// request stays pending and goes out when its packets come back.
#pragma once

#include <cstdint>
#include <optional>

#include "media/stream_common.h"
#include "rtp/rtcp_psfb.h"

namespace kvs::media {

struct KeyFrameRequesterConfig {
  bool pli = false;
  bool fir = false;
  uint32_t senderSsrc = 0;  // ours
  uint32_t mediaSsrc = 0;   // the stream that should send the key frame
  int64_t retryUs = 300'000;
  int64_t startRetryUs = 200'000;
  int64_t inactiveUs = 5'000'000;
};

class KeyFrameRequester {
 public:
  explicit KeyFrameRequester(const KeyFrameRequesterConfig& config) : config_(config) {}

  // A key frame is wanted. The reason of the first request of a pending run is kept.
  void Request(KeyFrameRequestReason reason, int64_t nowUs);
  // A key frame arrived: nothing is pending any more.
  void OnKeyFrame();
  // A packet of the stream arrived (the sender is active).
  void OnPacket(int64_t nowUs);

  struct Packet {
    bool fir = false;
    rtp::Pli pli;
    rtp::Fir firPacket;
    KeyFrameRequestReason reason;
  };
  // The PLI or FIR to send now, if one is pending and the rate allows it.
  std::optional<Packet> Poll(int64_t nowUs);
  // When Poll next has something (INT64_MAX: nothing pending or nothing negotiated).
  int64_t NextUs() const;

  bool pending() const { return pending_; }
  bool canRequest() const { return config_.pli || config_.fir; }
  uint32_t pliSent() const { return pliSent_; }
  uint32_t firSent() const { return firSent_; }
  uint32_t requests() const { return requests_; }
  // Polls that found a request pending but the sender silent.
  uint32_t suppressedWhileInactive() const { return suppressed_; }

 private:
  KeyFrameRequesterConfig config_;
  bool pending_ = false;
  KeyFrameRequestReason reason_{};
  bool sentAny_ = false;
  int64_t lastSentUs_ = 0;
  bool keyFrameSeen_ = false;
  uint8_t firSequence_ = 0;
  uint32_t pliSent_ = 0;
  uint32_t firSent_ = 0;
  uint32_t requests_ = 0;
  bool packetSeen_ = false;
  int64_t lastPacketUs_ = 0;
  uint32_t suppressed_ = 0;
  bool dormant_ = false;  // a poll found the sender silent; NextUs waits for a packet
};

}  // namespace kvs::media
