// A transceiver: one audio or video m-line, what the app asked for, what negotiation agreed,
// and the media streams that carry it (media/send_stream.h, media/receive_stream.h). Owned by
// the PeerConnection, addressed by its index; loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/receive_stream.h"
#include "media/send_stream.h"
#include "sdp/codecs.h"
#include "sdp/negotiate.h"
#include "sdp/session_description.h"

namespace kvs::pc {

struct TransceiverInit {
  sdp::MediaKind kind = sdp::MediaKind::kVideo;
  std::vector<sdp::Codec> codecs;  // empty: the C SDK's defaults for the kind
  sdp::Direction direction = sdp::Direction::kSendRecv;
  std::string trackId;
  std::string streamId;
};

inline bool Sends(sdp::Direction d) {
  return d == sdp::Direction::kSendRecv || d == sdp::Direction::kSendOnly;
}
inline bool Receives(sdp::Direction d) {
  return d == sdp::Direction::kSendRecv || d == sdp::Direction::kRecvOnly;
}

struct Transceiver {
  size_t index = 0;
  TransceiverInit init;
  std::string mid;  // assigned by the first description that carries it
  uint32_t ssrc = 0;
  uint32_t rtxSsrc = 0;
  // Made for a remote offer's m-line that no transceiver of ours matched (W3C: the `track`
  // event); addTransceiver in have-remote-offer adopts it until the app has claimed it.
  bool createdByRemote = false;
  bool claimed = true;
  std::optional<sdp::Direction> negotiatedDirection;  // from our side
  std::vector<sdp::NegotiatedCodec> negotiatedCodecs;
  sdp::RtpParameters rtp;                    // what the answer agreed
  std::vector<sdp::RemoteSsrc> remoteSsrcs;  // what the peer announced
  media::RollingBufferConfig rollingBuffer;  // configureTransceiverRollingBuffer

  std::unique_ptr<media::SendStream> send;
  // One per remote SSRC (normally one; a peer may switch SSRC, e.g. after a track change).
  std::vector<std::unique_ptr<media::ReceiveStream>> receive;
  // The receive configuration shared by every stream of this transceiver (remoteSsrc apart).
  std::optional<media::ReceiveStreamConfig> receiveTemplate;

  bool sending() const { return negotiatedDirection && Sends(*negotiatedDirection) && send; }
  bool receiving() const { return negotiatedDirection && Receives(*negotiatedDirection); }
};

}  // namespace kvs::pc
