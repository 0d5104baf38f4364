// Transport-wide congestion control: the receiver's feedback (contents, wraps, splitting,
// cadence), the sender's matching of it to what was sent, and the bandwidth estimate on a fake
// link with a capacity limit, a drop-tail queue and random loss.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <deque>

#include "media/transport_feedback_receiver.h"
#include "media/transport_feedback_sender.h"
#include "media_stream_test_util.h"
#include "rtp/rtcp_packet.h"
#include "rtp/rtcp_twcc.h"

using namespace kvs;
using namespace kvs::media;
using kvs::media::testing::Rng;

namespace {

rtp::TransportFeedback ParseFb(const std::vector<uint8_t>& bytes) {
  auto p = rtp::ParseRtcpPacket(bytes);
  REQUIRE(p.ok());
  auto fb = rtp::ParseTransportFeedback(p.value());
  REQUIRE_MESSAGE(fb.ok(), fb.status().message());
  return fb.value();
}

TransportFeedbackReceiverConfig ReceiverConfig() {
  TransportFeedbackReceiverConfig c;
  c.senderSsrc = 1;
  c.mediaSsrc = 2;
  return c;
}

}  // namespace

TEST_CASE("TWCC receiver: feedback names every number since the last, with arrival times") {
  TransportFeedbackReceiver r(ReceiverConfig());
  std::vector<std::vector<uint8_t>> out;
  r.Tick(0, out);
  CHECK(out.empty());
  // 65530 .. 9 across the wrap; 65533, 0 and 1 lost; 3 arrives before 2.
  std::vector<std::pair<uint16_t, int64_t>> arrivals;
  int64_t t = 5'000'123;
  for (uint16_t s = 65530; s != 10; ++s) {
    if (s == 65533 || s == 0 || s == 1) continue;
    arrivals.push_back({s, t});
    t += 1'337;
  }
  std::swap(arrivals[4], arrivals[5]);  // (2, 3) -> (3, 2)
  for (auto& [s, at] : arrivals) r.OnPacket(s, at);
  CHECK(r.NextTickUs() == 5'000'123);  // the first feedback goes at once
  r.Tick(5'050'000, out);
  REQUIRE(out.size() == 1);
  rtp::TransportFeedback fb = ParseFb(out[0]);
  CHECK(fb.senderSsrc == 1);
  CHECK(fb.mediaSsrc == 2);
  CHECK(fb.baseSequence == 65530);
  CHECK(fb.feedbackCount == 0);
  REQUIRE(fb.packets.size() == 16);
  for (const auto& st : fb.packets) {
    auto it = std::find_if(arrivals.begin(), arrivals.end(),
                           [&](const auto& a) { return a.first == st.sequenceNumber; });
    CHECK(st.received == (it != arrivals.end()));
    if (it == arrivals.end()) continue;
    // Reference (64 ms units) + delta (250 µs units) gives the arrival to within rounding.
    CHECK(std::abs(fb.referenceTimeUs() + st.arrivalUs - it->second) <= 125);
  }
  // Nothing more until the interval has passed and packets came; numbers then continue.
  out.clear();
  r.OnPacket(10, 5'060'000);
  r.Tick(5'100'000, out);
  CHECK(out.empty());
  r.Tick(5'150'000, out);
  REQUIRE(out.size() == 1);
  fb = ParseFb(out[0]);
  CHECK(fb.baseSequence == 10);
  CHECK(fb.feedbackCount == 1);
  // A packet for a number already reported is late.
  r.OnPacket(65533, 5'200'000);
  CHECK(r.stats().lateArrivals == 1);
  r.OnPacket(11, 5'200'000);
  r.OnPacket(11, 5'200'000);
  CHECK(r.stats().duplicates == 1);
}

TEST_CASE("TWCC receiver: long runs are split into packets that fit, and far-apart arrivals") {
  TransportFeedbackReceiver r(ReceiverConfig());
  std::vector<std::vector<uint8_t>> out;
  for (int i = 0; i < 1000; ++i) r.OnPacket(static_cast<uint16_t>(i), 1'000'000 + i * 100);
  r.OnPacket(1000, 1'000'000 + 20'000'000);  // 20 s later: beyond a 16-bit delta
  r.Tick(30'000'000, out);
  REQUIRE(out.size() == 4);
  uint16_t next = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    CHECK(out[i].size() <= 1200 - 20);
    rtp::TransportFeedback fb = ParseFb(out[i]);
    CHECK(fb.baseSequence == next);
    CHECK(fb.feedbackCount == i);
    next = static_cast<uint16_t>(next + fb.packets.size());
  }
  CHECK(next == 1001);
  // A burst over the pending bound asks for a tick at once.
  TransportFeedbackReceiver b(ReceiverConfig());
  for (int i = 0; i < 2048; ++i) b.OnPacket(static_cast<uint16_t>(i), 0);
  CHECK(b.NextTickUs() == INT64_MIN);
}

TEST_CASE("TWCC sender: feedback is matched to what was sent") {
  TransportFeedbackSenderConfig c;
  c.initialSequence = 65000;
  TransportFeedbackSender s(c);
  TransportFeedbackReceiver r(ReceiverConfig());
  std::vector<std::vector<uint8_t>> out;
  // 1000 packets of 1000 bytes, 1 ms apart; every 10th lost; 30 ms of transit.
  int64_t now = 0;
  for (int i = 0; i < 1000; ++i) {
    const uint16_t n = s.NextTransportSequence();
    s.OnTransportPacketSent(n, 1000, now);
    if (i % 10 != 3) r.OnPacket(n, now + 30'000);
    now += 1000;
  }
  r.Tick(now + 30'000, out);
  REQUIRE(out.size() >= 3);
  uint32_t sent = 0, received = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i == 1) continue;  // this feedback packet is lost
    auto e = s.OnFeedback(ParseFb(out[i]), now + 60'000);
    REQUIRE(e.has_value());
    sent += e->sentPackets;
    received += e->receivedPackets;
    CHECK(e->sentBytes == e->sentPackets * 1000u);
    CHECK(e->receivedBytes == e->receivedPackets * 1000u);
    CHECK(e->durationUs == int64_t(e->sentPackets - 1) * 1000);
  }
  const auto& st = s.stats();
  CHECK(st.feedbackLost == 1);
  CHECK(st.unknownPackets == 0);
  CHECK(sent + ParseFb(out[1]).packets.size() >= 999);  // the first lost packet starts none
  CHECK(received == sent - sent / 10);
  // Feedback about numbers never sent teaches nothing.
  rtp::TransportFeedback bogus;
  bogus.baseSequence = 30'000;
  bogus.packets.push_back({30'000, true, 0});
  CHECK_FALSE(s.OnFeedback(bogus, now).has_value());
  CHECK(s.stats().unknownPackets == 1);
}

namespace {

// A bottleneck: `capacityBps` served in order, a drop-tail queue of `queueUs` at that rate,
// random loss, and a fixed one-way delay each way. The sender sends 1200-byte packets evenly
// at the estimate; the receiver sends feedback every 100 ms.
struct LinkResult {
  double meanTargetBps = 0;
  double meanDeliveredBps = 0;
  double minTargetBps = 0, maxTargetBps = 0;
};

LinkResult RunLink(std::function<double(int64_t)> capacityAt, double loss, int64_t seconds,
                   int64_t measureFromUs, uint64_t seed) {
  TransportFeedbackSender sender;
  TransportFeedbackReceiver receiver(ReceiverConfig());
  Rng rng(seed);
  const int64_t delayUs = 40'000;
  const int64_t queueUs = 150'000;
  const size_t packet = 1200;
  int64_t linkFreeUs = 0;                             // when the bottleneck finishes what it holds
  std::deque<std::pair<int64_t, uint16_t>> arrivals;  // (arrival at receiver, seq)
  std::deque<std::pair<int64_t, std::vector<uint8_t>>> feedback;
  int64_t nextSendUs = 0;
  double sum = 0, sumDelivered = 0, mn = 1e18, mx = 0;
  int samples = 0;
  sender.SetRoundTripTime(2 * delayUs);
  for (int64_t now = 0; now < seconds * 1'000'000; now += 1000) {
    while (nextSendUs <= now) {
      const uint16_t n = sender.NextTransportSequence();
      sender.OnTransportPacketSent(n, packet, nextSendUs);
      const double cap = capacityAt(nextSendUs);
      const auto serviceUs = static_cast<int64_t>(double(packet) * 8e6 / cap);
      const int64_t start = std::max(linkFreeUs, nextSendUs);
      if (start - nextSendUs <= queueUs && !rng.Chance(loss)) {  // else: dropped
        linkFreeUs = start + serviceUs;
        arrivals.push_back({linkFreeUs + delayUs, n});
      }
      nextSendUs += static_cast<int64_t>(double(packet) * 8e6 / double(sender.targetBps()));
    }
    while (!arrivals.empty() && arrivals.front().first <= now) {
      receiver.OnPacket(arrivals.front().second, arrivals.front().first);
      arrivals.pop_front();
    }
    std::vector<std::vector<uint8_t>> fb;
    receiver.Tick(now, fb);
    for (auto& f : fb) feedback.push_back({now + delayUs, std::move(f)});
    while (!feedback.empty() && feedback.front().first <= now) {
      auto e = sender.OnFeedback(ParseFb(feedback.front().second), now);
      feedback.pop_front();
      if (e && now >= measureFromUs) {
        const double target = double(e->targetBps);
        sum += target;
        sumDelivered += e->deliveredBps ? double(*e->deliveredBps) : 0;
        mn = std::min(mn, target);
        mx = std::max(mx, target);
        ++samples;
      }
    }
  }
  REQUIRE(samples > 0);
  return {sum / samples, sumDelivered / samples, mn, mx};
}

}  // namespace

TEST_CASE("Bandwidth estimate on a fake link converges near its capacity") {
  SUBCASE("1 Mbit/s, 1% random loss") {
    auto r = RunLink([](int64_t) { return 1e6; }, 0.01, 90, 45'000'000, 1);
    MESSAGE("1 Mbit/s link: mean estimate " << r.meanTargetBps << " (min " << r.minTargetBps
                                            << ", max " << r.maxTargetBps << "), delivered "
                                            << r.meanDeliveredBps);
    CHECK(r.meanTargetBps > 0.7e6);
    CHECK(r.meanTargetBps < 1.3e6);
    CHECK(r.meanDeliveredBps > 0.7e6);
  }
  SUBCASE("4 Mbit/s, no random loss") {
    auto r = RunLink([](int64_t) { return 4e6; }, 0.0, 90, 60'000'000, 2);
    MESSAGE("4 Mbit/s link: mean estimate " << r.meanTargetBps << " (min " << r.minTargetBps
                                            << ", max " << r.maxTargetBps << "), delivered "
                                            << r.meanDeliveredBps);
    CHECK(r.meanTargetBps > 0.7 * 4e6);
    CHECK(r.meanTargetBps < 1.3 * 4e6);
  }
  SUBCASE("capacity falls from 3 to 0.8 Mbit/s: the estimate follows down") {
    auto r =
        RunLink([](int64_t t) { return t < 40'000'000 ? 3e6 : 0.8e6; }, 0.005, 70, 50'000'000, 3);
    MESSAGE("3 -> 0.8 Mbit/s: mean estimate after the drop " << r.meanTargetBps << " (max "
                                                             << r.maxTargetBps << ")");
    CHECK(r.meanTargetBps < 1.3 * 0.8e6);
    CHECK(r.meanTargetBps > 0.6 * 0.8e6);
  }
  SUBCASE("heavy random loss (15%) without a capacity limit holds the estimate down") {
    auto r = RunLink([](int64_t) { return 100e6; }, 0.15, 30, 20'000'000, 4);
    MESSAGE("15% loss: mean estimate " << r.meanTargetBps);
    CHECK(r.meanTargetBps < 300'000);  // never grows past the start
  }
}
