// SendStream -> fake link -> ReceiveStream and back: the composition as PeerConnection will
// drive it (RTP one way, RTCP and transport-cc feedback the other, a fake clock, seeded loss).
// 5% loss is repaired by NACK/RTX and every one of 300 real H.264 frames arrives whole; loss too
// heavy to repair shows dropped frames and key-frame requests that the app answers, and the
// stream never stalls. Both start at sequence number 65500 and timestamp 0xFFFFFF00, so both
// wrap during the run.
#include <doctest/doctest.h>

#include <map>

#include "media/receive_stream.h"
#include "media/send_stream.h"
#include "media/transport_feedback_receiver.h"
#include "media/transport_feedback_sender.h"
#include "media_stream_test_util.h"
#include "media_test_util.h"

using namespace kvs;
using namespace kvs::media;
using kvs::media::testing::NalsOf;
using kvs::media::testing::Rng;
using kvs::media::testing::SampleH264Frames;
using kvs::media::testing::SeededRandom;

namespace {

constexpr uint32_t kMedia = 0xCAFE0001, kRtx = 0xCAFE0002, kViewer = 0xBEEF0001;
constexpr int64_t kDelayUs = 30'000;
constexpr int64_t kStepUs = 5'000;

struct Run {
  std::vector<ReceivedFrame> frames;
  std::map<uint32_t, size_t> sampleOf;  // RTP timestamp -> the sample frame sent
  std::vector<int64_t> keyFrameRequestsAtSender;
  OutboundRtpStats sent;
  RemoteInboundRtpStats remote;
  InboundRtpStats received;
  uint64_t feedbackReceived = 0;
  uint64_t lastTargetBps = 0;
  int64_t lastFrameSentUs = 0;
};

Run RunLoop(double loss, size_t frames, uint64_t seed) {
  TransportFeedbackSender twccSend;
  TransportFeedbackReceiverConfig trc;
  trc.senderSsrc = kViewer;
  trc.mediaSsrc = kMedia;
  TransportFeedbackReceiver twccRecv(trc);

  SendStreamConfig sc;
  sc.codec = sdp::Codec::kH264;
  sc.payloadType = 125;
  sc.ssrc = kMedia;
  sc.rtx = RtxSendConfig{126, kRtx};
  sc.midExtensionId = 1;
  sc.mid = "0";
  sc.absSendTimeExtensionId = 2;
  sc.transportCcExtensionId = 3;
  sc.feedback = {true, true, true, false, true};
  sc.cname = "master";
  sc.initialSequenceNumber = 65500;
  sc.initialTimestamp = 0xFFFFFF00u;
  auto send = SendStream::Create(sc, SeededRandom(seed), &twccSend);
  REQUIRE(send.ok());

  ReceiveStreamConfig rc;
  rc.codec = sdp::Codec::kH264;
  rc.payloadTypes = {125};
  rc.remoteSsrc = kMedia;
  rc.rtx = RtxReceiveConfig{126, kRtx};
  rc.feedback = {true, true, true, false, true};
  rc.localSsrc = kViewer;
  rc.cname = "viewer";
  rc.transportCcExtensionId = 3;
  auto recv = ReceiveStream::Create(rc, SeededRandom(seed + 1), &twccRecv);
  REQUIRE(recv.ok());

  Rng rng(seed + 2);
  // In flight: (arrival time, to the receiver?, is RTCP?, bytes), in time order.
  struct Datagram {
    bool toReceiver;
    bool rtcp;
    std::vector<uint8_t> bytes;
  };
  std::multimap<int64_t, Datagram> link;
  auto transmit = [&](int64_t now, bool toReceiver, bool rtcp, std::vector<uint8_t> b) {
    if (rng.Chance(loss)) return;
    link.emplace(now + kDelayUs, Datagram{toReceiver, rtcp, std::move(b)});
  };

  Run run;
  SendStreamOutput so;
  ReceiveStreamOutput ro;
  ParsedRtcp parsed;
  size_t sample = 0;
  bool keyWanted = false;
  const int64_t end = int64_t(frames) * 40'000 + 5'000'000;
  for (int64_t now = 0; now < end; now += kStepUs) {
    so.Clear();
    if (now % 40'000 == 0 && now / 40'000 < int64_t(frames)) {
      // The "encoder": the next sample frame, or the next IDR of the samples when asked.
      if (keyWanted) {
        sample = (sample / 25 + 1) * 25;
        keyWanted = false;
      }
      EncodedFrame f;
      f.data = SampleH264Frames()[sample % 250];
      f.presentationTs = now * 10;
      REQUIRE(send.value()->SendFrame(f, now, so).ok());
      if (!so.packets.empty()) {
        run.sampleOf[so.packets[0].timestamp] = sample;
        run.lastFrameSentUs = now;
      }
      ++sample;
    }
    send.value()->Tick(now, 1'700'000'000'000'000 + now, so);
    for (const auto& p : so.packets) transmit(now, true, false, kvs::media::testing::Wire(p));
    for (auto& b : so.rtcp) transmit(now, true, true, std::move(b));
    for (const auto& e : so.events) {
      if (e.type == SendStreamEvent::Type::kKeyFrameNeeded) {
        keyWanted = true;
        run.keyFrameRequestsAtSender.push_back(now);
      }
    }
    so.Clear();

    while (!link.empty() && link.begin()->first <= now) {
      Datagram d = std::move(link.begin()->second);
      link.erase(link.begin());
      if (d.toReceiver && !d.rtcp) {
        recv.value()->OnRtp(std::move(d.bytes), now, ro);
      } else {
        REQUIRE(ParseRtcpCompound(d.bytes, &parsed).ok());
        if (d.toReceiver) {
          recv.value()->OnRtcp(parsed, now, ro);
        } else {
          send.value()->OnRtcp(parsed, now, so);
          for (const auto& fb : parsed.transportFeedback) {
            if (auto e = twccSend.OnFeedback(fb, now)) run.lastTargetBps = e->targetBps;
          }
        }
      }
    }
    recv.value()->Tick(now, ro);
    std::vector<std::vector<uint8_t>> fb;
    twccRecv.Tick(now, fb);
    for (auto& b : fb) transmit(now, false, true, std::move(b));
    for (auto& b : ro.rtcp) transmit(now, false, true, std::move(b));
    for (auto& f : ro.frames) run.frames.push_back(std::move(f));
    ro.Clear();
    // NACK answers and key frame events produced by OnRtcp above go out next step.
    for (const auto& p : so.packets) transmit(now, true, false, kvs::media::testing::Wire(p));
    for (const auto& e : so.events) {
      if (e.type == SendStreamEvent::Type::kKeyFrameNeeded) {
        keyWanted = true;
        run.keyFrameRequestsAtSender.push_back(now);
      }
    }
  }
  run.sent = send.value()->outboundStats();
  run.remote = send.value()->remoteInboundStats();
  run.received = recv.value()->inboundStats();
  run.feedbackReceived = twccSend.stats().feedbackReceived;
  return run;
}

}  // namespace

TEST_CASE("Loop: 5% loss both ways, NACK over RTX repairs all 300 frames of real H.264") {
  Run run = RunLoop(0.05, 300, 1);
  REQUIRE(run.frames.size() == 300);
  for (size_t i = 0; i < run.frames.size(); ++i) {
    const ReceivedFrame& f = run.frames[i];
    REQUIRE(run.sampleOf.count(f.rtpTimestamp));
    CHECK(NalsOf(f.data) == NalsOf(*SampleH264Frames()[run.sampleOf[f.rtpTimestamp] % 250]));
    CHECK(f.presentationTs == int64_t(i) * 400'000);  // in order, across the timestamp wrap
  }
  MESSAGE("5% loss: retransmitted " << run.sent.retransmittedPacketsSent << " of "
                                    << run.sent.packetsSent << " packets, NACKs sent "
                                    << run.received.nackCount << ", PLIs " << run.received.pliCount
                                    << ", RTT " << run.remote.roundTripTime.value_or(-1) << " s");
  CHECK(run.received.framesDropped == 0);
  CHECK(run.received.pliCount == 0);  // nothing was lost for good: no key frame needed
  CHECK(run.sent.retransmittedPacketsSent > 0);
  CHECK(run.received.retransmittedPacketsReceived > 0);
  CHECK(run.received.nackCount > 0);
  CHECK(run.sent.nackCount > 0);
  // The RR loop closed: the sender knows the RTT (2 x 30 ms, plus up to a step of waiting).
  REQUIRE(run.remote.roundTripTime.has_value());
  CHECK(*run.remote.roundTripTime >= 0.059);  // DLSR travels in 1/65536 s
  CHECK(*run.remote.roundTripTime <= 0.080);
  CHECK(run.remote.reportsReceived > 5);
  CHECK(run.remote.fractionLost < 0.2);
  CHECK(run.feedbackReceived > 50);
  CHECK(run.lastTargetBps > 0);
}

TEST_CASE("Loop: loss too heavy to repair drops frames, asks for key frames, never stalls") {
  Run run = RunLoop(0.45, 300, 7);
  MESSAGE("45% loss: " << run.frames.size() << " of 300 frames emitted, "
                       << run.received.framesDropped << " dropped, PLIs sent "
                       << run.received.pliCount << ", key frame events at the sender "
                       << run.keyFrameRequestsAtSender.size());
  CHECK(run.received.framesDropped > 0);
  CHECK(run.received.pliCount > 0);
  CHECK_FALSE(run.keyFrameRequestsAtSender.empty());
  REQUIRE(run.frames.size() > 30);
  // Never a stall: frames keep coming out, in order, and not long after the last was sent.
  int64_t longestGap = 0;
  for (size_t i = 1; i < run.frames.size(); ++i) {
    CHECK(run.frames[i].presentationTs > run.frames[i - 1].presentationTs);
    longestGap = std::max(longestGap, run.frames[i].emittedUs - run.frames[i - 1].emittedUs);
  }
  MESSAGE("longest gap between frames out: " << longestGap / 1000 << " ms");
  CHECK(longestGap < 4'000'000);
  CHECK(run.frames.back().emittedUs > run.lastFrameSentUs - 3'000'000);
  // Every frame that came out is whole.
  for (const ReceivedFrame& f : run.frames) {
    REQUIRE(run.sampleOf.count(f.rtpTimestamp));
    CHECK(NalsOf(f.data) == NalsOf(*SampleH264Frames()[run.sampleOf[f.rtpTimestamp] % 250]));
  }
}
