// Cost of the media path per 100 KB frame: SendStream::SendFrame (packetize, headers, history,
// stats), the caller's one copy (WriteTo into its wire buffer), and ReceiveStream's per-packet
// path (parse, stats, NACK bookkeeping, jitter buffer, depacketize). Skipped by default; run
//   build/dev/kvs_core_tests -tc='Bench*' --no-skip
// Figures are printed, never asserted (speed lives outside the tests' pass/fail). Heap
// allocations are counted by replacing the global operator new for this binary (it forwards
// to malloc; counting is on only inside the measured loops).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>

#include "media/nal_units.h"
#include "media/payload_formats.h"
#include "media/receive_stream.h"
#include "media/send_stream.h"
#include "media/transport_feedback_sender.h"
#include "media_stream_test_util.h"
#include "media_test_util.h"

namespace {
std::atomic<bool> gCount{false};
std::atomic<uint64_t> gAllocations{0};
}  // namespace

// Out of line, so that the compiler does not pair malloc/free across the replaced operators
// and warn (GCC's -Wmismatched-new-delete sees through inline ones).
[[gnu::noinline]] void* Acquire(size_t n) noexcept {
  if (gCount.load(std::memory_order_relaxed)) gAllocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
[[gnu::noinline]] void Release(void* p) noexcept { std::free(p); }

void* operator new(size_t n) {
  if (void* p = Acquire(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return Acquire(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return Acquire(n); }
void operator delete(void* p) noexcept { Release(p); }
void operator delete[](void* p) noexcept { Release(p); }
void operator delete(void* p, size_t) noexcept { Release(p); }
void operator delete[](void* p, size_t) noexcept { Release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { Release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { Release(p); }

using namespace kvs;
using namespace kvs::media;
using Clock = std::chrono::steady_clock;

namespace {

// A 100 KB access unit: the sample's SPS and PPS, then one IDR slice of bytes that hold no
// start code (every byte nonzero), as an encoder at a high bitrate would give.
SharedBytes HundredKbFrame(uint8_t seed) {
  auto nals = kvs::media::testing::NalsOf(*kvs::media::testing::SampleH264Frames()[0]);
  std::vector<std::vector<uint8_t>> out;
  for (auto& n : nals) {
    if ((n[0] & 0x1F) == 7 || (n[0] & 0x1F) == 8) out.push_back(n);
  }
  std::vector<uint8_t> slice(100'000);
  slice[0] = 0x65;
  slice[1] = 0x88;
  kvs::media::testing::Rng rng(seed);
  for (size_t i = 2; i < slice.size(); ++i) slice[i] = static_cast<uint8_t>(1 + rng.Next() % 255);
  out.push_back(std::move(slice));
  return MakeShared(kvs::media::testing::AnnexB(out));
}

double Us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

}  // namespace

TEST_CASE("Bench: SendStream::SendFrame and ReceiveStream per packet, 100 KB frames" *
          doctest::skip()) {
  TransportFeedbackSender twcc;
  SendStreamConfig sc;
  sc.codec = sdp::Codec::kH264;
  sc.payloadType = 125;
  sc.ssrc = 1;
  sc.rtx = RtxSendConfig{126, 2};
  sc.midExtensionId = 1;
  sc.mid = "0";
  sc.absSendTimeExtensionId = 2;
  sc.transportCcExtensionId = 3;
  sc.feedback.nack = true;
  sc.cname = "bench";
  sc.rollingBuffer = {1.0, 5'000'000};
  auto send = SendStream::Create(sc, kvs::media::testing::SeededRandom(1), &twcc).take();

  std::vector<SharedBytes> frames;
  for (uint8_t i = 0; i < 8; ++i) frames.push_back(HundredKbFrame(i));
  SendStreamOutput out;
  out.packets.reserve(256);
  std::vector<uint8_t> wire(1500);

  // Warm up: the history ring and the output vectors reach their steady size.
  for (int i = 0; i < 200; ++i) {
    out.Clear();
    EncodedFrame f{frames[size_t(i) % 8], int64_t(i) * 400'000, 0, 0, 0, 0};
    REQUIRE(send->SendFrame(f, int64_t(i) * 1000, out).ok());
  }
  const size_t packetsPerFrame = out.packets.size();

  constexpr int kFrames = 3000;
  uint64_t packets = 0;
  Clock::duration sendTime{}, copyTime{};
  gAllocations = 0;
  gCount = true;
  for (int i = 0; i < kFrames; ++i) {
    out.Clear();
    EncodedFrame f{frames[size_t(i) % 8], int64_t(200 + i) * 400'000, 0, 0, 0, 0};
    const auto t0 = Clock::now();
    (void)send->SendFrame(f, int64_t(200 + i) * 1000, out);  // checked in the warm-up
    const auto t1 = Clock::now();
    for (const auto& p : out.packets) p.WriteTo(wire.data());
    const auto t2 = Clock::now();
    sendTime += t1 - t0;
    copyTime += t2 - t1;
    packets += out.packets.size();
  }
  gCount = false;
  const uint64_t sendAllocs = gAllocations.load();
  const double perFrame = Us(sendTime) / kFrames;
  MESSAGE("SendFrame, 100 KB H.264 frame ("
          << packetsPerFrame << " packets): " << perFrame << " us/frame, "
          << 1000 * Us(sendTime) / double(packets) << " ns/packet, " << 1e6 / perFrame
          << " frames/s on one core; heap allocations " << double(sendAllocs) / kFrames
          << "/frame");
  MESSAGE("WriteTo into the wire buffer (the one copy): " << Us(copyTime) / kFrames << " us/frame");

  // For comparison, the payload format alone (splitting the access unit into NAL units and
  // cutting FU-A fragments), which SendFrame includes.
  {
    auto packetizer = MakePacketizer(sdp::Codec::kH264);
    std::vector<RtpPayload> payloads;
    payloads.reserve(256);
    Clock::duration t{};
    gAllocations = 0;
    gCount = true;
    for (int i = 0; i < kFrames; ++i) {
      payloads.clear();
      const auto t0 = Clock::now();
      (void)packetizer->Packetize(frames[size_t(i) % 8], send->maxPayloadSize(), payloads);
      t += Clock::now() - t0;
    }
    gCount = false;
    MESSAGE("of which H264Packetizer::Packetize alone: "
            << Us(t) / kFrames << " us/frame; heap allocations "
            << double(gAllocations.load()) / kFrames << "/frame");
    auto split = Clock::now();
    size_t n = 0;
    for (int i = 0; i < kFrames; ++i) n += SplitAnnexB(*frames[size_t(i) % 8]).value().size();
    MESSAGE("of which SplitAnnexB alone: " << Us(Clock::now() - split) / kFrames << " us/frame ("
                                           << n / kFrames << " NAL units)");
  }

  // The receive side: the packets of 64 distinct frames as wire bytes, replayed with new
  // sequence numbers and timestamps so that every packet is new to the stream.
  ReceiveStreamConfig rc;
  rc.codec = sdp::Codec::kH264;
  rc.payloadTypes = {125};
  rc.remoteSsrc = 1;
  rc.feedback.nack = true;
  rc.localSsrc = 9;
  rc.cname = "bench";
  auto recv = ReceiveStream::Create(rc, kvs::media::testing::SeededRandom(2), nullptr).take();
  auto feeder = SendStream::Create(sc, kvs::media::testing::SeededRandom(3), &twcc).take();
  std::vector<std::vector<uint8_t>> wirePackets;
  for (int i = 0; i < 64; ++i) {
    out.Clear();
    EncodedFrame f{frames[size_t(i) % 8], int64_t(i) * 400'000, 0, 0, 0, 0};
    REQUIRE(feeder->SendFrame(f, 0, out).ok());
    for (const auto& p : out.packets) wirePackets.push_back(kvs::media::testing::Wire(p));
  }
  auto restamp = [](std::vector<uint8_t>& b, uint16_t seq, uint32_t ts) {
    b[2] = uint8_t(seq >> 8);
    b[3] = uint8_t(seq);
    b[4] = uint8_t(ts >> 24);
    b[5] = uint8_t(ts >> 16);
    b[6] = uint8_t(ts >> 8);
    b[7] = uint8_t(ts);
  };
  ReceiveStreamOutput ro;
  ro.frames.reserve(8);
  constexpr int kRounds = 40;  // 40 x 64 frames
  std::vector<std::vector<uint8_t>> batch(wirePackets.size());
  uint16_t seq = 0;
  Clock::duration recvTime{};
  uint64_t received = 0, framesOut = 0;
  uint64_t recvAllocs = 0;
  for (int round = 0; round < kRounds; ++round) {
    // Prepare the copies outside the measurement: the caller's receive buffers.
    uint32_t ts = uint32_t(round) * 64 * 3600;
    int64_t frameIdx = -1;
    uint32_t lastTs = 0;
    for (size_t i = 0; i < wirePackets.size(); ++i) {
      batch[i] = wirePackets[i];
      const uint32_t orig = uint32_t(wirePackets[i][4]) << 24 | uint32_t(wirePackets[i][5]) << 16 |
                            uint32_t(wirePackets[i][6]) << 8 | wirePackets[i][7];
      if (i == 0 || orig != lastTs) ++frameIdx;
      lastTs = orig;
      restamp(batch[i], seq++, ts + uint32_t(frameIdx) * 3600);
    }
    gAllocations = 0;
    gCount = true;
    const auto t0 = Clock::now();
    for (auto& b : batch) {
      recv->OnRtp(std::move(b), int64_t(round) * 10'000'000, ro);
      framesOut += ro.frames.size();
      ro.Clear();
    }
    const auto t1 = Clock::now();
    gCount = false;
    recvAllocs += gAllocations.load();
    recvTime += t1 - t0;
    received += batch.size();
  }
  const uint64_t recvFrames = uint64_t(kRounds) * 64;
  MESSAGE("ReceiveStream::OnRtp: " << 1000 * Us(recvTime) / double(received) << " ns/packet, "
                                   << Us(recvTime) / double(recvFrames)
                                   << " us per 100 KB frame (depacketizing included), " << framesOut
                                   << " of " << recvFrames << " frames out; heap allocations "
                                   << double(recvAllocs) / double(recvFrames) << "/frame");
  CHECK(framesOut == recvFrames);  // the measurement is of a working path
}
