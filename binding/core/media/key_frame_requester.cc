#include "media/key_frame_requester.h"

#include <climits>

namespace kvs::media {

void KeyFrameRequester::Request(KeyFrameRequestReason reason, int64_t) {
  if (!pending_) {
    pending_ = true;
    reason_ = reason;
    ++requests_;
  }
}

void KeyFrameRequester::OnKeyFrame() {
  pending_ = false;
  keyFrameSeen_ = true;
}

void KeyFrameRequester::OnPacket(int64_t nowUs) {
  packetSeen_ = true;
  lastPacketUs_ = nowUs;
  dormant_ = false;
}

int64_t KeyFrameRequester::NextUs() const {
  if (!pending_ || !canRequest() || dormant_) return INT64_MAX;
  if (!sentAny_) return INT64_MIN;
  return lastSentUs_ + (keyFrameSeen_ ? config_.retryUs : config_.startRetryUs);
}

std::optional<KeyFrameRequester::Packet> KeyFrameRequester::Poll(int64_t nowUs) {
  if (nowUs < NextUs() || NextUs() == INT64_MAX) return std::nullopt;
  if (packetSeen_ && nowUs - lastPacketUs_ >= config_.inactiveUs) {
    ++suppressed_;
    dormant_ = true;  // nothing to do until a packet comes (OnPacket)
    return std::nullopt;
  }
  Packet p;
  p.reason = reason_;
  if (config_.pli) {
    p.pli = {config_.senderSsrc, config_.mediaSsrc};
    ++pliSent_;
  } else {
    p.fir = true;
    p.firPacket.senderSsrc = config_.senderSsrc;
    p.firPacket.entries.push_back({config_.mediaSsrc, firSequence_++});
    ++firSent_;
  }
  sentAny_ = true;
  lastSentUs_ = nowUs;
  return p;
}

}  // namespace kvs::media
