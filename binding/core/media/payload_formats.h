// The packetizer and depacketizer of each negotiated codec, for the media handlers.
#pragma once

#include <memory>

#include "media/rtp_payload.h"
#include "sdp/codecs.h"

namespace kvs::media {

// A fresh packetizer (one per outbound stream: it keeps per-stream state) with default
// options: Annex-B or length-prefixed input told apart automatically, STAP-A/AP aggregation
// and parameter set repetition on, VP8 PictureID from `initialPictureId`.
std::unique_ptr<Packetizer> MakePacketizer(sdp::Codec codec, uint16_t initialPictureId = 0);

// A depacketizer (stateless; one may serve many streams).
std::unique_ptr<Depacketizer> MakeDepacketizer(sdp::Codec codec);

}  // namespace kvs::media
