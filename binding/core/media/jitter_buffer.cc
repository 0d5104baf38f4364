#include "media/jitter_buffer.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "media/audio_samples.h"
#include "media/video_size.h"

namespace kvs::media {

namespace {

constexpr size_t kMinCapacity = 16;
constexpr size_t kMaxSpares = 32;
// A packet older than what was already emitted is a straggler, unless it is this far behind:
// then the sender restarted its timestamps, and the buffer follows it.
constexpr int64_t kTimestampRestartSeconds = 10;

// The next 00 00 01 at or after `from` (n if none); memchr finds the 01 bytes fast.
size_t FindStartCode(const uint8_t* d, size_t n, size_t from) {
  size_t i = from + 2;
  while (i < n) {
    const void* p = std::memchr(d + i, 1, n - i);
    if (p == nullptr) return n;
    const auto j = static_cast<size_t>(static_cast<const uint8_t*>(p) - d);
    if (d[j - 1] == 0 && d[j - 2] == 0) return j - 2;
    i = j + 1;
  }
  return n;
}

// Calls fn(nal, type) for the NAL units of an Annex-B frame up to its first slice: where
// parameter sets stand. A frame of 100 KB is not scanned past its first few bytes.
template <typename Fn>
void ForEachLeadingNal(const std::vector<uint8_t>& frame, bool h265, Fn&& fn) {
  const uint8_t* d = frame.data();
  const size_t n = frame.size();
  size_t at = FindStartCode(d, n, 0);
  while (at < n) {
    const size_t begin = at + 3;
    const size_t next = FindStartCode(d, n, begin);
    size_t end = next;
    while (end > begin && d[end - 1] == 0) --end;  // zeros before a start code are not the NAL's
    if (end > begin) {
      const unsigned type = h265 ? (d[begin] >> 1) & 0x3Fu : d[begin] & 0x1Fu;
      if (h265 ? type < 32 : (type >= 1 && type <= 5)) return;
      fn(ByteSpan(d + begin, end - begin), type);
    }
    at = next;
  }
}

size_t PowerOfTwoAtLeast(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace

JitterBuffer::JitterBuffer(const JitterBufferConfig& config, const Depacketizer& depacketizer)
    : config_(config), depacketizer_(depacketizer), video_(IsVideo(config.codec)) {
  ring_.resize(PowerOfTwoAtLeast(std::max(config_.maxPackets, kMinCapacity)));
  mask_ = ring_.size() - 1;
  waitingForKey_ = video_;
  spans_.reserve(256);
}

std::vector<uint8_t> JitterBuffer::TakeSpareBuffer() {
  if (spares_.empty()) return {};
  std::vector<uint8_t> b = std::move(spares_.back());
  spares_.pop_back();
  return b;
}

JitterBuffer::InsertResult JitterBuffer::Insert(int64_t sequence, int64_t timestamp, bool marker,
                                                std::vector<uint8_t>&& datagram,
                                                size_t payloadOffset, size_t payloadSize,
                                                int64_t nowUs, JitterBufferOutput& out) {
  const auto capacity = static_cast<int64_t>(ring_.size());
  PayloadInfo info;
  bool malformed = false;
  bool padding = payloadSize == 0;
  if (!padding) {
    auto r = depacketizer_.Inspect(ByteSpan(datagram).sub(payloadOffset, payloadSize));
    if (r.ok()) {
      info = r.value();
    } else {
      malformed = true;
      ++stats_.packetsMalformed;
    }
  }

  if (!started_) {
    started_ = true;
    head_ = scan_ = sequence;
    newest_ = sequence - 1;
    headIsFrameStart_ = !video_ || info.startsFrame;
  } else if (sequence < head_) {
    const Slot& s = At(sequence);
    if (s.sequence == sequence && s.received) {
      ++stats_.packetsDuplicated;
      return InsertResult::kDuplicate;
    }
    if (!resolvedAny_ && newest_ - sequence < capacity) {
      // Reordered ahead of the first packet, before anything left: the frame may start here.
      head_ = scan_ = sequence;
      headIsFrameStart_ = !video_ || info.startsFrame;
      blockedDirty_ = true;
    } else {
      ++stats_.packetsLate;
      return InsertResult::kLate;
    }
  }
  if (Held(sequence)) {
    ++stats_.packetsDuplicated;
    return InsertResult::kDuplicate;
  }
  // A packet of a frame already emitted or given up (a repaired tail of a dropped frame, a
  // stray copy): it holds its place, so that the frame behind it is not kept waiting, and
  // carries nothing.
  if (haveResolvedTs_ && timestamp <= lastResolvedTs_ && !padding) {
    const int64_t restart = kTimestampRestartSeconds * int64_t{config_.clockRate};
    if (lastResolvedTs_ - timestamp > restart) {
      lastResolvedTs_ = timestamp - 1;  // the sender started over
    } else {
      ++stats_.packetsLate;
      padding = true;
    }
  }
  if (sequence - head_ >= capacity) {
    if (sequence - std::max(newest_, head_) >= capacity) {
      Reset(sequence, out);
      headIsFrameStart_ = !video_ || info.startsFrame;
    } else {
      while (sequence - head_ >= capacity && held_ > 0) GiveUpHead(FrameDropReason::kOverflow, out);
      if (sequence - head_ >= capacity) {
        head_ = scan_ = sequence;
        headIsFrameStart_ = !video_ || info.startsFrame;
      }
    }
  }

  Slot& s = At(sequence);
  if (held_ == 0) blockedDirty_ = true;
  s.sequence = sequence;
  s.held = true;
  s.received = true;
  s.padding = padding;
  s.marker = marker;
  s.startsFrame = !padding && info.startsFrame;
  s.keyFrame = !padding && info.keyFrame;
  s.malformed = malformed;
  s.timestamp = timestamp;
  s.arrivalUs = nowUs;
  s.payloadOffset = static_cast<uint32_t>(payloadOffset);
  s.payloadSize = static_cast<uint32_t>(payloadSize);
  bytes_ += datagram.size();
  s.datagram = std::move(datagram);
  ++held_;
  newest_ = std::max(newest_, sequence);
  if (s.keyFrame || marker) keyCandidate_ = true;
  while (bytes_ > config_.maxBytes && held_ > 1) GiveUpHead(FrameDropReason::kOverflow, out);

  Assemble(nowUs, out);
  CheckDeadlines(nowUs, out);
  return InsertResult::kStored;
}

void JitterBuffer::Tick(int64_t nowUs, JitterBufferOutput& out) {
  Assemble(nowUs, out);
  CheckDeadlines(nowUs, out);
}

int64_t JitterBuffer::NextDeadlineUs() {
  if (held_ == 0) return INT64_MAX;
  if (blockedDirty_) {
    blockedSinceUs_ = INT64_MAX;
    for (int64_t i = head_; i <= newest_; ++i) {
      if (Held(i)) blockedSinceUs_ = std::min(blockedSinceUs_, At(i).arrivalUs);
    }
    blockedDirty_ = false;
  }
  return blockedSinceUs_ + config_.missingWaitUs;
}

void JitterBuffer::Free(int64_t sequence) {
  Slot& s = At(sequence);
  if (!s.held || s.sequence != sequence) return;
  bytes_ -= s.datagram.size();
  --held_;
  s.held = false;
  if (s.datagram.capacity() != 0 && spares_.size() < kMaxSpares) {
    s.datagram.clear();
    spares_.push_back(std::move(s.datagram));
  }
  s.datagram = std::vector<uint8_t>();
  blockedDirty_ = true;
}

void JitterBuffer::Assemble(int64_t nowUs, JitterBufferOutput& out) {
  for (;;) {
    while (head_ <= newest_ && Held(head_) && At(head_).padding) {
      Free(head_);
      ++head_;
    }
    if (head_ > newest_ || !Held(head_)) return;
    const Slot& h = At(head_);
    if (!headIsFrameStart_) {
      if (h.startsFrame) {
        headIsFrameStart_ = true;
      } else if (!resolvedAny_) {
        return;  // at the start: the first packets may still come, reordered
      } else {
        GiveUpHead(FrameDropReason::kIncomplete, out);
        continue;
      }
    }
    if (!video_) {
      Emit(head_, head_, nowUs, out);
      continue;
    }
    if (scan_ < head_) scan_ = head_;
    int64_t end = -1;
    int64_t i = scan_;
    for (; i <= newest_; ++i) {
      if (!Held(i)) break;
      const Slot& x = At(i);
      if (x.padding) continue;
      if (x.timestamp != h.timestamp) {
        end = i - 1;
        break;
      }
      if (x.marker) {
        end = i;
        break;
      }
    }
    if (end < 0) {
      scan_ = i;
      return;
    }
    Emit(head_, end, nowUs, out);
  }
}

void JitterBuffer::CheckDeadlines(int64_t nowUs, JitterBufferOutput& out) {
  while (held_ > 0) {
    if (video_ && waitingForKey_ && keyCandidate_) {
      keyCandidate_ = false;
      if (SkipToKeyFrame(out)) {
        Assemble(nowUs, out);
        continue;
      }
    }
    if (nowUs < NextDeadlineUs()) return;
    GiveUpHead(FrameDropReason::kIncomplete, out);
    Assemble(nowUs, out);
  }
}

void JitterBuffer::Drop(uint32_t rtpTimestamp, bool known, FrameDropReason reason,
                        JitterBufferOutput& out) {
  ++stats_.framesDropped;
  out.dropped.push_back({rtpTimestamp, known, reason});
}

void JitterBuffer::StartWaitingForKeyFrame(JitterBufferOutput& out) {
  if (!video_) return;
  waitingForKey_ = true;
  out.keyFrameNeeded = true;
}

void JitterBuffer::Resolved(int64_t timestamp) {
  resolvedAny_ = true;
  if (!haveResolvedTs_ || timestamp > lastResolvedTs_) lastResolvedTs_ = timestamp;
  haveResolvedTs_ = true;
}

void JitterBuffer::GiveUpHead(FrameDropReason reason, JitterBufferOutput& out) {
  resolvedAny_ = true;
  int64_t i = head_;
  while (i <= newest_ && !Held(i)) ++i;
  if (i > newest_) return;  // nothing held: nothing to give up
  const Slot& first = At(i);
  if (!video_) {
    if (i == head_) {  // the packet at the head itself must go (overflow)
      Drop(static_cast<uint32_t>(first.timestamp), true, reason, out);
      Resolved(first.timestamp);
      Free(i);
      ++i;
    }
    head_ = scan_ = i;  // audio packets lost in the gap: the decoder conceals them
    headIsFrameStart_ = true;
    return;
  }
  if (i > head_ && first.startsFrame) {
    // The gap ends where a frame starts. After a whole frame it was one or more frames that
    // never arrived; after a frame given up without its end it may only be that end.
    if (headIsFrameStart_) Drop(0, false, reason, out);
    head_ = scan_ = i;
    headIsFrameStart_ = true;
    StartWaitingForKeyFrame(out);
    return;
  }
  // Give up the frame of the first held packet: all its held packets, up to the last one.
  const int64_t ts = first.timestamp;
  int64_t last = i;
  for (int64_t j = i; j <= newest_; ++j) {
    if (!Held(j)) continue;
    const Slot& s = At(j);
    if (s.padding) continue;
    if (s.timestamp != ts) break;
    last = j;
  }
  for (int64_t j = i; j <= last; ++j) Free(j);
  Drop(static_cast<uint32_t>(ts), true, reason, out);
  Resolved(ts);
  headIsFrameStart_ = At(last).marker;
  head_ = scan_ = last + 1;
  // A gap right after it may be its lost tail or the next frame's start (for an IDR, the
  // STAP-A with SPS/PPS): wait for a repair, or for the deadline of what follows.
  StartWaitingForKeyFrame(out);
}

void JitterBuffer::DropRange(int64_t from, int64_t to, FrameDropReason reason,
                             JitterBufferOutput& out) {
  bool any = false;
  int64_t lastTs = 0;
  for (int64_t j = from; j < to; ++j) {
    if (!Held(j)) continue;
    const Slot& s = At(j);
    if (!s.padding && (!any || s.timestamp != lastTs)) {
      Drop(static_cast<uint32_t>(s.timestamp), true, reason, out);
      Resolved(s.timestamp);
      lastTs = s.timestamp;
      any = true;
    }
    Free(j);
  }
  if (!any && to > from) Drop(0, false, reason, out);
  resolvedAny_ = true;
}

bool JitterBuffer::SkipToKeyFrame(JitterBufferOutput& out) {
  // A key frame being assembled at the head (waiting for a repair) is worth the wait: delta
  // frames behind it are no reason to ask for another.
  const bool keyAtHead = Held(head_) && At(head_).startsFrame && At(head_).keyFrame;
  for (int64_t k = head_ + 1; k <= newest_; ++k) {
    if (!Held(k)) continue;
    const Slot& c = At(k);
    if (c.padding || !c.startsFrame) continue;
    if (!c.keyFrame) {
      if (!keyAtHead) out.keyFrameNeeded = true;  // a delta frame that cannot be used: ask
      continue;
    }
    // Only a start whose predecessor is known: a missing one may be this frame's own first
    // packet (SPS/PPS ahead of the IDR), which a repair may still bring.
    const Slot& p = At(k - 1);
    if (p.sequence != k - 1 || !p.received) continue;
    if (p.held && !p.padding && p.timestamp == c.timestamp && !p.marker) continue;
    // Complete from k to its marker (or the next timestamp)?
    bool complete = false;
    for (int64_t i = k; i <= newest_; ++i) {
      if (!Held(i)) break;
      const Slot& x = At(i);
      if (x.padding) continue;
      if (x.timestamp != c.timestamp || x.marker) {
        complete = true;
        break;
      }
    }
    if (!complete) continue;
    DropRange(head_, k, FrameDropReason::kWaitingForKeyFrame, out);
    head_ = scan_ = k;
    headIsFrameStart_ = true;
    ++stats_.keyFrameSkips;
    return true;
  }
  return false;
}

void JitterBuffer::Reset(int64_t sequence, JitterBufferOutput& out) {
  if (held_ > 0) DropRange(head_, newest_ + 1, FrameDropReason::kOverflow, out);
  head_ = scan_ = sequence;
  newest_ = sequence - 1;
  resolvedAny_ = true;
  StartWaitingForKeyFrame(out);
}

bool JitterBuffer::KeyFrameUsable(const Frame& frame) {
  switch (config_.codec) {
    case sdp::Codec::kH264:
    case sdp::Codec::kH265: {
      const bool h265 = config_.codec == sdp::Codec::kH265;
      bool vps = !h265, sps = false, pps = false;
      ForEachLeadingNal(frame.data, h265, [&](ByteSpan nal, unsigned type) {
        if (h265 && type == 32) vps = true;
        if (type == (h265 ? 33u : 7u)) {
          sps = true;
          auto size = h265 ? ParseH265SpsSize(nal) : ParseH264SpsSize(nal);
          if (size.ok()) {
            width_ = size.value().width;
            height_ = size.value().height;
          }
        }
        if (type == (h265 ? 34u : 8u)) pps = true;
      });
      if (vps && sps && pps) haveParameterSets_ = true;
      return haveParameterSets_;
    }
    case sdp::Codec::kVp8: {
      auto size = ParseVp8FrameSize(frame.data);
      if (size.ok()) {
        width_ = size.value().width;
        height_ = size.value().height;
      }
      return true;
    }
    default:
      return true;
  }
}

void JitterBuffer::Emit(int64_t first, int64_t last, int64_t nowUs, JitterBufferOutput& out) {
  spans_.clear();
  bool malformed = false;
  int64_t firstArrival = INT64_MAX;
  const int64_t ts = At(first).timestamp;
  for (int64_t i = first; i <= last; ++i) {
    if (!Held(i)) continue;
    const Slot& s = At(i);
    firstArrival = std::min(firstArrival, s.arrivalUs);
    if (s.padding) continue;
    malformed = malformed || s.malformed;
    spans_.push_back(ByteSpan(s.datagram).sub(s.payloadOffset, s.payloadSize));
  }
  Result<Frame> frame = malformed
                            ? Result<Frame>(Status::Fail("ERR_MEDIA_MALFORMED", "bad payload"))
                            : depacketizer_.Depacketize(spans_);
  for (int64_t i = first; i <= last; ++i) Free(i);
  head_ = scan_ = last + 1;
  headIsFrameStart_ = true;
  Resolved(ts);

  if (!frame.ok()) {
    Drop(static_cast<uint32_t>(ts), true, FrameDropReason::kUndecodable, out);
    StartWaitingForKeyFrame(out);
    return;
  }
  Frame& f = frame.value();
  bool usable = true;
  if (video_) {
    ++stats_.framesReceived;
    if (f.keyFrame) ++stats_.keyFramesReceived;
    usable = f.keyFrame && KeyFrameUsable(f);
    if (waitingForKey_ && !usable) {
      Drop(static_cast<uint32_t>(ts), true, FrameDropReason::kWaitingForKeyFrame, out);
      StartWaitingForKeyFrame(out);
      return;
    }
    if (usable) {
      waitingForKey_ = false;
      out.keyFrameEmitted = true;
    }
  }
  if (!haveFirstTimestamp_) {
    haveFirstTimestamp_ = true;
    firstTimestamp_ = ts;
  }
  ReceivedFrame r;
  r.presentationTs = RescaleTicks(ts - firstTimestamp_, config_.clockRate, kHundredNsPerSecond);
  r.decodingTs = r.presentationTs;
  r.rtpTimestamp = static_cast<uint32_t>(ts);
  r.flags = f.keyFrame ? kFrameFlagKeyFrame : 0;
  r.index = static_cast<uint32_t>(stats_.framesEmitted++);
  r.firstArrivalUs = firstArrival;
  r.emittedUs = nowUs;
  uint64_t count = 1;
  if (!video_) {
    auto samples = AudioPayloadSamples(config_.codec, f.data);
    count = samples.ok() ? samples.value() : 0;
  }
  stats_.delaySeconds +=
      static_cast<double>(nowUs - firstArrival) / 1e6 * static_cast<double>(count);
  stats_.emittedCount += count;
  r.data = std::move(f.data);
  out.frames.push_back(std::move(r));
}

}  // namespace kvs::media
