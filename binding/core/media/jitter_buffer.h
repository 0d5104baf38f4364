// The jitter buffer of a ReceiveStream: packets in, whole frames out, in order.
//
// Packets are kept by unwrapped sequence number in a ring (sequence modulo capacity; no map,
// no copy: the datagram vector is moved in and its payload referenced in place). A frame is
// the packets of one RTP timestamp; it is complete when its packets are contiguous from its
// first (a packet whose PayloadInfo::startsFrame says so, or the one right after the previous
// frame's last packet) to its marker (or to the packet before the next timestamp). Complete
// frames leave in sequence order, depacketized (Annex-B for H.264/H.265), with presentationTs
// in 100 ns since the first frame emitted (the unwrapped RTP timestamp, so it keeps rising
// across the 32-bit wrap) and KEY_FRAME set for key frames. Audio: every packet is a frame.
// Padding-only packets hold their place (so that loss is not assumed) and carry no media.
//
// Nothing stalls behind a lost packet. When frames wait behind a gap or an incomplete frame,
// the oldest held packet's arrival + `missingWaitUs` is the deadline: past it the frame at the
// head is given up (counted in framesDropped and reported), the buffer moves past it and goes
// on with what follows. `missingWaitUs` is the maximum latency when NACK can still fill the
// gap, a short reorder window when it cannot (the ReceiveStream picks).
//
// Video only: after a frame is given up, and at the start, a frame can only be decoded from a
// key frame on. Complete frames before one are withheld (dropped, kWaitingForKeyFrame) and
// keyFrameNeeded is set for the stream to ask for one; while waiting, a complete key frame
// further on is jumped to at once (what lies before it would be withheld anyway), provided the
// packet before it arrived (else that packet may be the key frame's own SPS/PPS, which a
// repair may still bring; at its deadline it starts from what it has). For
// H.264/H.265 a key frame counts only once its SPS and PPS have been seen, in it or before
// (media-facts.md: an IDR whose parameter sets the decoder lacks shows nothing).
//
// Bounded in packets (a power of two) and bytes: a packet that does not fit pushes out the
// frames at the head (kOverflow). A sequence number jump beyond the capacity starts over.
// Duplicates are counted and dropped; packets behind the head (already emitted or given up)
// are late: counted in packetsDiscarded and dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "media/media_frame.h"
#include "media/rtp_payload.h"
#include "media/stream_common.h"
#include "sdp/codecs.h"

namespace kvs::media {

struct JitterBufferConfig {
  sdp::Codec codec = sdp::Codec::kH264;
  uint32_t clockRate = 90000;
  int64_t missingWaitUs = 2'000'000;
  size_t maxPackets = 2048;
  size_t maxBytes = 8 << 20;
};

struct DroppedFrame {
  uint32_t rtpTimestamp = 0;
  bool timestampKnown = true;  // false: every packet of it was lost
  FrameDropReason reason = FrameDropReason::kIncomplete;
};

struct JitterBufferOutput {
  std::vector<ReceivedFrame> frames;
  std::vector<DroppedFrame> dropped;
  bool keyFrameNeeded = false;  // the buffer is waiting for a key frame it has not had
  bool keyFrameEmitted = false;

  void Clear() {
    frames.clear();
    dropped.clear();
    keyFrameNeeded = false;
    keyFrameEmitted = false;
  }
};

class JitterBuffer {
 public:
  enum class InsertResult { kStored, kDuplicate, kLate };

  JitterBuffer(const JitterBufferConfig& config, const Depacketizer& depacketizer);

  // One packet: `sequence` and `timestamp` unwrapped, the payload at [payloadOffset,
  // payloadOffset + payloadSize) of `datagram` (empty for padding only). A payload that
  // Inspect refuses is held like any other, and spoils its frame (kUndecodable). Emits what
  // becomes complete and gives up what is past its deadline at nowUs.
  InsertResult Insert(int64_t sequence, int64_t timestamp, bool marker,
                      std::vector<uint8_t>&& datagram, size_t payloadOffset, size_t payloadSize,
                      int64_t nowUs, JitterBufferOutput& out);
  // Gives up what is past its deadline (and emits what follows).
  void Tick(int64_t nowUs, JitterBufferOutput& out);
  // The next deadline (INT64_MAX when nothing is held).
  int64_t NextDeadlineUs();

  // The first sequence number neither emitted nor given up: nothing before it is wanted.
  int64_t head() const { return head_; }
  bool started() const { return started_; }
  bool waitingForKeyFrame() const { return waitingForKey_; }
  size_t heldPackets() const { return held_; }
  size_t heldBytes() const { return bytes_; }
  // A datagram buffer freed by an emitted frame (capacity kept), or an empty vector.
  std::vector<uint8_t> TakeSpareBuffer();

  struct Stats {
    uint64_t framesEmitted = 0;
    uint64_t framesReceived = 0;     // complete frames assembled (emitted or withheld)
    uint64_t keyFramesReceived = 0;  // of which key frames
    uint64_t framesDropped = 0;
    uint64_t packetsDuplicated = 0;
    uint64_t packetsLate = 0;
    uint64_t packetsMalformed = 0;
    double delaySeconds = 0;     // jitterBufferDelay (per sample for audio)
    uint64_t emittedCount = 0;   // jitterBufferEmittedCount (samples for audio)
    uint64_t keyFrameSkips = 0;  // times the buffer jumped ahead to a complete key frame
  };
  const Stats& stats() const { return stats_; }
  // From the last SPS / VP8 key frame in the frames assembled (0 until one was seen).
  uint32_t frameWidth() const { return width_; }
  uint32_t frameHeight() const { return height_; }

 private:
  struct Slot {
    int64_t sequence = INT64_MIN;
    bool held = false;      // in the buffer now
    bool received = false;  // arrived at some point (tells a duplicate from a late packet)
    bool padding = false;
    bool marker = false;
    bool startsFrame = false;
    bool keyFrame = false;
    bool malformed = false;
    int64_t timestamp = 0;
    int64_t arrivalUs = 0;
    std::vector<uint8_t> datagram;
    uint32_t payloadOffset = 0;
    uint32_t payloadSize = 0;
  };

  Slot& At(int64_t sequence) { return ring_[static_cast<size_t>(sequence) & mask_]; }
  bool Held(int64_t sequence) {
    const Slot& s = At(sequence);
    return s.held && s.sequence == sequence;
  }
  void Free(int64_t sequence);
  void Assemble(int64_t nowUs, JitterBufferOutput& out);
  void CheckDeadlines(int64_t nowUs, JitterBufferOutput& out);
  void GiveUpHead(FrameDropReason reason, JitterBufferOutput& out);
  bool SkipToKeyFrame(JitterBufferOutput& out);
  void DropRange(int64_t from, int64_t to, FrameDropReason reason, JitterBufferOutput& out);
  void Emit(int64_t first, int64_t last, int64_t nowUs, JitterBufferOutput& out);
  void Drop(uint32_t rtpTimestamp, bool known, FrameDropReason reason, JitterBufferOutput& out);
  void StartWaitingForKeyFrame(JitterBufferOutput& out);
  // A frame of this timestamp was emitted or given up: later packets of it are stragglers.
  void Resolved(int64_t timestamp);
  bool KeyFrameUsable(const Frame& frame);
  void Reset(int64_t sequence, JitterBufferOutput& out);

  JitterBufferConfig config_;
  const Depacketizer& depacketizer_;
  bool video_;
  std::vector<Slot> ring_;
  size_t mask_ = 0;

  bool started_ = false;
  bool resolvedAny_ = false;  // something emitted or given up: the head no longer moves back
  int64_t head_ = 0;
  int64_t newest_ = -1;
  int64_t scan_ = 0;  // how far the head frame is known to be contiguous
  bool headIsFrameStart_ = false;
  size_t held_ = 0;
  size_t bytes_ = 0;
  bool blockedDirty_ = true;
  int64_t blockedSinceUs_ = 0;
  bool keyCandidate_ = false;  // a key or marker packet arrived since the last skip check
  bool haveResolvedTs_ = false;
  int64_t lastResolvedTs_ = 0;

  bool waitingForKey_;
  bool haveParameterSets_ = false;
  bool haveFirstTimestamp_ = false;
  int64_t firstTimestamp_ = 0;
  uint32_t width_ = 0, height_ = 0;

  std::vector<ByteSpan> spans_;  // reused per frame
  std::vector<std::vector<uint8_t>> spares_;
  Stats stats_;
};

}  // namespace kvs::media
