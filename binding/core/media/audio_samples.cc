#include "media/audio_samples.h"

#include <string>

namespace kvs::media {

Result<uint32_t> OpusPacketSamples(ByteSpan packet) {
  if (packet.size == 0) return Status::Fail("ERR_OPUS_TRUNCATED", "empty Opus packet");
  const unsigned config = packet.data[0] >> 3;
  // Frame durations in 1/48000 s (RFC 6716 Table 2): SILK 10/20/40/60 ms, Hybrid 10/20 ms,
  // CELT 2.5/5/10/20 ms.
  static constexpr uint32_t kSilk[4] = {480, 960, 1920, 2880};
  static constexpr uint32_t kHybrid[2] = {480, 960};
  static constexpr uint32_t kCelt[4] = {120, 240, 480, 960};
  const uint32_t frameSamples = config < 12   ? kSilk[config % 4]
                                : config < 16 ? kHybrid[config % 2]
                                              : kCelt[config % 4];
  uint32_t frames = 1;
  switch (packet.data[0] & 3) {
    case 0:
      frames = 1;
      break;
    case 1:
    case 2:
      frames = 2;
      break;
    default:
      if (packet.size < 2) {
        return Status::Fail("ERR_OPUS_TRUNCATED", "Opus code 3 packet without its frame count");
      }
      frames = packet.data[1] & 0x3Fu;
      if (frames == 0) return Status::Fail("ERR_OPUS_INVALID", "Opus code 3 packet of 0 frames");
      break;
  }
  const uint32_t total = frames * frameSamples;
  if (total > 5760) {  // 120 ms
    return Status::Fail("ERR_OPUS_INVALID",
                        "Opus packet of " + std::to_string(frames) + " frames lasts over 120 ms");
  }
  return total;
}

Result<uint32_t> AudioPayloadSamples(sdp::Codec codec, ByteSpan payload) {
  switch (codec) {
    case sdp::Codec::kOpus:
      return OpusPacketSamples(payload);
    case sdp::Codec::kPcmu:
    case sdp::Codec::kPcma:
      return static_cast<uint32_t>(payload.size);
    default:
      return uint32_t{0};
  }
}

}  // namespace kvs::media
