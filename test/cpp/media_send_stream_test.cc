// SendStream: packetizing real H.264 frames into RTP with the negotiated extensions, key-frame
// gating, timestamps from presentation times, resends from the rolling buffer (plain and RTX,
// across the sequence number wrap, byte for byte), PLI/FIR/REMB, report blocks and SRs, and
// the stats on the way.
#include "media/send_stream.h"

#include <doctest/doctest.h>

#include <map>

#include "media/h264_depacketizer.h"
#include "media_stream_test_util.h"
#include "media_test_util.h"
#include "rtp/ntp_time.h"
#include "rtp/rtcp_compound.h"
#include "rtp/rtcp_report.h"
#include "rtp/rtp_extension_codecs.h"
#include "rtp/rtp_packet.h"

using namespace kvs;
using namespace kvs::media;
using kvs::media::testing::ConstantRandom;
using kvs::media::testing::SampleH264Frames;
using kvs::media::testing::SeededRandom;
using kvs::media::testing::Wire;

namespace {

constexpr uint32_t kSsrc = 0xA1B2C3D4;
constexpr uint32_t kRtxSsrc = 0x0BADF00D;
constexpr uint32_t kPeer = 0x5EED;

// Counts transport-wide numbers and remembers each send note.
class FakeSequencer : public TransportSequencer {
 public:
  uint16_t NextTransportSequence() override { return next++; }
  void OnTransportPacketSent(uint16_t seq, size_t size, int64_t sendUs) override {
    notes.push_back({seq, size, sendUs});
  }
  struct Note {
    uint16_t seq;
    size_t size;
    int64_t sendUs;
  };
  uint16_t next = 65530;  // wraps within the tests
  std::vector<Note> notes;
};

SendStreamConfig VideoConfig() {
  SendStreamConfig c;
  c.codec = sdp::Codec::kH264;
  c.payloadType = 125;
  c.ssrc = kSsrc;
  c.midExtensionId = 4;
  c.mid = "0";
  c.absSendTimeExtensionId = 2;
  c.transportCcExtensionId = 3;
  c.feedback.nack = true;
  c.feedback.pli = true;
  c.feedback.fir = true;
  c.cname = "test-cname";
  c.initialSequenceNumber = 65500;
  c.initialTimestamp = 0xFFFFFF00u;
  return c;
}

std::unique_ptr<SendStream> Make(const SendStreamConfig& c, TransportSequencer* seq) {
  auto s = SendStream::Create(c, SeededRandom(7), seq);
  REQUIRE_MESSAGE(s.ok(), s.status().code() << ": " << s.status().message());
  return s.take();
}

EncodedFrame FrameAt(size_t sampleIndex, int64_t ptsHundredNs) {
  const auto& frames = SampleH264Frames();
  EncodedFrame f;
  f.data = frames[sampleIndex % frames.size()];
  f.presentationTs = ptsHundredNs;
  f.decodingTs = ptsHundredNs;
  return f;
}

// The sample frames at 25 fps: frame i at i * 40 ms.
int64_t Pts(size_t i) { return static_cast<int64_t>(i) * 400'000; }

rtp::RtpPacketView Parse(const std::vector<uint8_t>& bytes) {
  rtp::RtpPacketView v;
  REQUIRE(rtp::ParseRtp(bytes, &v).ok());
  return v;
}

rtp::Nack NackOf(std::vector<uint16_t> seqs) {
  rtp::Nack n;
  n.senderSsrc = kPeer;
  n.mediaSsrc = kSsrc;
  n.items = rtp::PackNack(seqs);
  return n;
}

}  // namespace

TEST_CASE("SendStream: configurations that cannot work are refused") {
  FakeSequencer seq;
  auto code = [&](auto edit, TransportSequencer* s) {
    SendStreamConfig c = VideoConfig();
    edit(c);
    auto r = SendStream::Create(c, SeededRandom(1), s);
    return r.ok() ? std::string("ok") : r.status().code();
  };
  CHECK(code([](SendStreamConfig&) {}, &seq) == "ok");
  CHECK(code([](SendStreamConfig& c) { c.payloadType = 128; }, &seq) == "ERR_MEDIA_CONFIG");
  CHECK(code([](SendStreamConfig& c) { c.absSendTimeExtensionId = 4; }, &seq) ==
        "ERR_MEDIA_CONFIG");
  CHECK(code([](SendStreamConfig& c) { c.midExtensionId = 15; }, &seq) == "ERR_MEDIA_CONFIG");
  CHECK(code([](SendStreamConfig& c) { c.mid = std::string(17, 'm'); }, &seq) ==
        "ERR_MEDIA_CONFIG");
  CHECK(code([](SendStreamConfig& c) { c.mid = ""; }, &seq) == "ERR_MEDIA_CONFIG");
  CHECK(code([](SendStreamConfig&) {}, nullptr) == "ERR_MEDIA_CONFIG");  // transport-cc
  CHECK(code([](SendStreamConfig& c) { c.rollingBuffer.seconds = 0.05; }, &seq) ==
        "ERR_MEDIA_CONFIG");
  CHECK(code([](SendStreamConfig& c) { c.rollingBuffer.seconds = 10.5; }, &seq) ==
        "ERR_MEDIA_CONFIG");
  CHECK(code([](SendStreamConfig& c) { c.mtu = 50; }, &seq) == "ERR_MEDIA_CONFIG");
  CHECK(code(
            [](SendStreamConfig& c) {
              c.rtx = RtxSendConfig{125, 1};
            },
            &seq) == "ERR_MEDIA_CONFIG");
  CHECK(code(
            [](SendStreamConfig& c) {
              c.rtx = RtxSendConfig{126, kSsrc};
            },
            &seq) == "ERR_MEDIA_CONFIG");
}

TEST_CASE("SendStream: H.264 frames become RTP packets with every negotiated field") {
  FakeSequencer seq;
  SendStreamConfig c = VideoConfig();
  c.rtx = RtxSendConfig{126, kRtxSsrc};
  auto s = Make(c, &seq);
  // 12 + 4 + mid (2) + abs-send-time (4) + transport-cc (3) = 25, padded to 28; + OSN + SRTP.
  CHECK(s->maxPayloadSize() == 1200 - 28 - 2 - 16);

  SendStreamOutput out;
  const int64_t now = 5'000'000;
  REQUIRE(s->SendFrame(FrameAt(0, Pts(0)), now, out).ok());  // an IDR with SPS/PPS
  REQUIRE(out.packets.size() > 1);
  CHECK(out.events.empty());

  std::vector<std::vector<uint8_t>> payloads;
  uint16_t expectSeq = 65500;
  for (size_t i = 0; i < out.packets.size(); ++i) {
    const OutgoingRtpPacket& p = out.packets[i];
    auto bytes = Wire(p);
    CHECK(bytes.size() + 16 <= 1200 - 2);  // leaves room for the OSN of a resend
    rtp::RtpPacketView v = Parse(bytes);
    CHECK(v.payloadType == 125);
    CHECK(v.ssrc == kSsrc);
    CHECK(v.sequenceNumber == expectSeq);
    CHECK(p.sequenceNumber == expectSeq);
    ++expectSeq;
    CHECK(v.timestamp == 0xFFFFFF00u);
    CHECK(v.marker == (i + 1 == out.packets.size()));
    CHECK_FALSE(p.retransmission);
    REQUIRE(v.extensions.Find(4).has_value());
    CHECK(rtp::ParseSdesExtension(*v.extensions.Find(4)).value() == "0");
    REQUIRE(v.extensions.Find(2).has_value());
    CHECK(rtp::ParseAbsSendTime(*v.extensions.Find(2)).value() == rtp::AbsSendTimeFromMicros(now));
    REQUIRE(v.extensions.Find(3).has_value());
    const uint16_t twcc = rtp::ParseTransportSequenceNumber(*v.extensions.Find(3)).value();
    CHECK(twcc == static_cast<uint16_t>(65530 + i));  // across the wrap too
    CHECK(p.transportSequence == twcc);
    payloads.emplace_back(v.payload.data, v.payload.data + v.payload.size);
  }
  // Every packet was noted sent at once, with its size.
  REQUIRE(seq.notes.size() == out.packets.size());
  for (size_t i = 0; i < seq.notes.size(); ++i) {
    CHECK(seq.notes[i].seq == out.packets[i].transportSequence);
    CHECK(seq.notes[i].size == out.packets[i].size());
    CHECK(seq.notes[i].sendUs == now);
  }
  // The payloads are the frame again.
  H264Depacketizer d;
  auto frame = d.Depacketize(kvs::media::testing::Spans(payloads));
  REQUIRE(frame.ok());
  CHECK(frame.value().keyFrame);
  CHECK(kvs::media::testing::NalsOf(frame.value().data) ==
        kvs::media::testing::NalsOf(*SampleH264Frames()[0]));

  OutboundRtpStats st = s->outboundStats();
  CHECK(st.packetsSent == out.packets.size());
  size_t payloadBytes = 0, headerBytes = 0;
  for (const auto& p : out.packets) {
    payloadBytes += p.payload.size();
    headerBytes += p.headerSize;
  }
  CHECK(st.bytesSent == payloadBytes);
  CHECK(st.headerBytesSent == headerBytes);
  CHECK(st.framesEncoded == 1);
  CHECK(st.keyFramesEncoded == 1);
  CHECK(st.framesSent == 1);
  CHECK(st.frameWidth == 640u);
  CHECK(st.frameHeight == 480u);
  CHECK(st.lastPacketSentUs == now);
  CHECK(st.totalPacketSendDelay == 0);
  CHECK(st.rtxSsrc == kRtxSsrc);
}

TEST_CASE("SendStream: RTP timestamps come from presentationTs, not a fixed step") {
  FakeSequencer seq;
  auto s = Make(VideoConfig(), &seq);
  SendStreamOutput out;
  // Irregular capture times (100 ns units): 0, 40 ms, 100 ms, 100.5 ms, 1 h later.
  const int64_t pts[] = {123'456'789, 123'456'789 + 400'000, 123'456'789 + 1'000'000,
                         123'456'789 + 1'005'000, 123'456'789 + 36'000'000'000};
  const uint32_t expect[] = {0xFFFFFF00u, 0xFFFFFF00u + 3600, 0xFFFFFF00u + 9000,
                             0xFFFFFF00u + 9045, 0xFFFFFF00u + 324'000'000u};
  for (size_t i = 0; i < 5; ++i) {
    out.Clear();
    REQUIRE(s->SendFrame(FrameAt(i == 0 ? 0 : i, pts[i]), 1'000'000 + int64_t(i), out).ok());
    REQUIRE_FALSE(out.packets.empty());
    CHECK(Parse(Wire(out.packets[0])).timestamp == expect[i]);  // wraps past 2^32 at once
  }
}

TEST_CASE("SendStream: video waits for a key frame, and tells the app") {
  FakeSequencer seq;
  auto s = Make(VideoConfig(), &seq);
  SendStreamOutput out;
  CHECK(s->waitingForKeyFrame());
  // Frames 1-3 of the sample are P frames: discarded, one event at once.
  REQUIRE(s->SendFrame(FrameAt(1, Pts(1)), 0, out).ok());
  CHECK(out.packets.empty());
  REQUIRE(out.events.size() == 1);
  CHECK(out.events[0].type == SendStreamEvent::Type::kKeyFrameNeeded);
  CHECK(out.events[0].reason == KeyFrameReason::kFirstFrame);
  REQUIRE(s->SendFrame(FrameAt(2, Pts(2)), 40'000, out).ok());
  CHECK(out.events.size() == 1);  // not again within 500 ms
  REQUIRE(s->SendFrame(FrameAt(3, Pts(3)), 600'000, out).ok());
  CHECK(out.events.size() == 2);  // the app still sends P frames: told again
  CHECK(out.packets.empty());
  CHECK(s->outboundStats().framesDiscardedOnSend == 3);
  // The key frame goes; the P frames after it too.
  REQUIRE(s->SendFrame(FrameAt(25, Pts(4)), 640'000, out).ok());
  CHECK_FALSE(out.packets.empty());
  CHECK_FALSE(s->waitingForKeyFrame());
  const size_t after = out.packets.size();
  REQUIRE(s->SendFrame(FrameAt(26, Pts(5)), 680'000, out).ok());
  CHECK(out.packets.size() > after);
  CHECK(s->outboundStats().framesSent == 2);
  CHECK(s->outboundStats().keyFrameRequestsRaised == 2);
}

TEST_CASE("SendStream: PLI and FIR ask the app for a key frame; FIR repeats do not") {
  FakeSequencer seq;
  auto s = Make(VideoConfig(), &seq);
  SendStreamOutput out;
  REQUIRE(s->SendFrame(FrameAt(0, Pts(0)), 0, out).ok());
  out.Clear();

  s->OnPli({kPeer, kSsrc}, 1'000'000, out);
  REQUIRE(out.events.size() == 1);
  CHECK(out.events[0].reason == KeyFrameReason::kPli);
  CHECK(out.events[0].fromSsrc == kPeer);
  s->OnPli({kPeer, kSsrc + 1}, 1'000'000, out);  // another SSRC: not ours
  CHECK(out.events.size() == 1);
  s->OnPli({kPeer, kSsrc}, 1'200'000, out);  // Chromium repeats every 200 ms
  CHECK(out.events.size() == 1);
  // P frames meanwhile are held back: the receiver cannot decode them.
  REQUIRE(s->SendFrame(FrameAt(1, Pts(1)), 1'300'000, out).ok());
  CHECK(out.packets.empty());
  s->OnPli({kPeer, kSsrc}, 1'600'000, out);
  CHECK(out.events.size() == 2);  // 600 ms after the first: again
  REQUIRE(s->SendFrame(FrameAt(25, Pts(2)), 1'700'000, out).ok());
  CHECK_FALSE(out.packets.empty());
  CHECK(s->outboundStats().pliCount == 3);

  out.Clear();
  rtp::Fir fir{kPeer, {{kSsrc, 7}}};
  s->OnFir(fir, 2'000'000, out);
  REQUIRE(out.events.size() == 1);
  CHECK(out.events[0].reason == KeyFrameReason::kFir);
  REQUIRE(s->SendFrame(FrameAt(50, Pts(3)), 2'010'000, out).ok());  // answered
  out.Clear();
  s->OnFir(fir, 2'100'000, out);  // the same request again (RFC 5104: a repetition)
  CHECK(out.events.empty());
  CHECK_FALSE(s->waitingForKeyFrame());
  fir.entries[0].sequenceNumber = 8;  // a new one
  s->OnFir(fir, 2'200'000, out);
  CHECK(out.events.size() == 1);
  rtp::Fir other{kPeer + 1, {{kSsrc, 7}}};  // another sender's numbers are its own
  s->RequestKeyFrame(KeyFrameReason::kRequested, 2'300'000, out);  // already waiting: quiet
  CHECK(out.events.size() == 1);
  s->OnFir(other, 2'900'000, out);
  CHECK(out.events.size() == 2);
  CHECK(s->outboundStats().firCount == 4);
}

TEST_CASE("SendStream: NACK resends the original packets, intact, across the wrap") {
  FakeSequencer seq;
  SendStreamConfig c = VideoConfig();
  c.absSendTimeExtensionId = 0;
  c.transportCcExtensionId = 0;  // so that a plain resend is byte-identical
  auto s = Make(c, nullptr);
  SendStreamOutput out;
  std::map<uint16_t, std::vector<uint8_t>> sent;
  uint16_t newest = 0;
  for (size_t i = 0; i < 30; ++i) {
    out.Clear();
    REQUIRE(s->SendFrame(FrameAt(i, Pts(i)), int64_t(i) * 40'000, out).ok());
    for (const auto& p : out.packets) {
      sent[p.sequenceNumber] = Wire(p);
      newest = p.sequenceNumber;
    }
  }
  REQUIRE(newest > 30);
  REQUIRE(sent.size() > 70);  // 65500 ... past 65535 ... into the 0s
  REQUIRE(sent.count(65535));
  REQUIRE(sent.count(0));
  out.Clear();
  const std::vector<uint16_t> lost = {65534, 65535, 0, 1, 5, 30};
  s->OnNack(NackOf(lost), 1'300'000, out);
  REQUIRE(out.packets.size() == lost.size());
  for (size_t i = 0; i < lost.size(); ++i) {
    const OutgoingRtpPacket& p = out.packets[i];
    CHECK(p.retransmission);
    CHECK(p.sequenceNumber == lost[i]);
    CHECK(Wire(p) == sent[lost[i]]);  // what was first sent, byte for byte
  }
  OutboundRtpStats st = s->outboundStats();
  CHECK(st.nackCount == 1);
  CHECK(st.nackedPackets == lost.size());
  CHECK(st.retransmittedPacketsSent == lost.size());
  size_t bytes = 0;
  for (const auto& p : out.packets) bytes += p.payload.size();
  CHECK(st.retransmittedBytesSent == bytes);
  // Unknown numbers: never sent (65499) and not yet sent.
  out.Clear();
  s->OnNack(NackOf({65499, static_cast<uint16_t>(newest + 100)}), 1'300'000, out);
  CHECK(out.packets.empty());
  CHECK(s->outboundStats().nackedPacketsNotFound == 2);
}

TEST_CASE("SendStream: RTX resends carry the OSN, RTX's own numbers and the same payload") {
  FakeSequencer seq;
  SendStreamConfig c = VideoConfig();
  c.rtx = RtxSendConfig{126, kRtxSsrc};
  c.rtxInitialSequenceNumber = 65535;
  auto s = Make(c, &seq);
  SendStreamOutput out;
  std::map<uint16_t, std::vector<uint8_t>> sent;
  std::map<uint16_t, std::vector<uint8_t>> payloadOf;
  for (size_t i = 0; i < 3; ++i) {
    out.Clear();
    REQUIRE(s->SendFrame(FrameAt(i, Pts(i)), int64_t(i) * 40'000, out).ok());
    for (const auto& p : out.packets) {
      sent[p.sequenceNumber] = Wire(p);
      auto v = Parse(sent[p.sequenceNumber]);
      payloadOf[p.sequenceNumber].assign(v.payload.data, v.payload.data + v.payload.size);
    }
  }
  out.Clear();
  const size_t notesBefore = seq.notes.size();
  s->OnNack(NackOf({65501, 65502}), 200'000, out);
  REQUIRE(out.packets.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    const OutgoingRtpPacket& p = out.packets[i];
    auto bytes = Wire(p);
    CHECK(bytes.size() + 16 <= 1200);
    auto v = Parse(bytes);
    CHECK(v.payloadType == 126);
    CHECK(v.ssrc == kRtxSsrc);
    CHECK(v.sequenceNumber == static_cast<uint16_t>(65535 + i));  // 65535, then 0
    CHECK(p.retransmission);
    const uint16_t osn = static_cast<uint16_t>(65501 + i);
    CHECK(p.originalSequenceNumber == osn);
    REQUIRE(v.payload.size >= 2);
    CHECK((v.payload.data[0] << 8 | v.payload.data[1]) == osn);
    const std::vector<uint8_t> rest(v.payload.data + 2, v.payload.data + v.payload.size);
    CHECK(rest == payloadOf[osn]);
    auto orig = Parse(sent[osn]);
    CHECK(v.timestamp == orig.timestamp);
    CHECK(v.marker == orig.marker);
    CHECK(rtp::ParseSdesExtension(*v.extensions.Find(4)).value() == "0");
    // A new transport-wide number, noted as sent.
    CHECK(p.hasTransportSequence);
    CHECK(rtp::ParseTransportSequenceNumber(*v.extensions.Find(3)).value() == p.transportSequence);
  }
  CHECK(seq.notes.size() == notesBefore + 2);
  // The OSN counts as header, not payload.
  OutboundRtpStats st = s->outboundStats();
  CHECK(st.retransmittedBytesSent == payloadOf[65501].size() + payloadOf[65502].size());
}

TEST_CASE("SendStream: one resend per packet per RTT; none without negotiated NACK") {
  FakeSequencer seq;
  auto s = Make(VideoConfig(), &seq);
  SendStreamOutput out;
  REQUIRE(s->SendFrame(FrameAt(0, Pts(0)), 0, out).ok());
  s->SetRoundTripTime(100'000);
  out.Clear();
  s->OnNack(NackOf({65500}), 10'000, out);
  CHECK(out.packets.size() == 1);
  s->OnNack(NackOf({65500}), 60'000, out);  // within an RTT of the resend
  CHECK(out.packets.size() == 1);
  s->OnNack(NackOf({65500}), 111'000, out);
  CHECK(out.packets.size() == 2);
  CHECK(s->outboundStats().nackedPacketsThrottled == 1);

  SendStreamConfig c = VideoConfig();
  c.feedback.nack = false;
  auto quiet = Make(c, &seq);
  REQUIRE(quiet->SendFrame(FrameAt(0, Pts(0)), 0, out).ok());
  out.Clear();
  quiet->OnNack(NackOf({65500}), 10'000, out);
  CHECK(out.packets.empty());
  CHECK(quiet->outboundStats().nackCount == 1);
}

TEST_CASE("SendStream: the rolling buffer forgets by age and by bytes") {
  FakeSequencer seq;
  SendStreamConfig c = VideoConfig();
  c.rollingBuffer = {0.5, 5'000'000};
  auto s = Make(c, &seq);
  SendStreamOutput out;
  REQUIRE(s->SendFrame(FrameAt(0, Pts(0)), 0, out).ok());
  out.Clear();
  s->OnNack(NackOf({65500}), 400'000, out);
  CHECK(out.packets.size() == 1);
  s->OnNack(NackOf({65501}), 600'000, out);  // older than 0.5 s
  CHECK(out.packets.size() == 1);

  c.rollingBuffer = {0.1, 80'000};  // 1000 bytes: under one packet of the IDR
  auto small = Make(c, &seq);
  REQUIRE(small->SendFrame(FrameAt(0, Pts(0)), 0, out).ok());
  out.Clear();
  small->OnNack(NackOf({65500, 65501}), 1000, out);
  CHECK(out.packets.empty());
  CHECK(small->outboundStats().nackedPacketsNotFound == 2);
}

TEST_CASE("SendStream: report blocks give remote-inbound stats and the RTT") {
  FakeSequencer seq;
  auto s = Make(VideoConfig(), &seq);
  SendStreamOutput out;
  REQUIRE(s->SendFrame(FrameAt(0, Pts(0)), 0, out).ok());
  const int64_t unix = 1'700'000'000'000'000;
  s->Tick(100'000, unix, out);
  REQUIRE(out.rtcp.size() == 1);
  rtp::ReportBlock b;
  b.ssrc = kSsrc;
  b.fractionLost = 64;
  b.cumulativeLost = 12;
  b.extendedHighestSeq = 0x1'0010;
  b.jitter = 900;
  b.lastSr = rtp::CompactNtp(rtp::NtpFromUnixMicros(unix));
  b.delaySinceLastSr = 6554;  // 100006 µs
  ParsedRtcp rtcp;
  rtcp.receiverReports.push_back({kPeer, {b}});
  s->OnRtcp(rtcp, 100'000 + 150'000, out);
  RemoteInboundRtpStats r = s->remoteInboundStats();
  CHECK(r.reportsReceived == 1);
  CHECK(r.fractionLost == 0.25);
  CHECK(r.packetsLost == 12);
  CHECK(r.jitter == doctest::Approx(0.01));
  CHECK(r.extendedHighestSequence == 0x1'0010);
  REQUIRE(r.roundTripTime.has_value());
  CHECK(*r.roundTripTime == doctest::Approx((150'000 - 100'006) / 1e6));
  CHECK(r.roundTripTimeMeasurements == 1);
  // A block for another SSRC, and one without LSR.
  b.ssrc = kSsrc + 1;
  s->OnReportBlock(b, 300'000);
  b.ssrc = kSsrc;
  b.lastSr = 0;
  s->OnReportBlock(b, 300'000);
  r = s->remoteInboundStats();
  CHECK(r.reportsReceived == 2);
  CHECK(r.roundTripTimeMeasurements == 1);
}

TEST_CASE("SendStream: SRs every 100-300 ms with the stream's counts") {
  FakeSequencer seq;
  auto s = Make(VideoConfig(), &seq);
  SendStreamOutput out;
  s->Tick(0, 0, out);
  CHECK(out.rtcp.empty());  // nothing sent yet: no SR
  int64_t lastSr = -1;
  for (int64_t now = 0; now < 5'000'000; now += 10'000) {
    if (now % 40'000 == 0) {
      REQUIRE(s->SendFrame(FrameAt(size_t(now / 40'000), now * 10), now, out).ok());
    }
    out.rtcp.clear();
    s->Tick(now, 1'700'000'000'000'000 + now, out);
    if (out.rtcp.empty()) continue;
    if (lastSr >= 0) {
      CHECK(now - lastSr >= 100'000);
      CHECK(now - lastSr <= 310'000);  // 300 ms plus the 10 ms tick
    }
    lastSr = now;
    ParsedRtcp parsed;
    REQUIRE(ParseRtcpCompound(out.rtcp[0], &parsed).ok());
    REQUIRE(parsed.senderReports.size() == 1);
    CHECK(parsed.senderReports[0].ssrc == kSsrc);
    const OutboundRtpStats st = s->outboundStats();
    CHECK(parsed.senderReports[0].info.packetCount == st.packetsSent);
    CHECK(parsed.senderReports[0].info.octetCount == st.bytesSent);
  }
  CHECK(s->outboundStats().senderReportsSent >= 16);
  CHECK(s->NextTickUs() > 4'900'000);
}

TEST_CASE("SendStream: REMB for our SSRC is a bandwidth event") {
  FakeSequencer seq;
  auto s = Make(VideoConfig(), &seq);
  SendStreamOutput out;
  s->OnRemb({kPeer, 1'500'000, {kSsrc + 1}}, 0, out);
  CHECK(out.events.empty());
  s->OnRemb({kPeer, 1'500'000, {kSsrc + 1, kSsrc}}, 0, out);
  REQUIRE(out.events.size() == 1);
  CHECK(out.events[0].type == SendStreamEvent::Type::kBandwidthEstimate);
  CHECK(out.events[0].bitrateBps == 1'500'000);
  CHECK(s->outboundStats().rembBitrateBps == 1'500'000u);
}

TEST_CASE("SendStream: a caller that paces reports send times; failures are moved out") {
  FakeSequencer seq;
  SendStreamConfig c = VideoConfig();
  c.callerReportsSendTimes = true;
  auto s = Make(c, &seq);
  SendStreamOutput out;
  REQUIRE(s->SendFrame(FrameAt(0, Pts(0)), 1'000'000, out).ok());
  CHECK(s->outboundStats().packetsSent == 0);
  CHECK(seq.notes.empty());
  for (size_t i = 0; i < out.packets.size(); ++i) {
    s->OnPacketSent(out.packets[i], 1'000'000 + int64_t(i) * 1000);  // 1 ms apart
  }
  const size_t n = out.packets.size();
  OutboundRtpStats st = s->outboundStats();
  CHECK(st.packetsSent == n);
  // Sum of 0, 1, ..., n-1 ms.
  CHECK(st.totalPacketSendDelay == doctest::Approx(double(n * (n - 1) / 2) / 1000));
  CHECK(st.lastPacketSentUs == 1'000'000 + int64_t(n - 1) * 1000);
  REQUIRE(seq.notes.size() == n);
  CHECK(seq.notes.back().sendUs == 1'000'000 + int64_t(n - 1) * 1000);

  SUBCASE("a failure without NACK asks for a key frame") {
    SendStreamConfig d = VideoConfig();
    d.feedback.nack = false;
    auto t = Make(d, &seq);
    SendStreamOutput o;
    REQUIRE(t->SendFrame(FrameAt(0, Pts(0)), 0, o).ok());
    const size_t sentBefore = t->outboundStats().packetsSent;
    t->OnPacketSendFailed(o.packets[1], 0, o);
    t->OnPacketSendFailed(o.packets[2], 0, o);
    OutboundRtpStats ts = t->outboundStats();
    CHECK(ts.packetsSent == sentBefore - 2);
    CHECK(ts.packetsDiscardedOnSend == 2);
    CHECK(ts.bytesDiscardedOnSend == o.packets[1].size() + o.packets[2].size());
    CHECK(ts.framesDiscardedOnSend == 1);
    REQUIRE(o.events.size() == 1);
    CHECK(o.events[0].reason == KeyFrameReason::kSendFailure);
    CHECK(t->waitingForKeyFrame());
  }
}

TEST_CASE("SendStream: huge frames, frame rate") {
  FakeSequencer seq;
  auto s = Make(VideoConfig(), &seq);
  SendStreamOutput out;
  // Frame 0 (the IDR) is big; the P frames after it small.
  for (size_t i = 0; i < 75; ++i) {
    out.Clear();
    REQUIRE(s->SendFrame(FrameAt(i, Pts(i)), int64_t(i) * 40'000, out).ok());
  }
  OutboundRtpStats st = s->outboundStats();
  CHECK(st.framesSent == 75);
  CHECK(st.keyFramesEncoded == 3);
  REQUIRE(st.framesPerSecond.has_value());
  CHECK(*st.framesPerSecond == 25.0);
  // Each IDR after the first is huge next to the mean (by the sample's sizes, checked here).
  const auto& f = SampleH264Frames();
  uint64_t total = 0;
  uint32_t huge = 0;
  for (size_t i = 0; i < 75; ++i) {
    if (i > 0 && f[i]->size() * 2 * i >= 5 * total) ++huge;
    total += f[i]->size();
  }
  CHECK(huge >= 2);
  CHECK(st.hugeFramesSent == huge);
}

TEST_CASE("SendStream: Opus") {
  SendStreamConfig c;
  c.codec = sdp::Codec::kOpus;
  c.payloadType = 111;
  c.ssrc = 42;
  c.initialTimestamp = 1000;
  auto s = Make(c, nullptr);
  SendStreamOutput out;
  const auto opus = MakeShared(
      kvs::media::testing::ReadFile(kvs::media::testing::RepoPath("samples/opus/sample-001.opus")));
  for (int i = 0; i < 3; ++i) {
    EncodedFrame f;
    f.data = opus;
    f.presentationTs = 200'000 * i;  // 20 ms
    REQUIRE(s->SendFrame(f, 20'000 * i, out).ok());
  }
  CHECK(out.events.empty());  // no key frame gating for audio
  REQUIRE(out.packets.size() == 3);
  for (int i = 0; i < 3; ++i) {
    auto v = Parse(Wire(out.packets[i]));
    CHECK(v.timestamp == 1000u + 960u * uint32_t(i));
    CHECK_FALSE(v.marker);
    CHECK(v.payload.size == opus->size());
  }
  OutboundRtpStats st = s->outboundStats();
  CHECK(st.kind == sdp::MediaKind::kAudio);
  CHECK(st.packetsSent == 3);
  CHECK(st.framesSent == 0);
  CHECK_FALSE(st.framesPerSecond.has_value());
}
