// The frames the media streams take from the app and hand back to it, in the C SDK's terms
// (c-sdk.md §2): timestamps in 100 ns units, the KEY_FRAME... flags.
#pragma once

#include <cstdint>
#include <vector>

#include "media/rtp_payload.h"

namespace kvs::media {

// Frame flags, as the C SDK's FRAME_FLAGS.
inline constexpr uint32_t kFrameFlagKeyFrame = 1;
inline constexpr uint32_t kFrameFlagDiscardable = 2;
inline constexpr uint32_t kFrameFlagInvisible = 4;
inline constexpr uint32_t kFrameFlagEndOfFragment = 8;

// One encoded frame to send (writeFrame). The bytes are shared, never copied: the packets and
// the retransmission history reference slices of `data` (rtp_payload.h), so it must not be
// changed after SendFrame (SharedBytes is const for that reason).
//
// H.264/H.265: one access unit, Annex-B or length-prefixed (told apart automatically). VP8: one
// frame. Opus: one packet (RFC 6716). G.711: the samples (one byte each).
struct EncodedFrame {
  SharedBytes data;
  // 100 ns units. The RTP timestamp comes from presentationTs (never from a fixed step):
  // (presentationTs - first presentationTs) at the codec's clock rate, plus a random offset.
  int64_t presentationTs = 0;
  int64_t decodingTs = 0;  // kept for the app's bookkeeping; WebRTC carries no B-frames
  int64_t duration = 0;
  // KEY_FRAME is advisory: for H.264, H.265 and VP8 the stream reads the bitstream (an IDR,
  // IRAP or VP8 key frame) and trusts that over the flag; for audio every frame is a key frame.
  uint32_t flags = 0;
  uint32_t index = 0;  // the app's frame counter; not sent
};

// One frame out of the jitter buffer (transceiverOnFrame).
struct ReceivedFrame {
  // H.264/H.265: Annex-B with 4-byte start codes. VP8: the frame without RTP descriptors.
  // Opus/G.711: the payload.
  std::vector<uint8_t> data;
  // 100 ns units since the stream's first RTP timestamp: (unwrapped RTP timestamp - the first
  // one) scaled from the clock rate. Unwrapped to 64 bits, so it keeps rising across the
  // 32-bit wrap.
  int64_t presentationTs = 0;
  int64_t decodingTs = 0;  // equal to presentationTs (no B-frames in WebRTC)
  uint32_t rtpTimestamp = 0;
  uint32_t flags = 0;  // kFrameFlagKeyFrame for IDR / IRAP / VP8 key frames and every audio frame
  uint32_t index = 0;  // 0, 1, 2... in emission order
  uint32_t ssrc = 0;
  // The frame's first packet arrival and when it left the jitter buffer (monotonic µs); their
  // difference is what jitterBufferDelay sums.
  int64_t firstArrivalUs = 0;
  int64_t emittedUs = 0;
};

}  // namespace kvs::media
