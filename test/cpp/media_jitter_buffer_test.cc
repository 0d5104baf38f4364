// The jitter buffer: in-order and reordered assembly of real H.264 frames, duplicates, a lost
// packet that never stalls what follows, padding, key-frame withholding and skipping, the
// parameter-set rule, bounds, sequence jumps, late packets, audio, and deadlines to the
// microsecond.
#include "media/jitter_buffer.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "media/audio_payload.h"
#include "media/h264_depacketizer.h"
#include "media/h264_packetizer.h"
#include "media_stream_test_util.h"
#include "media_test_util.h"

using namespace kvs;
using namespace kvs::media;
using kvs::media::testing::NalsOf;
using kvs::media::testing::Rng;
using kvs::media::testing::SampleH264Frames;

namespace {

struct Pkt {
  int64_t seq;
  int64_t ts;
  bool marker;
  std::vector<uint8_t> payload;
  size_t frame;  // index in the stream
};

// `count` sample frames at 25 fps, packetized at 1100 bytes, numbered from firstSeq/firstTs.
std::vector<Pkt> Stream(size_t count, int64_t firstSeq = 1000, int64_t firstTs = 90'000,
                        H264Packetizer* packetizer = nullptr) {
  H264Packetizer own;
  H264Packetizer& p = packetizer ? *packetizer : own;
  std::vector<Pkt> out;
  int64_t seq = firstSeq;
  for (size_t f = 0; f < count; ++f) {
    std::vector<RtpPayload> payloads;
    REQUIRE(p.Packetize(SampleH264Frames()[f % 250], 1100, payloads).ok());
    for (const RtpPayload& pl : payloads) {
      out.push_back({seq++, firstTs + int64_t(f) * 3600, pl.marker, pl.ToBytes(), f});
    }
  }
  return out;
}

JitterBufferConfig Config(int64_t waitUs = 2'000'000) {
  JitterBufferConfig c;
  c.codec = sdp::Codec::kH264;
  c.clockRate = 90000;
  c.missingWaitUs = waitUs;
  return c;
}

struct Harness {
  explicit Harness(const JitterBufferConfig& c, const Depacketizer& d) : jb(c, d) {}
  JitterBuffer::InsertResult Insert(const Pkt& p, int64_t nowUs) {
    std::vector<uint8_t> bytes = p.payload;
    const size_t n = bytes.size();
    auto r = jb.Insert(p.seq, p.ts, p.marker, std::move(bytes), 0, n, nowUs, out);
    Collect();
    return r;
  }
  void Tick(int64_t nowUs) {
    jb.Tick(nowUs, out);
    Collect();
  }
  void Collect() {
    for (auto& f : out.frames) frames.push_back(std::move(f));
    for (auto& d : out.dropped) dropped.push_back(d);
    keyFrameNeeded = keyFrameNeeded || out.keyFrameNeeded;
    out.Clear();
  }
  JitterBuffer jb;
  JitterBufferOutput out;
  std::vector<ReceivedFrame> frames;
  std::vector<DroppedFrame> dropped;
  bool keyFrameNeeded = false;
};

// The frame a sample frame becomes after packetization (AUDs dropped; Annex-B 4-byte codes).
std::vector<std::vector<uint8_t>> Expected(size_t sample) {
  return NalsOf(*SampleH264Frames()[sample % 250]);
}

}  // namespace

TEST_CASE("JitterBuffer: 300 real frames in order come out whole, timed and flagged") {
  H264Depacketizer d;
  Harness h(Config(), d);
  auto pkts = Stream(300);
  for (size_t i = 0; i < pkts.size(); ++i) {
    CHECK(h.Insert(pkts[i], int64_t(pkts[i].frame) * 40'000 + 5000) ==
          JitterBuffer::InsertResult::kStored);
  }
  REQUIRE(h.frames.size() == 300);
  for (size_t f = 0; f < 300; ++f) {
    const ReceivedFrame& r = h.frames[f];
    CHECK(NalsOf(r.data) == Expected(f));
    CHECK(r.presentationTs == int64_t(f) * 400'000);  // 40 ms in 100 ns
    CHECK(r.rtpTimestamp == uint32_t(90'000 + f * 3600));
    CHECK(((r.flags & kFrameFlagKeyFrame) != 0) == (f % 25 == 0));
    CHECK(r.index == f);
  }
  CHECK(h.dropped.empty());
  CHECK(h.jb.heldPackets() == 0);
  CHECK(h.jb.stats().framesReceived == 300);
  CHECK(h.jb.stats().keyFramesReceived == 12);
  CHECK(h.jb.stats().emittedCount == 300);
  CHECK(h.jb.frameWidth() == 640);
  CHECK(h.jb.frameHeight() == 480);
  // Each frame left with its last packet: no time in the buffer beyond the frame's spread.
  CHECK(h.jb.stats().delaySeconds == 0);
}

TEST_CASE("JitterBuffer: reordering and duplicates") {
  H264Depacketizer d;
  Harness h(Config(), d);
  auto pkts = Stream(100);
  // Shuffle within windows of 7 packets, and send every packet twice.
  Rng rng(3);
  for (size_t i = 0; i + 7 <= pkts.size(); i += 7) {
    for (size_t k = 6; k > 0; --k) std::swap(pkts[i + k], pkts[i + rng.Next() % (k + 1)]);
  }
  int64_t now = 0;
  size_t dups = 0;
  for (const Pkt& p : pkts) {
    now += 400;
    CHECK(h.Insert(p, now) == JitterBuffer::InsertResult::kStored);
    auto r = h.Insert(p, now);
    CHECK(r == JitterBuffer::InsertResult::kDuplicate);
    ++dups;
  }
  REQUIRE(h.frames.size() == 100);
  for (size_t f = 0; f < 100; ++f) CHECK(NalsOf(h.frames[f].data) == Expected(f));
  CHECK(h.dropped.empty());
  CHECK(h.jb.stats().packetsDuplicated == dups);
}

TEST_CASE("JitterBuffer: a lost packet is given up at its deadline and never stalls the rest") {
  H264Depacketizer d;
  const int64_t wait = 300'000;
  Harness h(Config(wait), d);
  auto pkts = Stream(60);
  // Lose the first packet of frame 5 (a P frame).
  const auto lost =
      std::find_if(pkts.begin(), pkts.end(), [](const Pkt& p) { return p.frame == 5; });
  REQUIRE(std::count_if(pkts.begin(), pkts.end(), [](const Pkt& p) { return p.frame == 5; }) >= 2);
  const int64_t lostSeq = lost->seq;
  int64_t lastTime = 0;
  for (const Pkt& p : pkts) {
    if (p.seq == lostSeq) continue;
    const int64_t t = int64_t(p.frame) * 40'000;
    h.Tick(t);
    h.Insert(p, t);
    lastTime = t;
  }
  h.Tick(lastTime + 1'000'000);
  // Frames 0-4 emitted; 5 given up at the arrival of its first held packet + wait; 6-24
  // withheld (they depend on 5); 25 on (IDR) emitted.
  std::vector<uint32_t> emitted;
  for (const auto& f : h.frames) emitted.push_back(f.rtpTimestamp);
  REQUIRE(h.frames.size() == 5 + 35);
  for (size_t f = 0; f < 5; ++f) CHECK(h.frames[f].rtpTimestamp == uint32_t(90'000 + f * 3600));
  for (size_t k = 0; k < 35; ++k) {
    CHECK(h.frames[5 + k].rtpTimestamp == uint32_t(90'000 + (25 + k) * 3600));
    CHECK(NalsOf(h.frames[5 + k].data) == Expected(25 + k));
  }
  REQUIRE_FALSE(h.dropped.empty());
  CHECK(h.dropped[0].rtpTimestamp == uint32_t(90'000 + 5 * 3600));
  CHECK(h.dropped[0].reason == FrameDropReason::kIncomplete);
  CHECK(h.dropped.size() == 1 + 19);
  for (size_t k = 1; k < h.dropped.size(); ++k) {
    CHECK(h.dropped[k].reason == FrameDropReason::kWaitingForKeyFrame);
  }
  CHECK(h.keyFrameNeeded);
  // The IDR at 25 left as soon as it was complete: at its own arrival, not at a deadline.
  CHECK(h.frames[5].emittedUs == 25 * 40'000);
  CHECK(h.jb.stats().framesDropped == 20);
}

TEST_CASE("JitterBuffer: the deadline is the oldest held packet's arrival + the wait, exactly") {
  H264Depacketizer d;
  Harness h(Config(500'000), d);
  auto pkts = Stream(3);
  // Frame 0 complete; frame 1 without its last packet; frame 2 complete behind it.
  std::vector<Pkt> f1, f2;
  for (const Pkt& p : pkts) {
    if (p.frame == 0) h.Insert(p, 1000);
    if (p.frame == 1) f1.push_back(p);
    if (p.frame == 2) f2.push_back(p);
  }
  REQUIRE(h.frames.size() == 1);
  REQUIRE(f1.size() >= 2);
  for (size_t i = 0; i + 1 < f1.size(); ++i) h.Insert(f1[i], 2000);
  for (const Pkt& p : f2) h.Insert(p, 3000);
  CHECK(h.jb.NextDeadlineUs() == 502'000);
  h.Tick(501'999);
  CHECK(h.dropped.empty());
  h.Tick(502'000);
  REQUIRE(h.dropped.size() == 1);
  CHECK(h.dropped[0].rtpTimestamp == 90'000 + 3600);
  CHECK(h.dropped[0].reason == FrameDropReason::kIncomplete);
  // The gap after frame 1 may hold frame 2's first packet: frame 2 waits on its own deadline.
  CHECK(h.jb.NextDeadlineUs() == 503'000);
  h.Tick(502'999);
  CHECK(h.dropped.size() == 1);
  h.Tick(503'000);
  REQUIRE(h.dropped.size() == 2);  // complete, but a P frame after a loss: withheld
  CHECK(h.dropped[1].reason == FrameDropReason::kWaitingForKeyFrame);
  CHECK(h.jb.NextDeadlineUs() == INT64_MAX);
  // The missing packet turns up now: late.
  CHECK(h.Insert(f1.back(), 600'000) == JitterBuffer::InsertResult::kLate);
  CHECK(h.jb.stats().packetsLate == 1);
}

TEST_CASE("JitterBuffer: padding-only packets hold their place and carry nothing") {
  H264Depacketizer d;
  Harness h(Config(), d);
  auto pkts = Stream(10);
  int64_t seq = 5000;
  for (const Pkt& p0 : pkts) {
    Pkt p = p0;
    p.seq = seq++;
    h.Insert(p, 0);
    if (p.marker) {  // two padding packets between frames, with the frame's timestamp
      Pkt pad{seq++, p.ts, false, {}, p.frame};
      h.Insert(pad, 0);
      pad.seq = seq++;
      h.Insert(pad, 0);
    }
  }
  REQUIRE(h.frames.size() == 10);
  CHECK(h.dropped.empty());
  CHECK(h.jb.heldPackets() == 0);
}

TEST_CASE("JitterBuffer: a tail repaired after its frame was given up does not hold up the next") {
  H264Depacketizer d;
  Harness h(Config(100'000), d);
  auto pkts = Stream(27);
  // Frame 25 (an IDR, several packets): lose its last packet; it is given up at the deadline.
  std::vector<Pkt> f25;
  for (const Pkt& p : pkts) {
    if (p.frame < 25) h.Insert(p, 0);
    if (p.frame == 25) f25.push_back(p);
  }
  for (size_t i = 0; i + 1 < f25.size(); ++i) h.Insert(f25[i], 10'000);
  h.Tick(110'000);
  REQUIRE(h.dropped.size() == 1);
  // The tail arrives now (a late NACK answer): it fills its place, frame 26 is not kept
  // waiting behind it, and is withheld (it depends on 25).
  h.Insert(f25.back(), 120'000);
  for (const Pkt& p : pkts) {
    if (p.frame == 26) h.Insert(p, 130'000);
  }
  CHECK(h.jb.heldPackets() == 0);
  CHECK(h.dropped.size() == 2);
  CHECK(h.dropped[1].reason == FrameDropReason::kWaitingForKeyFrame);
  CHECK(h.jb.stats().packetsLate == 1);
}

TEST_CASE("JitterBuffer: joining mid-stream waits for a key frame and jumps to it") {
  H264Depacketizer d;
  Harness h(Config(), d);
  auto pkts = Stream(60);
  // Start in the middle of frame 10 (its first packets never arrive).
  size_t start = 0;
  while (pkts[start].frame != 10) ++start;
  ++start;
  for (size_t i = start; i < pkts.size(); ++i) h.Insert(pkts[i], int64_t(pkts[i].frame) * 40'000);
  REQUIRE_FALSE(h.frames.empty());
  CHECK(h.frames[0].rtpTimestamp == uint32_t(90'000 + 25 * 3600));  // the first IDR
  CHECK((h.frames[0].flags & kFrameFlagKeyFrame) != 0);
  CHECK(h.frames.size() == 35);
  CHECK(h.keyFrameNeeded);
  CHECK(h.frames[0].emittedUs == 25 * 40'000);  // no waiting for a deadline
  CHECK(h.frames[0].presentationTs == 0);       // time starts at the first frame out
}

TEST_CASE("JitterBuffer: an IDR whose SPS/PPS were never seen is not a place to start") {
  H264Depacketizer d;
  Harness h(Config(), d);
  // The first IDR without its SPS and PPS (a fresh packetizer has none cached to add).
  auto idr = NalsOf(*SampleH264Frames()[0]);
  std::vector<std::vector<uint8_t>> bare;
  for (auto& n : idr) {
    if ((n[0] & 0x1F) != 7 && (n[0] & 0x1F) != 8) bare.push_back(n);
  }
  H264Packetizer p;
  std::vector<RtpPayload> payloads;
  REQUIRE(p.Packetize(MakeShared(kvs::media::testing::AnnexB(bare)), 1100, payloads).ok());
  int64_t seq = 0;
  for (const RtpPayload& pl : payloads) h.Insert({seq++, 0, pl.marker, pl.ToBytes(), 0}, 0);
  CHECK(h.frames.empty());
  REQUIRE(h.dropped.size() == 1);
  CHECK(h.dropped[0].reason == FrameDropReason::kWaitingForKeyFrame);
  CHECK(h.jb.waitingForKeyFrame());
  // Then the stream goes on: the next IDR carries SPS/PPS and is the start.
  auto rest = Stream(50, seq, 3600, &p);
  for (const Pkt& q : rest) {
    if (q.frame >= 1) h.Insert(q, 0);
  }
  REQUIRE_FALSE(h.frames.empty());
  CHECK(h.frames[0].rtpTimestamp == uint32_t(3600 + 25 * 3600));
}

TEST_CASE("JitterBuffer: bounded in packets and bytes; a jump starts over") {
  H264Depacketizer d;
  SUBCASE("packets: a hole at the head is pushed out") {
    JitterBufferConfig c = Config();
    c.maxPackets = 64;
    Harness h(c, d);
    auto pkts = Stream(100);
    for (size_t i = 0; i < pkts.size(); ++i) {
      if (i != 1) h.Insert(pkts[i], 0);  // the IDR's second packet lost
    }
    CHECK(h.jb.heldPackets() <= 64);
    REQUIRE_FALSE(h.dropped.empty());
    CHECK(h.dropped[0].reason == FrameDropReason::kOverflow);
    REQUIRE_FALSE(h.frames.empty());
    CHECK(h.frames[0].rtpTimestamp == uint32_t(90'000 + 25 * 3600));
  }
  SUBCASE("bytes") {
    JitterBufferConfig c = Config();
    c.maxBytes = 20'000;
    Harness h(c, d);
    auto pkts = Stream(60);
    for (size_t i = 1; i < pkts.size(); ++i) {
      h.Insert(pkts[i], 0);
      CHECK(h.jb.heldBytes() <= 20'000);
    }
    CHECK_FALSE(h.frames.empty());
  }
  SUBCASE("a sequence number jump beyond the capacity") {
    Harness h(Config(), d);
    auto a = Stream(30, 0);
    auto b = Stream(30, 100'000, 10'000'000);
    for (const Pkt& p : a) h.Insert(p, 0);
    const size_t before = h.frames.size();
    CHECK(before == 30);
    for (const Pkt& p : b) h.Insert(p, 0);
    CHECK(h.frames.size() == 60);
  }
}

TEST_CASE("JitterBuffer: a malformed payload spoils its frame only") {
  H264Depacketizer d;
  Harness h(Config(), d);
  auto pkts = Stream(30);
  for (Pkt& p : pkts) {
    if (p.frame == 3) p.payload[0] = 0x1A;  // NAL type 26 (MTAP16): refused
  }
  for (const Pkt& p : pkts) h.Insert(p, 0);
  REQUIRE_FALSE(h.dropped.empty());
  CHECK(h.dropped[0].reason == FrameDropReason::kUndecodable);
  CHECK(h.dropped[0].rtpTimestamp == uint32_t(90'000 + 3 * 3600));
  CHECK(h.frames.size() == 3 + 5);  // 0-2, then 25-29
  CHECK(h.jb.stats().packetsMalformed > 0);
}

TEST_CASE("JitterBuffer: timestamps past 2^32 keep presentationTs rising") {
  H264Depacketizer d;
  Harness h(Config(), d);
  auto pkts = Stream(10, 70'000, 0xFFFFF000LL);  // unwrapped values, as the stream gives them
  for (const Pkt& p : pkts) h.Insert(p, 0);
  REQUIRE(h.frames.size() == 10);
  for (size_t f = 0; f < 10; ++f) {
    CHECK(h.frames[f].presentationTs == int64_t(f) * 400'000);
    CHECK(h.frames[f].rtpTimestamp == static_cast<uint32_t>(0xFFFFF000LL + int64_t(f) * 3600));
  }
}

TEST_CASE("JitterBuffer: audio, one frame per packet; a gap waits only the reorder window") {
  AudioDepacketizer d(AudioCodec::kOpus);
  JitterBufferConfig c;
  c.codec = sdp::Codec::kOpus;
  c.clockRate = 48000;
  c.missingWaitUs = 40'000;
  c.maxPackets = 256;
  Harness h(c, d);
  const auto opus =
      kvs::media::testing::ReadFile(kvs::media::testing::RepoPath("samples/opus/sample-001.opus"));
  for (int i = 0; i < 50; ++i) {
    if (i == 10) continue;  // lost
    const int64_t t = i * 20'000;
    h.Tick(t);
    h.Insert({i, i * 960, false, opus, size_t(i)}, t);
  }
  REQUIRE(h.frames.size() == 49);
  // Packet 11 waited for 10 from its arrival (220 ms) to 260 ms, then went.
  CHECK(h.frames[10].rtpTimestamp == 11 * 960);
  CHECK(h.frames[10].emittedUs == 260'000);
  CHECK(h.frames[11].emittedUs == 260'000);  // 12 arrived at 240 ms, behind it
  CHECK(h.dropped.empty());  // audio loss is concealment's business, not a dropped frame
  CHECK_FALSE(h.keyFrameNeeded);
  // Per sample: 49 frames of 960; the delays of 11 and 12 were 40 and 20 ms.
  CHECK(h.jb.stats().emittedCount == 49 * 960);
  CHECK(h.jb.stats().delaySeconds == doctest::Approx((0.040 + 0.020) * 960));
}
