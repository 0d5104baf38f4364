#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "fixtures/sdp/sdp_fixtures.h"
#include "sdp/negotiate.h"
#include "sdp/sdp_parser.h"
#include "sdp/sdp_writer.h"

namespace fx = kvs::sdp::fixtures;
using kvs::sdp::AnswerSpec;
using kvs::sdp::BuildAnswer;
using kvs::sdp::BuildOffer;
using kvs::sdp::Codec;
using kvs::sdp::Direction;
using kvs::sdp::MediaSection;
using kvs::sdp::OfferSpec;
using kvs::sdp::SectionKind;
using kvs::sdp::SessionDescription;
using kvs::sdp::Setup;

namespace {

const char* kFingerprint =
    "12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:"
    "DE:F0";

kvs::sdp::LocalTransport Transport() {
  kvs::sdp::LocalTransport t;
  t.iceUfrag = "ourU";
  t.icePwd = "ourPasswordOf22Chars!!";
  t.fingerprintSha256 = kFingerprint;
  return t;
}

SessionDescription Parse(std::string_view text) {
  auto sd = kvs::sdp::ParseSessionDescription(text);
  REQUIRE_MESSAGE(sd.ok(), sd.status().message());
  return sd.take();
}

SessionDescription Answer(std::string_view offerText, const AnswerSpec& spec) {
  auto answer = BuildAnswer(Parse(offerText), spec);
  REQUIRE_MESSAGE(answer.ok(), answer.status().message());
  // Whatever we build must survive our own parser unchanged.
  SessionDescription sd = answer.take();
  CHECK(Parse(kvs::sdp::SerializeSessionDescription(sd)) == sd);
  return sd;
}

AnswerSpec DefaultAnswerSpec() {
  AnswerSpec spec;
  spec.sessionId = "4242";
  spec.transport = Transport();
  return spec;
}

std::vector<uint8_t> PayloadTypes(const MediaSection& m) {
  std::vector<uint8_t> pts;
  for (const auto& f : m.rtpFormats) pts.push_back(f.payloadType);
  return pts;
}

bool HasLine(const std::string& sdp, const std::string& line) {
  return sdp.find(line + "\r\n") != std::string::npos;
}

}  // namespace

TEST_CASE("offer: the C SDK's codecs, payload types and fmtp, bundled, with a data channel") {
  OfferSpec spec;
  spec.sessionId = "1234567890";
  spec.transport = Transport();
  kvs::sdp::OfferedSection video;
  video.kind = SectionKind::kVideo;
  video.mid = "0";
  video.codecs = {Codec::kH264, Codec::kVp8, Codec::kH265};
  video.track = kvs::sdp::LocalTrack{1111, 2222, "cname1", "stream1", "video1"};
  kvs::sdp::OfferedSection audio;
  audio.kind = SectionKind::kAudio;
  audio.mid = "1";
  audio.direction = Direction::kRecvOnly;
  audio.track = kvs::sdp::LocalTrack{3333, 0, "cname1", "stream1", "audio1"};  // not sending
  kvs::sdp::OfferedSection data;
  data.kind = SectionKind::kApplication;
  data.mid = "2";
  spec.sections = {video, audio, data};

  auto offer = BuildOffer(spec);
  REQUIRE_MESSAGE(offer.ok(), offer.status().message());
  std::string text = kvs::sdp::SerializeSessionDescription(offer.value());
  CHECK(text.rfind("v=0\r\no=- 1234567890 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", 0) == 0);
  CHECK(HasLine(text, "a=group:BUNDLE 0 1 2"));
  CHECK(HasLine(text, "m=video 9 UDP/TLS/RTP/SAVPF 125 126 96 97 127 124"));
  CHECK(HasLine(text, "a=rtpmap:125 H264/90000"));
  CHECK(HasLine(
      text, "a=fmtp:125 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"));
  CHECK(HasLine(text, "a=rtpmap:126 rtx/90000"));
  CHECK(HasLine(text, "a=fmtp:126 apt=125"));
  CHECK(HasLine(text, "a=rtpmap:96 VP8/90000"));
  CHECK(HasLine(text, "a=fmtp:97 apt=96"));
  CHECK(HasLine(text, "a=rtpmap:127 H265/90000"));
  CHECK(HasLine(text, "a=rtcp-fb:125 nack pli"));
  CHECK(HasLine(text, "a=rtcp-fb:125 transport-cc"));
  CHECK(HasLine(text, "a=extmap:1 " + std::string(kvs::sdp::kTwccExtensionUri)));
  CHECK(HasLine(text, "a=msid:stream1 video1"));
  CHECK(HasLine(text, "a=ssrc-group:FID 1111 2222"));
  CHECK(HasLine(text, "a=ssrc:2222 cname:cname1"));
  CHECK(HasLine(text, "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8"));
  CHECK(HasLine(text, "a=rtpmap:111 opus/48000/2"));
  CHECK(HasLine(text, "a=fmtp:111 minptime=10;useinbandfec=1"));
  CHECK(HasLine(text, "a=rtpmap:0 PCMU/8000"));
  CHECK(HasLine(text, "a=rtpmap:8 PCMA/8000"));
  CHECK(HasLine(text, "a=recvonly"));
  CHECK(text.find("a=ssrc:3333") == std::string::npos);  // recvonly: no track announced
  CHECK(HasLine(text, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel"));
  CHECK(HasLine(text, "a=sctp-port:5000"));
  CHECK(HasLine(text, "a=max-message-size:262144"));
  SessionDescription parsed = Parse(text);
  CHECK(parsed == offer.value());
  for (const auto& m : parsed.media) {
    CHECK(m.connection == std::string("IN IP4 0.0.0.0"));
    CHECK(m.transport.setup == Setup::kActpass);
    CHECK(m.transport.iceOptions == std::vector<std::string>{"trickle"});
    CHECK(m.transport.iceUfrag == std::string("ourU"));
    REQUIRE(m.transport.fingerprints.size() == 1);
    CHECK(m.transport.fingerprints[0].hashFunction == "sha-256");
    CHECK(m.transport.fingerprints[0].value == kFingerprint);
    if (m.media != "application") {
      CHECK(m.rtcpMux);
      CHECK(m.rtcpRsize);
    }
  }
}

TEST_CASE("offer: a data-channel-only offer, exact text") {
  OfferSpec spec;
  spec.sessionId = "77";
  spec.sessionVersion = 3;
  spec.transport = Transport();
  kvs::sdp::OfferedSection data;
  data.kind = SectionKind::kApplication;
  data.mid = "0";
  spec.sections = {data};
  spec.transport.candidates.push_back(
      kvs::sdp::ParseCandidate("candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host").take());
  spec.transport.endOfCandidates = true;
  auto offer = BuildOffer(spec);
  REQUIRE(offer.ok());
  CHECK(kvs::sdp::SerializeSessionDescription(offer.value()) ==
        "v=0\r\n"
        "o=- 77 3 IN IP4 127.0.0.1\r\n"
        "s=-\r\n"
        "t=0 0\r\n"
        "a=group:BUNDLE 0\r\n"
        "a=msid-semantic:WMS\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
        "c=IN IP4 0.0.0.0\r\n"
        "a=ice-ufrag:ourU\r\n"
        "a=ice-pwd:ourPasswordOf22Chars!!\r\n"
        "a=ice-options:trickle\r\n"
        "a=fingerprint:sha-256 " +
            std::string(kFingerprint) +
            "\r\n"
            "a=setup:actpass\r\n"
            "a=mid:0\r\n"
            "a=sctp-port:5000\r\n"
            "a=max-message-size:262144\r\n"
            "a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n"
            "a=end-of-candidates\r\n");
}

TEST_CASE("offer: a stopped transceiver keeps its m-line, rejected and out of the bundle") {
  OfferSpec spec;
  spec.sessionId = "1";
  spec.transport = Transport();
  kvs::sdp::OfferedSection a;
  a.kind = SectionKind::kAudio;
  a.mid = "0";
  a.stopped = true;
  kvs::sdp::OfferedSection v;
  v.kind = SectionKind::kVideo;
  v.mid = "1";
  spec.sections = {a, v};
  auto offer = BuildOffer(spec);
  REQUIRE(offer.ok());
  const auto& sd = offer.value();
  CHECK(sd.media[0].port == 0);
  CHECK(sd.media[0].mid == std::string("0"));
  CHECK(sd.media[0].formats == std::vector<std::string>{"111", "0", "8"});
  CHECK_FALSE(sd.media[0].transport.iceUfrag.has_value());
  CHECK(sd.media[1].port == 9);
  CHECK(sd.bundleGroup()->mids == std::vector<std::string>{"1"});
  CHECK(Parse(kvs::sdp::SerializeSessionDescription(sd)) == sd);
}

TEST_CASE("offer: inconsistent specs are refused") {
  OfferSpec spec;
  spec.sessionId = "1";
  spec.transport = Transport();
  CHECK(BuildOffer(spec).status().message() == "an offer needs at least one section");
  kvs::sdp::OfferedSection a;
  a.kind = SectionKind::kAudio;
  a.mid = "a";
  spec.sections = {a, a};
  CHECK(BuildOffer(spec).status().message() == "mid \"a\" is used twice");
  spec.sections[1].mid = "";
  CHECK(BuildOffer(spec).status().message() == "mid \"\" is not one token");
  spec.sections = {a};
  spec.sections[0].codecs = {Codec::kVp8};
  auto wrongKind = BuildOffer(spec);
  CHECK(wrongKind.status().code() == "ERR_SDP_NEGOTIATION");
  CHECK(wrongKind.status().message() == "codec VP8 offered in a audio section (mid a)");
  spec.sections[0].codecs = {};
  spec.transport.fingerprintSha256 = "";
  CHECK(BuildOffer(spec).status().message() == "local fingerprint is empty");
}

TEST_CASE("answer: a Chromium offer gets Chromium's payload types") {
  SessionDescription answer = Answer(fx::kChromiumOfferAvDc, DefaultAnswerSpec());
  REQUIRE(answer.media.size() == 3);
  REQUIRE(answer.bundleGroup() != nullptr);
  CHECK(answer.bundleGroup()->mids == std::vector<std::string>{"0", "1", "2"});

  const MediaSection& audio = answer.media[0];
  CHECK(audio.mid == std::string("0"));
  CHECK(audio.port == 9);
  // Opus 111, PCMU 0 and PCMA 8 in the offer's order; red, G722, CN and DTMF dropped.
  CHECK(PayloadTypes(audio) == std::vector<uint8_t>{111, 0, 8});
  CHECK(audio.formats == std::vector<std::string>{"111", "0", "8"});
  CHECK(audio.findFormat(111)->fmtp == std::string("minptime=10;useinbandfec=1"));
  CHECK(audio.findFormat(111)->rtcpFeedback == std::vector<std::string>{"transport-cc"});
  CHECK(audio.direction == Direction::kSendRecv);
  CHECK(audio.transport.setup == Setup::kActive);
  // The offer's extensions we share, at the offer's ids (Chromium's, not ours), in its order;
  // ssrc-audio-level is not ours.
  REQUIRE(audio.extmaps.size() == 3);
  CHECK(audio.extmaps[0].id == 2);
  CHECK(audio.extmaps[0].uri == kvs::sdp::kAbsSendTimeExtensionUri);
  CHECK(audio.extmaps[1].id == 3);
  CHECK(audio.extmaps[1].uri == kvs::sdp::kTwccExtensionUri);
  CHECK(audio.extmaps[2].id == 4);
  CHECK(audio.extmaps[2].uri == kvs::sdp::kMidExtensionUri);
  const auto rtp = kvs::sdp::DescribeRtp(audio);
  CHECK(rtp.twccExtensionId == 3);
  CHECK(rtp.absSendTimeExtensionId == 2);
  CHECK(rtp.midExtensionId == 4);
  CHECK(rtp.transportCc);
  CHECK_FALSE(rtp.nack);  // Chromium offers no NACK for Opus

  const MediaSection& video = answer.media[1];
  // VP8 96 (+ RTX 97) and the Constrained Baseline, packetization-mode=1 H.264 108 (+ RTX 109).
  // Not 102 (Baseline 42001f), 104/114 (packetization-mode=0) or 116 (Main 4d001f).
  CHECK(PayloadTypes(video) == std::vector<uint8_t>{96, 97, 108, 109});
  CHECK(video.findFormat(108)->rtpmap->encoding == "H264");
  CHECK(video.findFormat(108)->fmtp ==
        std::string("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"));
  CHECK(video.findFormat(109)->fmtp == std::string("apt=108"));
  CHECK(video.findFormat(108)->rtcpFeedback ==
        std::vector<std::string>{"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"});
  CHECK(video.rtcpMux);
  CHECK(video.rtcpRsize);

  const MediaSection& app = answer.media[2];
  CHECK(app.port == 9);
  CHECK(app.sctpPort == uint16_t{5000});
  CHECK(app.maxMessageSize == uint64_t{262144});
  CHECK(app.transport.setup == Setup::kActive);

  auto negotiated = kvs::sdp::NegotiatedCodecs(video);
  REQUIRE(negotiated.size() == 2);
  CHECK(negotiated[0].codec == Codec::kVp8);
  CHECK(negotiated[0].rtxPayloadType == uint8_t{97});
  CHECK(negotiated[1].codec == Codec::kH264);
  CHECK(negotiated[1].payloadType == 108);
  CHECK(negotiated[1].rtxPayloadType == uint8_t{109});
}

TEST_CASE("answer: direction is the intersection; a sending track is announced") {
  AnswerSpec spec = DefaultAnswerSpec();
  spec.video.track = kvs::sdp::LocalTrack{5555, 6666, "cn", "s", "v"};
  spec.audio.direction = Direction::kRecvOnly;  // we only want to receive audio
  SessionDescription answer = Answer(fx::kChromiumOfferRecvonly, spec);
  REQUIRE(answer.media.size() == 3);
  const MediaSection& video = answer.media[0];
  CHECK(video.direction == Direction::kSendOnly);
  CHECK(video.msids.size() == 1);
  CHECK(video.ssrcGroups.size() == 1);
  const MediaSection& audio = answer.media[1];
  CHECK(audio.direction == Direction::kInactive);  // they only receive, we only receive
  CHECK(audio.ssrcs.empty());

  using kvs::sdp::AnswerDirection;
  CHECK(AnswerDirection(Direction::kSendRecv, Direction::kSendRecv) == Direction::kSendRecv);
  CHECK(AnswerDirection(Direction::kSendOnly, Direction::kSendRecv) == Direction::kRecvOnly);
  CHECK(AnswerDirection(Direction::kRecvOnly, Direction::kSendRecv) == Direction::kSendOnly);
  CHECK(AnswerDirection(Direction::kInactive, Direction::kSendRecv) == Direction::kInactive);
  CHECK(AnswerDirection(Direction::kSendRecv, Direction::kSendOnly) == Direction::kSendOnly);
  CHECK(AnswerDirection(Direction::kSendOnly, Direction::kSendOnly) == Direction::kInactive);
}

TEST_CASE("answer: an m-line with no common codec is rejected and leaves the bundle") {
  AnswerSpec spec = DefaultAnswerSpec();
  spec.byMid["1"].codecs = {Codec::kH265};  // Chromium here offers no H.265
  SessionDescription answer = Answer(fx::kChromiumOfferAvDc, spec);
  const MediaSection& video = answer.media[1];
  CHECK(video.port == 0);
  CHECK(video.rejected());
  CHECK(video.mid == std::string("1"));
  CHECK(answer.bundleGroup()->mids == std::vector<std::string>{"0", "2"});
  CHECK(answer.media[0].port == 9);

  spec = DefaultAnswerSpec();
  spec.acceptDataChannel = false;
  answer = Answer(fx::kChromiumOfferAvDc, spec);
  CHECK(answer.media[2].port == 0);
  CHECK(answer.media[2].formats == std::vector<std::string>{"webrtc-datachannel"});
}

TEST_CASE("answer: setup follows the offer; an unanswerable offer is an error") {
  std::string offer(fx::kChromiumOfferDatachannel);
  std::string active = offer;
  active.replace(active.find("a=setup:actpass"), 15, "a=setup:active");
  CHECK(Answer(active, DefaultAnswerSpec()).media[0].transport.setup == Setup::kPassive);
  std::string passive = offer;
  passive.replace(passive.find("a=setup:actpass"), 15, "a=setup:passive");
  CHECK(Answer(passive, DefaultAnswerSpec()).media[0].transport.setup == Setup::kActive);

  std::string holdconn = offer;
  holdconn.replace(holdconn.find("a=setup:actpass"), 15, "a=setup:holdconn");
  auto r = BuildAnswer(Parse(holdconn), DefaultAnswerSpec());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == "ERR_SDP_NEGOTIATION");
  CHECK(r.status().message() == "the offer says setup:holdconn");

  std::string noFingerprint = offer;
  size_t fp = noFingerprint.find("a=fingerprint:");
  noFingerprint.erase(fp, noFingerprint.find('\n', fp) + 1 - fp);
  r = BuildAnswer(Parse(noFingerprint), DefaultAnswerSpec());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "m= section 0 has no fingerprint");
}

TEST_CASE("answer: Firefox-style offer with session-level fingerprint and bundle-only") {
  SessionDescription answer = Answer(fx::kHandwrittenFirefoxStyleOffer, DefaultAnswerSpec());
  REQUIRE(answer.media.size() == 2);
  const MediaSection& audio = answer.media[0];
  CHECK(PayloadTypes(audio) == std::vector<uint8_t>{109, 0, 8});
  CHECK(audio.direction == Direction::kSendOnly);  // they are recvonly
  const MediaSection& video = answer.media[1];
  CHECK(video.port == 9);  // bundle-only is not a rejection
  // 126 is H.264 packetization-mode=1; 97 has no packetization-mode (= 0), so it is skipped.
  CHECK(PayloadTypes(video) == std::vector<uint8_t>{120, 124, 126, 127});
  CHECK(answer.bundleGroup()->mids == std::vector<std::string>{"0", "1"});
}

TEST_CASE("answer: the C SDK-style offer and our own offer keep their payload types") {
  SessionDescription answer = Answer(fx::kHandwrittenCSdkStyleOffer, DefaultAnswerSpec());
  CHECK(PayloadTypes(answer.media[0]) == std::vector<uint8_t>{125, 126});
  CHECK(PayloadTypes(answer.media[1]) == std::vector<uint8_t>{111});
  CHECK(answer.media[2].port == 9);

  OfferSpec spec;
  spec.sessionId = "1";
  spec.transport = Transport();
  kvs::sdp::OfferedSection v;
  v.kind = SectionKind::kVideo;
  v.mid = "video";
  spec.sections = {v};
  auto offer = BuildOffer(spec);
  REQUIRE(offer.ok());
  SessionDescription ours =
      Answer(kvs::sdp::SerializeSessionDescription(offer.value()), DefaultAnswerSpec());
  CHECK(PayloadTypes(ours.media[0]) == std::vector<uint8_t>{125, 126, 127, 124, 96, 97});
  CHECK(ours.media[0].mid == std::string("video"));
}

TEST_CASE("answer: m-lines outside the offer's BUNDLE group are rejected") {
  std::string offer(fx::kChromiumOfferAvDc);
  offer.replace(offer.find("a=group:BUNDLE 0 1 2"), 20, "a=group:BUNDLE 0 2");
  SessionDescription answer = Answer(offer, DefaultAnswerSpec());
  CHECK(answer.media[1].port == 0);
  CHECK(answer.bundleGroup()->mids == std::vector<std::string>{"0", "2"});
}

TEST_CASE("codecs: H.264 profile-level-id classification (RFC 6184 Table 5)") {
  using kvs::sdp::H264Profile;
  using kvs::sdp::H264ProfileOf;
  CHECK(H264ProfileOf("42e01f") == H264Profile::kConstrainedBaseline);
  CHECK(H264ProfileOf("42C01F") == H264Profile::kConstrainedBaseline);
  CHECK(H264ProfileOf("42001f") == H264Profile::kBaseline);
  CHECK(H264ProfileOf("4d801f") == H264Profile::kConstrainedBaseline);
  CHECK(H264ProfileOf("4d001f") == H264Profile::kMain);
  CHECK(H264ProfileOf("640c1f") == H264Profile::kConstrainedHigh);
  CHECK(H264ProfileOf("640032") == H264Profile::kHigh);
  CHECK_FALSE(H264ProfileOf("42e01").has_value());
  CHECK_FALSE(H264ProfileOf("42g01f").has_value());
  CHECK(kvs::sdp::FmtpParameter("a=1; Packetization-Mode=1;x", "packetization-mode") ==
        std::string("1"));
  CHECK_FALSE(kvs::sdp::FmtpParameter("apt=96", "profile-level-id").has_value());
}

TEST_CASE("interop: Chromium answers our offer with our payload types") {
  // kvs-offer-av-dc.sdp is this offer, fed to Chromium by scripts/capture-chromium-sdp.mjs; the
  // answer Chromium gave is chromium-answer-to-kvs-offer.sdp. Rebuilding it byte for byte keeps
  // that evidence about the offer we produce today.
  OfferSpec spec;
  spec.sessionId = "123";
  spec.transport.iceUfrag = "abcd";
  spec.transport.icePwd = "abcdefghijklmnopqrstuvwx";
  spec.transport.fingerprintSha256 = kFingerprint;
  kvs::sdp::OfferedSection v;
  v.kind = SectionKind::kVideo;
  v.mid = "0";
  v.codecs = {Codec::kH264, Codec::kVp8, Codec::kH265};
  v.track = kvs::sdp::LocalTrack{1111, 2222, "cn", "s1", "v1"};
  kvs::sdp::OfferedSection a;
  a.kind = SectionKind::kAudio;
  a.mid = "1";
  a.track = kvs::sdp::LocalTrack{3333, 0, "cn", "s1", "a1"};
  kvs::sdp::OfferedSection d;
  d.kind = SectionKind::kApplication;
  d.mid = "2";
  spec.sections = {v, a, d};
  auto offer = BuildOffer(spec);
  REQUIRE(offer.ok());
  CHECK(kvs::sdp::SerializeSessionDescription(offer.value()) == fx::kKvsOfferAvDc);

  SessionDescription answer = Parse(fx::kChromiumAnswerToKvsOffer);
  REQUIRE(answer.media.size() == 3);
  CHECK(answer.bundleGroup()->mids == std::vector<std::string>{"0", "1", "2"});
  // Chromium has no H.265 here; it keeps our H.264 125 (+126) and VP8 96 (+97).
  CHECK(PayloadTypes(answer.media[0]) == std::vector<uint8_t>{125, 126, 96, 97});
  CHECK(answer.media[0].findFormat(125)->fmtp ==
        std::string("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"));
  CHECK(PayloadTypes(answer.media[1]) == std::vector<uint8_t>{111, 0, 8});
  CHECK(answer.media[2].sctpPort == uint16_t{5000});
  for (const auto& m : answer.media) CHECK(m.transport.setup == Setup::kActive);
  auto codecs = kvs::sdp::NegotiatedCodecs(answer.media[0]);
  REQUIRE(codecs.size() == 2);
  CHECK(codecs[0].codec == Codec::kH264);
  CHECK(codecs[0].rtxPayloadType == uint8_t{126});
}

TEST_CASE("DescribeRtp and RemoteSsrcs read what a Chromium offer's video m-line agrees to") {
  SessionDescription offer = Parse(fx::kChromiumOfferAvDc);
  const MediaSection& video = offer.media[1];
  const auto rtp = kvs::sdp::DescribeRtp(video);
  REQUIRE_FALSE(rtp.codecs.empty());
  CHECK(rtp.codecs.front().payloadType == 96);  // VP8 comes first in Chromium's list
  CHECK(rtp.codecs.front().rtxPayloadType == std::optional<uint8_t>(97));
  CHECK(rtp.nack);
  CHECK(rtp.pli);
  CHECK(rtp.fir);
  CHECK(rtp.remb);
  CHECK(rtp.transportCc);
  CHECK(rtp.twccExtensionId == 3);
  CHECK(rtp.absSendTimeExtensionId == 2);
  CHECK(rtp.midExtensionId == 4);
  CHECK(rtp.reducedSizeRtcp);
  const auto ssrcs = kvs::sdp::RemoteSsrcs(video);
  REQUIRE(ssrcs.size() == 1);
  CHECK(ssrcs[0].ssrc == 2289321988u);
  CHECK(ssrcs[0].rtxSsrc == 2029201873u);
  const auto audio = kvs::sdp::RemoteSsrcs(offer.media[0]);
  REQUIRE(audio.size() == 1);
  CHECK(audio[0].ssrc == 1791376411u);
  CHECK(audio[0].rtxSsrc == 0);
}
