// What the media streams (send_stream.h, receive_stream.h) and their handlers share: the
// injected random source, the RTCP feedback a transceiver negotiated, the 100 ns time unit of
// the C SDK's frames, and the conversions between it and RTP clock units.
//
// Every handler here is a pure state machine: it keeps no clock and does no I/O. Each call
// carries `nowUs`, a monotonic time in microseconds (any origin, never going back); the SR
// path alone also takes the wall clock (`unixNowUs`, microseconds since the Unix epoch).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "sdp/codecs.h"

namespace kvs::media {

// Fills a buffer with random bytes (the same shape as ice::RandomSource, so the caller can pass
// the crypto source; tests pass a seeded one). Used for initial sequence numbers, timestamp
// offsets and report interval jitter: nothing here needs it to be secret.
using RandomSource = std::function<void(uint8_t* out, size_t length)>;
uint32_t RandomU32(const RandomSource& random);
// Uniform in [lo, hi] (hi >= lo).
int64_t RandomBetween(const RandomSource& random, int64_t lo, int64_t hi);

// The a=rtcp-fb values negotiated for the payload type (RFC 4585 §4.2, RFC 5104 §7.1,
// draft-alvestrand-rmcat-remb, draft-holmer-rmcat-transport-wide-cc-extensions).
struct RtcpFeedback {
  bool nack = false;         // "nack": generic NACK, retransmissions
  bool pli = false;          // "nack pli"
  bool fir = false;          // "ccm fir"
  bool remb = false;         // "goog-remb"
  bool transportCc = false;  // "transport-cc"
};

// Why a receive stream gave up on a frame, or asked for a key frame (ReceiveStream events).
enum class FrameDropReason {
  kIncomplete,          // still missing packets at its deadline, or skipped for a key frame
  kWaitingForKeyFrame,  // complete, but a frame it depends on was lost
  kOverflow,            // pushed out to keep the buffer within its packet or byte bound
  kUndecodable,         // the depacketizer refused it (malformed payloads)
};
const char* ToString(FrameDropReason reason);

enum class KeyFrameRequestReason {
  kStart,             // no key frame yet
  kFrameDropped,      // a frame was lost for good
  kNackOverflow,      // too many packets missing to repair (over 1000)
  kNoDecodableFrame,  // nothing decodable for noDecodableFrameUs
  kApp,               // RequestKeyFrame
};
const char* ToString(KeyFrameRequestReason reason);

// The C SDK's frame time unit (c-sdk.md §2): presentationTs, decodingTs and duration count
// 100 ns.
inline constexpr int64_t kHundredNsPerSecond = 10'000'000;
inline constexpr int64_t kMicrosPerSecond = 1'000'000;

// The RTP clock rate of a codec: 90 kHz video, 48 kHz Opus, 8 kHz G.711 (sdp::InfoOf).
uint32_t DefaultClockRate(sdp::Codec codec);
bool IsVideo(sdp::Codec codec);

// `ticks` of a `fromRate` Hz clock in `toRate` Hz units, rounded toward minus infinity, exact
// over the whole int64 range that the result fits (no intermediate overflow).
int64_t RescaleTicks(int64_t ticks, int64_t fromRate, int64_t toRate);

}  // namespace kvs::media
