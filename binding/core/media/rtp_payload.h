// The shapes shared by every RTP payload format (RFC 6184, 7798, 7741, 7587, 3551): what a
// packetizer produces for one outbound frame and what a depacketizer gives back for the
// payloads of one inbound frame. Pure: no I/O, no clocks, no RTP headers.
//
// Zero-copy contract. A frame is a SharedBytes, immutable once handed over. A payload never
// copies the frame's bytes: it references a slice of a shared buffer (the frame itself, or a
// small buffer a packetizer built for an aggregation packet or cached parameter sets) plus up
// to 8 inline prefix bytes (FU indicator and header, VP8 descriptor, ...). The retransmission
// history can keep payloads for seconds, and one frame can be packetized for many viewers,
// without a copy; WriteTo() is the one copy, onto the wire buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace kvs::media {

using SharedBytes = std::shared_ptr<const std::vector<uint8_t>>;

// Wraps bytes into a SharedBytes (a convenience for tests and for building small buffers).
SharedBytes MakeShared(std::vector<uint8_t> bytes);

struct RtpPayload {
  SharedBytes source;               // the frame, or a small buffer built by the packetizer
  uint32_t offset = 0, length = 0;  // the slice of *source carried after the prefix
  std::array<uint8_t, 8> prefix{};  // FU-A indicator+header, H.265 FU header, VP8 descriptor...
  uint8_t prefixSize = 0;
  // The RTP marker bit to send. Video: the last packet of the frame. Audio: always false (RFC
  // 3551 §4.1: a sender without silence suppression leaves it zero; one with DTX sets it on the
  // first packet of a talkspurt, which only it knows).
  bool marker = false;

  size_t size() const { return prefixSize + static_cast<size_t>(length); }
  // Writes size() bytes to out: the prefix, then the slice.
  void WriteTo(uint8_t* out) const;
  // The payload as one vector (tests, fuzzing; the send path uses WriteTo).
  std::vector<uint8_t> ToBytes() const;
  // The slice alone, as a span of *source.
  ByteSpan Slice() const;
};

// One per outbound stream: it keeps state across frames (SPS/PPS cache, VP8 PictureID).
class Packetizer {
 public:
  virtual ~Packetizer() = default;
  // Appends the payloads of one whole encoded frame to `out`, each at most maxPayload bytes
  // (the room left in an MTU-sized packet after the RTP header and extensions); the last one
  // has marker set for video. On error nothing is appended and the state is unchanged.
  virtual Status Packetize(const SharedBytes& frame, size_t maxPayload,
                           std::vector<RtpPayload>& out) = 0;
};

// A frame rebuilt from its payloads. H.264/H.265: Annex-B with 4-byte start codes. VP8: the
// frame without payload descriptors. Opus/G.711: the payload as is.
struct Frame {
  std::vector<uint8_t> data;
  bool keyFrame = false;  // IDR (H.264), IRAP (H.265), P bit 0 (VP8); every audio frame
};

// What the jitter buffer can learn from one payload alone, before the frame is complete.
struct PayloadInfo {
  // No payload bytes: a padding-only packet. Skip it (it is not an error, and Depacketize
  // skips empty payloads too); the other fields are false.
  bool empty = false;
  // The payload begins a NAL unit (single NAL, aggregation packet, first fragment), a VP8
  // partition (S=1) or an audio frame. A fragment that continues one is false.
  bool startsUnit = false;
  // The payload begins a frame, as far as one packet can tell. VP8: S=1 with PID 0, exactly
  // the first packet. H.264 and H.265: it begins with what only comes first in an access unit,
  // a parameter set, AUD or (prefix) SEI, or with the first slice of a picture
  // (first_mb_in_slice 0, first_slice_segment_in_pic_flag 1). So the parameter sets ahead of an
  // IDR and the IDR's first fragment may all say true: the frame starts at the first of them in
  // sequence order, and a frame whose earliest payload says false has lost its beginning (or
  // begins with a NAL unit type not listed here, such as an SVC prefix). Audio: always.
  bool startsFrame = false;
  // The payload carries (part of) a key frame: an IDR / IRAP NAL unit or a parameter set, a VP8
  // key frame's first packet, any audio payload. Other payloads of the same key frame may say
  // false (VP8 continuation packets); OR it over the frame.
  bool keyFrame = false;
};

// The receive side of one payload format. Stateless: one instance can serve every stream.
class Depacketizer {
 public:
  virtual ~Depacketizer() = default;
  // Rebuilds one frame from its payloads in sequence order. Empty payloads are skipped; a
  // frame with no payload bytes at all is ERR_MEDIA_EMPTY_FRAME. Malformed input is an error,
  // never a crash or a partial frame.
  virtual Result<Frame> Depacketize(const std::vector<ByteSpan>& payloadsInSeqOrder) const = 0;
  // Cheap, per packet. An error means the payload is malformed (the jitter buffer may drop it
  // early).
  virtual Result<PayloadInfo> Inspect(ByteSpan payload) const = 0;
};

}  // namespace kvs::media
