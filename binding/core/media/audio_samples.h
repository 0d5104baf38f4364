// How many samples one audio payload carries, for the totalSamplesReceived stat (and
// jitterBufferEmittedCount, which counts samples for audio): per channel, at the RTP clock.
// Opus from its TOC byte (RFC 6716 §3.1: the configuration's frame duration times the frame
// count of code 0-3), G.711 from its size (one byte per sample).
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/status.h"
#include "sdp/codecs.h"

namespace kvs::media {

// Samples at 48 kHz. ERR_OPUS_TRUNCATED for an empty packet or a code 3 packet without its
// frame count byte; ERR_OPUS_INVALID for a frame count of 0 or more than 120 ms of audio
// (RFC 6716 R5).
Result<uint32_t> OpusPacketSamples(ByteSpan packet);

// The samples of a payload of `codec` (an audio codec); 0 for video.
Result<uint32_t> AudioPayloadSamples(sdp::Codec codec, ByteSpan payload);

}  // namespace kvs::media
