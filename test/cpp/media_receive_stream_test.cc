// ReceiveStream on its own inputs: packets from a SendStream (so the bytes are real RTP), RTX
// and plain repair, receiver reports, key-frame requests, padding, rejection, audio, SRs.
#include "media/receive_stream.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "media/send_stream.h"
#include "media_stream_test_util.h"
#include "media_test_util.h"
#include "rtp/ntp_time.h"
#include "rtp/rtcp_compound.h"
#include "rtp/rtp_packet.h"

using namespace kvs;
using namespace kvs::media;
using kvs::media::testing::NalsOf;
using kvs::media::testing::SampleH264Frames;
using kvs::media::testing::SeededRandom;
using kvs::media::testing::Wire;

namespace {

constexpr uint32_t kMedia = 0x1111;
constexpr uint32_t kRtx = 0x2222;
constexpr uint32_t kLocal = 0x3333;

SendStreamConfig SenderConfig(bool rtx) {
  SendStreamConfig c;
  c.codec = sdp::Codec::kH264;
  c.payloadType = 102;
  c.ssrc = kMedia;
  if (rtx) c.rtx = RtxSendConfig{103, kRtx};
  c.midExtensionId = 1;
  c.mid = "v";
  c.feedback.nack = c.feedback.pli = true;
  c.cname = "sender";
  c.initialSequenceNumber = 65500;
  c.initialTimestamp = 0xFFFFFF00u;
  return c;
}

ReceiveStreamConfig ReceiverConfig(bool rtx) {
  ReceiveStreamConfig c;
  c.codec = sdp::Codec::kH264;
  c.payloadTypes = {102};
  c.remoteSsrc = kMedia;
  if (rtx) c.rtx = RtxReceiveConfig{103, kRtx};
  c.feedback.nack = c.feedback.pli = true;
  c.localSsrc = kLocal;
  c.cname = "receiver";
  return c;
}

std::unique_ptr<ReceiveStream> MakeReceiver(const ReceiveStreamConfig& c) {
  auto r = ReceiveStream::Create(c, SeededRandom(11), nullptr);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  return r.take();
}

std::unique_ptr<SendStream> MakeSender(const SendStreamConfig& c) {
  auto r = SendStream::Create(c, SeededRandom(5), nullptr);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  return r.take();
}

EncodedFrame SampleFrame(size_t i) {
  EncodedFrame f;
  f.data = SampleH264Frames()[i % 250];
  f.presentationTs = int64_t(i) * 400'000;
  return f;
}

ParsedRtcp Parse(const std::vector<uint8_t>& bytes) {
  ParsedRtcp p;
  REQUIRE(ParseRtcpCompound(bytes, &p).ok());
  return p;
}

}  // namespace

TEST_CASE("ReceiveStream: configurations that cannot work are refused") {
  auto code = [](auto edit) {
    ReceiveStreamConfig c = ReceiverConfig(true);
    edit(c);
    auto r = ReceiveStream::Create(c, SeededRandom(1), nullptr);
    return r.ok() ? std::string("ok") : r.status().code();
  };
  CHECK(code([](ReceiveStreamConfig&) {}) == "ok");
  CHECK(code([](ReceiveStreamConfig& c) { c.payloadTypes.clear(); }) == "ERR_MEDIA_CONFIG");
  CHECK(code([](ReceiveStreamConfig& c) { c.payloadTypes = {200}; }) == "ERR_MEDIA_CONFIG");
  CHECK(code([](ReceiveStreamConfig& c) { c.rtx->payloadType = 102; }) == "ERR_MEDIA_CONFIG");
  CHECK(code([](ReceiveStreamConfig& c) { c.maxLatencyUs = 0; }) == "ERR_MEDIA_CONFIG");
  CHECK(code([](ReceiveStreamConfig& c) { c.transportCcExtensionId = 5; }) ==
        "ERR_MEDIA_CONFIG");  // no TransportFeedbackReceiver
}

TEST_CASE("ReceiveStream: 300 frames across the sequence and timestamp wraps, whole and counted") {
  auto send = MakeSender(SenderConfig(false));
  auto recv = MakeReceiver(ReceiverConfig(false));
  SendStreamOutput so;
  ReceiveStreamOutput ro;
  std::vector<ReceivedFrame> frames;
  for (size_t i = 0; i < 300; ++i) {
    so.Clear();
    const int64_t now = int64_t(i) * 40'000;
    REQUIRE(send->SendFrame(SampleFrame(i), now, so).ok());
    for (const auto& p : so.packets) recv->OnRtp(Wire(p), now + 10'000, ro);
    for (auto& f : ro.frames) frames.push_back(std::move(f));
    ro.frames.clear();
  }
  REQUIRE(frames.size() == 300);
  for (size_t i = 0; i < 300; ++i) {
    CHECK(NalsOf(frames[i].data) == NalsOf(*SampleH264Frames()[i % 250]));
    CHECK(frames[i].presentationTs == int64_t(i) * 400'000);  // 0xFFFFFF00 wrapped at frame 0
    CHECK(frames[i].rtpTimestamp == static_cast<uint32_t>(0xFFFFFF00u + i * 3600));
    CHECK(frames[i].ssrc == kMedia);
    CHECK(((frames[i].flags & kFrameFlagKeyFrame) != 0) == (i % 25 == 0));
  }
  const OutboundRtpStats out = send->outboundStats();
  const InboundRtpStats in = recv->inboundStats();
  CHECK(in.packetsReceived == out.packetsSent);
  CHECK(in.bytesReceived == out.bytesSent);
  CHECK(in.headerBytesReceived == out.headerBytesSent);
  CHECK(in.packetsLost == 0);
  CHECK(in.jitter == 0);  // every frame arrived exactly 10 ms after it was sent
  CHECK(in.framesReceived == 300);
  CHECK(in.keyFramesReceived == 12);
  CHECK(in.framesDropped == 0);
  CHECK(in.jitterBufferEmittedCount == 300);
  CHECK(in.frameWidth == 640u);
  CHECK(in.frameHeight == 480u);
  REQUIRE(in.framesPerSecond.has_value());
  CHECK(*in.framesPerSecond == 25.0);
  CHECK(in.lastPacketReceivedUs == 299 * 40'000 + 10'000);
  CHECK(in.pliCount == 0);  // the first frame was a key frame: nothing to ask for
  CHECK(in.nackCount == 0);
}

TEST_CASE("ReceiveStream: a lost packet is NACKed and repaired over RTX") {
  for (bool rtx : {true, false}) {
    CAPTURE(rtx);
    auto send = MakeSender(SenderConfig(rtx));
    auto recv = MakeReceiver(ReceiverConfig(rtx));
    SendStreamOutput so;
    ReceiveStreamOutput ro;
    REQUIRE(send->SendFrame(SampleFrame(0), 0, so).ok());
    REQUIRE(so.packets.size() >= 4);
    const uint16_t lostSeq = so.packets[2].sequenceNumber;
    for (size_t i = 0; i < so.packets.size(); ++i) {
      if (i != 2) recv->OnRtp(Wire(so.packets[i]), 1000, ro);
    }
    CHECK(ro.frames.empty());
    // The gap was NACKed at once, in an RR + SDES + NACK compound.
    REQUIRE(ro.rtcp.size() == 1);
    CHECK(rtp::ValidateRtcpCompound(ro.rtcp[0], rtp::RtcpMode::kCompound).ok());
    ParsedRtcp fb = Parse(ro.rtcp[0]);
    REQUIRE(fb.nacks.size() == 1);
    CHECK(fb.nacks[0].senderSsrc == kLocal);
    CHECK(fb.nacks[0].mediaSsrc == kMedia);
    CHECK(rtp::UnpackNack(fb.nacks[0].items) == std::vector<uint16_t>{lostSeq});
    REQUIRE(fb.receiverReports.size() == 1);
    // The sender answers.
    so.Clear();
    send->OnRtcp(fb, 20'000, so);
    REQUIRE(so.packets.size() == 1);
    CHECK(so.packets[0].ssrc == (rtx ? kRtx : kMedia));
    recv->OnRtp(Wire(so.packets[0]), 40'000, ro);
    REQUIRE(ro.frames.size() == 1);
    CHECK(NalsOf(ro.frames[0].data) == NalsOf(*SampleH264Frames()[0]));
    const InboundRtpStats in = recv->inboundStats();
    CHECK(in.nackCount == 1);
    CHECK(in.nackedPackets == 1);
    CHECK(in.retransmittedPacketsReceived == (rtx ? 1u : 0u));
    CHECK(in.packetsLost == (rtx ? 1 : 0));  // RTX is another SSRC for RFC 3550 counts
    CHECK(in.jitterBufferDelay == doctest::Approx(0.039));  // first packet at 1 ms, out at 40
    // No more NACKs for it.
    ro.Clear();
    recv->Tick(500'000, ro);
    for (const auto& b : ro.rtcp) CHECK(Parse(b).nacks.empty());
  }
}

TEST_CASE("ReceiveStream: receiver reports every 0.5-1.5 s, with LSR/DLSR after an SR") {
  auto send = MakeSender(SenderConfig(false));
  auto recv = MakeReceiver(ReceiverConfig(false));
  SendStreamOutput so;
  ReceiveStreamOutput ro;
  ro.Clear();
  recv->Tick(0, ro);
  CHECK(ro.rtcp.empty());  // nothing received yet: nothing to report
  std::vector<int64_t> reportTimes;
  int64_t srAt = -1;
  uint32_t srCompact = 0;
  for (int64_t now = 0; now < 20'000'000; now += 10'000) {
    if (now % 40'000 == 0) {
      so.Clear();
      REQUIRE(send->SendFrame(SampleFrame(size_t(now / 40'000)), now, so).ok());
      for (const auto& p : so.packets) recv->OnRtp(Wire(p), now, ro);
      so.Clear();
      send->Tick(now, 1'700'000'000'000'000 + now, so);
      if (!so.rtcp.empty() && srAt < 0 && now > 3'000'000) {
        ParsedRtcp sr = Parse(so.rtcp[0]);
        recv->OnRtcp(sr, now, ro);
        srAt = now;
        srCompact = rtp::CompactNtp(sr.senderReports[0].info.ntpTimestamp);
      }
    }
    ro.Clear();
    recv->Tick(now, ro);
    for (const auto& b : ro.rtcp) {
      ParsedRtcp p = Parse(b);
      REQUIRE(p.receiverReports.size() == 1);
      CHECK(p.receiverReports[0].ssrc == kLocal);
      REQUIRE(p.receiverReports[0].reportBlocks.size() == 1);
      const rtp::ReportBlock& blk = p.receiverReports[0].reportBlocks[0];
      CHECK(blk.ssrc == kMedia);
      CHECK(blk.cumulativeLost == 0);
      if (srAt >= 0) {
        CHECK(blk.lastSr == srCompact);
        CHECK(blk.delaySinceLastSr == rtp::CompactNtpFromMicros(now - srAt));
      } else {
        CHECK(blk.lastSr == 0);
      }
      reportTimes.push_back(now);
    }
  }
  REQUIRE(reportTimes.size() >= 14);
  CHECK(reportTimes.size() <= 40);
  for (size_t i = 1; i < reportTimes.size(); ++i) {
    CHECK(reportTimes[i] - reportTimes[i - 1] >= 500'000);
    CHECK(reportTimes[i] - reportTimes[i - 1] <= 1'510'000);
  }
  CHECK(recv->inboundStats().receiverReportsSent == reportTimes.size());
  const RemoteOutboundRtpStats ro2 = recv->remoteOutboundStats();
  CHECK(ro2.reportsSent == 1);
  REQUIRE(ro2.remoteTimestamp.has_value());
  CHECK(*ro2.remoteTimestamp ==
        doctest::Approx(static_cast<double>(1'700'000'000'000'000 + srAt) / 1000.0));
}

TEST_CASE("ReceiveStream: key-frame requests, PLI or FIR, rate limited and repeated") {
  SUBCASE("the app asks: PLI now, again only after 300 ms, until a key frame") {
    auto send = MakeSender(SenderConfig(false));
    auto recv = MakeReceiver(ReceiverConfig(false));
    SendStreamOutput so;
    ReceiveStreamOutput ro;
    REQUIRE(send->SendFrame(SampleFrame(0), 0, so).ok());
    for (const auto& p : so.packets) recv->OnRtp(Wire(p), 0, ro);
    REQUIRE(ro.frames.size() == 1);
    ro.Clear();
    recv->RequestKeyFrame(100'000, ro);
    REQUIRE(ro.rtcp.size() == 1);
    ParsedRtcp p = Parse(ro.rtcp[0]);
    REQUIRE(p.plis.size() == 1);
    CHECK(p.plis[0].senderSsrc == kLocal);
    CHECK(p.plis[0].mediaSsrc == kMedia);
    REQUIRE(ro.events.size() == 1);
    CHECK(ro.events[0].type == ReceiveStreamEvent::Type::kKeyFrameRequested);
    CHECK(ro.events[0].requestReason == KeyFrameRequestReason::kApp);
    ro.Clear();
    recv->RequestKeyFrame(200'000, ro);
    CHECK(ro.rtcp.empty());
    recv->Tick(399'999, ro);
    CHECK(ro.rtcp.empty());
    recv->Tick(400'000, ro);
    CHECK(ro.rtcp.size() == 1);  // repeated: no key frame came
    // The sender's answer ends it.
    so.Clear();
    send->OnRtcp(p, 410'000, so);
    REQUIRE(so.events.size() == 1);
    REQUIRE(send->SendFrame(SampleFrame(25), 420'000, so).ok());
    for (const auto& pk : so.packets) recv->OnRtp(Wire(pk), 420'000, ro);
    ro.Clear();
    recv->Tick(1'000'000, ro);
    for (const auto& b : ro.rtcp) CHECK(Parse(b).plis.empty());
    CHECK(recv->inboundStats().pliCount == 2);
  }
  SUBCASE("only FIR negotiated; reduced-size RTCP sends it alone") {
    ReceiveStreamConfig c = ReceiverConfig(false);
    c.feedback.pli = false;
    c.feedback.fir = true;
    c.reducedSizeRtcp = true;
    auto recv = MakeReceiver(c);
    ReceiveStreamOutput ro;
    recv->RequestKeyFrame(0, ro);
    REQUIRE(ro.rtcp.size() == 1);
    ParsedRtcp p = Parse(ro.rtcp[0]);
    CHECK(p.receiverReports.empty());
    REQUIRE(p.firs.size() == 1);
    CHECK(p.firs[0].entries[0].ssrc == kMedia);
    CHECK(p.firs[0].entries[0].sequenceNumber == 0);
    recv->Tick(300'000, ro);
    REQUIRE(ro.rtcp.size() == 2);
    CHECK(Parse(ro.rtcp[1]).firs[0].entries[0].sequenceNumber == 1);
    CHECK(recv->inboundStats().firCount == 2);
  }
  SUBCASE("a stream that starts with a P frame asks at once, then every 200 ms") {
    auto send = MakeSender(SenderConfig(false));
    auto recv = MakeReceiver(ReceiverConfig(false));
    SendStreamOutput so;
    ReceiveStreamOutput ro;
    REQUIRE(send->SendFrame(SampleFrame(0), 0, so).ok());
    so.Clear();  // the IDR is lost on the way
    std::vector<int64_t> plis;
    for (size_t i = 1; i < 25; ++i) {
      const int64_t now = int64_t(i) * 40'000;
      so.Clear();
      REQUIRE(send->SendFrame(SampleFrame(i), now, so).ok());
      for (const auto& p : so.packets) recv->OnRtp(Wire(p), now, ro);
      recv->Tick(now, ro);
      for (const auto& b : ro.rtcp) {
        if (!Parse(b).plis.empty()) plis.push_back(now);
      }
      ro.rtcp.clear();
    }
    REQUIRE(plis.size() >= 4);
    for (size_t i = 1; i < plis.size(); ++i) CHECK(plis[i] - plis[i - 1] >= 200'000);
    CHECK(plis[1] - plis[0] <= 240'000);
    CHECK(recv->inboundStats().framesDropped > 0);
  }
}

TEST_CASE("ReceiveStream: padding, RTX probes, and packets for someone else") {
  auto recv = MakeReceiver(ReceiverConfig(true));
  ReceiveStreamOutput ro;
  auto pad = [](uint32_t ssrc, uint8_t pt, uint16_t seq) {
    rtp::RtpHeader h;
    h.ssrc = ssrc;
    h.payloadType = pt;
    h.sequenceNumber = seq;
    h.paddingSize = 200;
    std::vector<uint8_t> out;
    ByteWriter w(out);
    REQUIRE(rtp::WriteRtpPacket(h, ByteSpan(), w).ok());
    return out;
  };
  recv->OnRtp(pad(kMedia, 102, 10), 0, ro);
  recv->OnRtp(pad(kMedia, 102, 11), 0, ro);
  recv->OnRtp(pad(kRtx, 103, 500), 0, ro);   // a bandwidth probe on RTX: no OSN
  recv->OnRtp(pad(0x9999, 102, 12), 0, ro);  // another SSRC
  recv->OnRtp(pad(kMedia, 99, 12), 0, ro);   // another payload type
  recv->OnRtp({0x80, 0x66}, 0, ro);          // not RTP
  InboundRtpStats in = recv->inboundStats();
  CHECK(in.packetsReceived == 2);
  CHECK(in.paddingPacketsReceived == 3);
  CHECK(in.bytesReceived == 0);
  CHECK(in.headerBytesReceived == 3 * 212);
  CHECK(in.packetsRejected == 3);
  CHECK(in.packetsLost == 0);
  CHECK(ro.frames.empty());
}

TEST_CASE("ReceiveStream: Opus counts samples; audio frames come one per packet") {
  SendStreamConfig sc;
  sc.codec = sdp::Codec::kOpus;
  sc.payloadType = 111;
  sc.ssrc = kMedia;
  auto send = MakeSender(sc);
  ReceiveStreamConfig rc;
  rc.codec = sdp::Codec::kOpus;
  rc.payloadTypes = {111};
  rc.remoteSsrc = kMedia;
  rc.localSsrc = kLocal;
  auto recv = MakeReceiver(rc);
  const auto opus = MakeShared(
      kvs::media::testing::ReadFile(kvs::media::testing::RepoPath("samples/opus/sample-001.opus")));
  SendStreamOutput so;
  ReceiveStreamOutput ro;
  for (int i = 0; i < 50; ++i) {
    so.Clear();
    EncodedFrame f;
    f.data = opus;
    f.presentationTs = int64_t(i) * 200'000;
    REQUIRE(send->SendFrame(f, i * 20'000, so).ok());
    for (const auto& p : so.packets) recv->OnRtp(Wire(p), i * 20'000 + 5000, ro);
  }
  REQUIRE(ro.frames.size() == 50);
  CHECK(ro.frames[49].presentationTs == 49 * 200'000);
  CHECK((ro.frames[3].flags & kFrameFlagKeyFrame) != 0);
  const InboundRtpStats in = recv->inboundStats();
  CHECK(in.kind == sdp::MediaKind::kAudio);
  CHECK(in.totalSamplesReceived == 50 * 960);
  CHECK(in.jitterBufferEmittedCount == 50 * 960);
  CHECK(in.framesReceived == 0);  // video only
  CHECK_FALSE(in.framesPerSecond.has_value());
}

TEST_CASE("ReceiveStream and SendStream: NextTickUs always lies ahead after a Tick") {
  // A caller that sleeps until NextTickUs must never spin: drive both streams by it alone for
  // 30 s after a short stream with losses, and count the wake-ups.
  auto send = MakeSender(SenderConfig(true));
  auto recv = MakeReceiver(ReceiverConfig(true));
  SendStreamOutput so;
  ReceiveStreamOutput ro;
  for (size_t i = 0; i < 30; ++i) {
    so.Clear();
    REQUIRE(send->SendFrame(SampleFrame(i), int64_t(i) * 40'000, so).ok());
    for (size_t k = 0; k < so.packets.size(); ++k) {
      if ((i + k) % 7 != 3) recv->OnRtp(Wire(so.packets[k]), int64_t(i) * 40'000, ro);
    }
  }
  int64_t now = 30 * 40'000;
  int wakeups = 0;
  while (now < 31'000'000 && wakeups < 10'000) {
    ro.Clear();
    so.Clear();
    recv->Tick(now, ro);
    send->Tick(now, 1'700'000'000'000'000 + now, so);
    const int64_t next = std::min(recv->NextTickUs(), send->NextTickUs());
    REQUIRE(next > now);
    now = next;
    ++wakeups;
  }
  MESSAGE("wake-ups over 30 s: " << wakeups);
  // SRs every 100-300 ms and RRs every 0.5-1.5 s dominate: about 150 + 30.
  CHECK(wakeups < 400);
}

TEST_CASE("SendStream -> ReceiveStream: H.265 and VP8 frames, key flags and picture sizes") {
  using kvs::media::testing::FromHex;
  struct Case {
    sdp::Codec codec;
    std::vector<std::string_view> frames;
    std::vector<bool> key;
  };
  const Case cases[] = {
      {sdp::Codec::kH265,
       {fixtures::kH265Idr, fixtures::kH265P1, fixtures::kH265P2, fixtures::kH265Idr2},
       {true, false, false, true}},
      {sdp::Codec::kVp8,
       {fixtures::kVp8Key, fixtures::kVp8Inter1, fixtures::kVp8Inter2, fixtures::kVp8Key2},
       {true, false, false, true}},
  };
  for (const Case& c : cases) {
    CAPTURE(sdp::InfoOf(c.codec).name);
    SendStreamConfig sc = SenderConfig(false);
    sc.codec = c.codec;
    ReceiveStreamConfig rc = ReceiverConfig(false);
    rc.codec = c.codec;
    auto send = MakeSender(sc);
    auto recv = MakeReceiver(rc);
    SendStreamOutput so;
    ReceiveStreamOutput ro;
    for (size_t i = 0; i < c.frames.size(); ++i) {
      so.Clear();
      EncodedFrame f;
      f.data = MakeShared(FromHex(c.frames[i]));
      f.presentationTs = int64_t(i) * 400'000;
      REQUIRE(send->SendFrame(f, int64_t(i) * 40'000, so).ok());
      for (const auto& p : so.packets) recv->OnRtp(Wire(p), int64_t(i) * 40'000, ro);
    }
    REQUIRE(ro.frames.size() == c.frames.size());
    for (size_t i = 0; i < c.frames.size(); ++i) {
      CHECK(((ro.frames[i].flags & kFrameFlagKeyFrame) != 0) == c.key[i]);
      if (c.codec == sdp::Codec::kVp8) {
        CHECK(ro.frames[i].data == FromHex(c.frames[i]));
      } else {
        CHECK(NalsOf(ro.frames[i].data) == NalsOf(FromHex(c.frames[i])));
      }
    }
    const OutboundRtpStats out = send->outboundStats();
    const InboundRtpStats in = recv->inboundStats();
    CHECK(out.keyFramesEncoded == 2);
    CHECK(in.keyFramesReceived == 2);
    CHECK(out.frameWidth == 320u);
    CHECK(out.frameHeight == 240u);
    CHECK(in.frameWidth == 320u);
    CHECK(in.frameHeight == 240u);
  }
}

TEST_CASE("SendStream SRs can carry a ReceiveStream's report block (sendrecv)") {
  // Our receive side hears the peer's stream; our send side's SRs report on it.
  auto peerSend = MakeSender(SenderConfig(false));
  ReceiveStreamConfig rc = ReceiverConfig(false);
  rc.sendReceiverReports = false;
  auto recv = MakeReceiver(rc);
  SendStreamConfig ours = SenderConfig(false);
  ours.ssrc = kLocal;
  auto send = MakeSender(ours);
  send->SetReportBlockProvider([&](int64_t now, std::vector<rtp::ReportBlock>& blocks) {
    if (auto b = recv->MakeReportBlock(now)) blocks.push_back(*b);
  });
  SendStreamOutput so;
  ReceiveStreamOutput ro;
  for (size_t i = 0; i < 50; ++i) {
    const int64_t now = int64_t(i) * 40'000;
    so.Clear();
    REQUIRE(peerSend->SendFrame(SampleFrame(i), now, so).ok());
    for (size_t k = 0; k < so.packets.size(); ++k) {
      if (!(i == 10 && k == 1)) recv->OnRtp(Wire(so.packets[k]), now, ro);
    }
    so.Clear();
    REQUIRE(send->SendFrame(SampleFrame(i), now, so).ok());
    ro.Clear();
    recv->Tick(now, ro);
    for (const auto& b : ro.rtcp) CHECK(Parse(b).receiverReports.empty() == Parse(b).nacks.empty());
  }
  so.Clear();
  send->Tick(2'000'000, 1'700'000'000'000'000, so);
  REQUIRE(so.rtcp.size() == 1);
  ParsedRtcp sr = Parse(so.rtcp[0]);
  REQUIRE(sr.senderReports.size() == 1);
  CHECK(sr.senderReports[0].ssrc == kLocal);
  REQUIRE(sr.senderReports[0].reportBlocks.size() == 1);
  CHECK(sr.senderReports[0].reportBlocks[0].ssrc == kMedia);
  CHECK(sr.senderReports[0].reportBlocks[0].cumulativeLost == 1);
  CHECK(recv->NextTickUs() > 2'000'000);  // no RR timer of its own
}
