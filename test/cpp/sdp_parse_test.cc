#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "fixtures/sdp/sdp_fixtures.h"
#include "sdp/sdp_parser.h"
#include "sdp/sdp_writer.h"

namespace fx = kvs::sdp::fixtures;
using kvs::sdp::Direction;
using kvs::sdp::MediaSection;
using kvs::sdp::ParseSessionDescription;
using kvs::sdp::SerializeSessionDescription;
using kvs::sdp::SessionDescription;
using kvs::sdp::Setup;

namespace {

SessionDescription MustParse(std::string_view text) {
  auto sd = ParseSessionDescription(text);
  REQUIRE_MESSAGE(sd.ok(), sd.status().message());
  return sd.take();
}

std::string ErrorOf(std::string_view text) {
  auto sd = ParseSessionDescription(text);
  REQUIRE_FALSE(sd.ok());
  return sd.status().message();
}

// parse -> serialise -> parse gives the same model, and serialising is stable.
void CheckRoundTrip(std::string_view text) {
  SessionDescription first = MustParse(text);
  std::string written = SerializeSessionDescription(first);
  SessionDescription second = MustParse(written);
  CHECK(second == first);
  CHECK(SerializeSessionDescription(second) == written);
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t pos = s.find(from);
  REQUIRE_MESSAGE(pos != std::string::npos, from);
  return s.replace(pos, from.size(), to);
}

// A small valid SDP for the malformed-input cases (LF endings, line numbers easy to count).
const std::string kMinimal =
    "v=0\n"                                 // 1
    "o=- 123 2 IN IP4 127.0.0.1\n"          // 2
    "s=-\n"                                 // 3
    "t=0 0\n"                               // 4
    "a=group:BUNDLE 0\n"                    // 5
    "m=video 9 UDP/TLS/RTP/SAVPF 96\n"      // 6
    "c=IN IP4 0.0.0.0\n"                    // 7
    "a=mid:0\n"                             // 8
    "a=ice-ufrag:abcd\n"                    // 9
    "a=ice-pwd:abcdefghijklmnopqrstuvwx\n"  // 10
    "a=rtpmap:96 VP8/90000\n";              // 11

}  // namespace

TEST_CASE("sdp: every fixture parses and round-trips") {
  for (auto text :
       {fx::kChromiumOfferAvDc, fx::kChromiumAnswerAvDc, fx::kChromiumOfferDatachannel,
        fx::kChromiumAnswerDatachannel, fx::kChromiumOfferRecvonly, fx::kChromiumAnswerRecvonly,
        fx::kHandwrittenCSdkStyleOffer, fx::kHandwrittenFirefoxStyleOffer, fx::kKvsOfferAvDc,
        fx::kChromiumAnswerToKvsOffer}) {
    CheckRoundTrip(text);
  }
}

TEST_CASE("sdp: Chromium audio+video+datachannel offer, key fields") {
  SessionDescription sd = MustParse(fx::kChromiumOfferAvDc);
  CHECK(sd.origin.username == "-");
  CHECK(sd.origin.sessionVersion == 2);
  CHECK(sd.origin.address == "127.0.0.1");
  REQUIRE(sd.bundleGroup() != nullptr);
  CHECK(sd.bundleGroup()->mids == std::vector<std::string>{"0", "1", "2"});
  CHECK(sd.extmapAllowMixed);
  REQUIRE(sd.msidSemantic.has_value());
  CHECK(sd.msidSemantic->rfind("WMS ", 0) == 0);
  REQUIRE(sd.media.size() == 3);

  const MediaSection& audio = sd.media[0];
  CHECK(audio.media == "audio");
  CHECK(audio.protocol == "UDP/TLS/RTP/SAVPF");
  CHECK(audio.mid == std::string("0"));
  CHECK(audio.direction == Direction::kSendRecv);
  CHECK(audio.rtcpMux);
  CHECK(audio.rtcpRsize);
  CHECK(audio.transport.iceUfrag.has_value());
  CHECK(audio.transport.iceOptions == std::vector<std::string>{"trickle"});
  REQUIRE(audio.transport.fingerprints.size() == 1);
  CHECK(audio.transport.fingerprints[0].hashFunction == "sha-256");
  CHECK(audio.transport.fingerprints[0].value.size() == 95);  // 32 hex pairs and 31 colons
  CHECK(audio.transport.setup == Setup::kActpass);
  CHECK(audio.candidates.size() == 2);
  const auto* opus = audio.findFormat(111);
  REQUIRE(opus != nullptr);
  REQUIRE(opus->rtpmap.has_value());
  CHECK(opus->rtpmap->encoding == "opus");
  CHECK(opus->rtpmap->clockRate == 48000);
  CHECK(opus->rtpmap->channels == 2u);
  CHECK(opus->fmtp == std::string("minptime=10;useinbandfec=1"));
  CHECK(opus->rtcpFeedback == std::vector<std::string>{"transport-cc"});
  CHECK(audio.rtpFormats.size() == audio.formats.size());
  CHECK(audio.rtpFormats[0].payloadType == 111);  // m-line order is kept
  // a=rtcp and a=rtcp-xr are not modelled: kept verbatim.
  CHECK(audio.otherAttributes ==
        std::vector<std::string>{"rtcp:9 IN IP4 0.0.0.0", "rtcp-xr:rcvr-rtt=all"});
  REQUIRE(audio.msids.size() == 1);
  CHECK(audio.ssrcs.size() == 2);
  CHECK(audio.ssrcs[0].name == "cname");

  const MediaSection& video = sd.media[1];
  CHECK(video.media == "video");
  CHECK(video.mid == std::string("1"));
  const auto* vp8 = video.findFormat(96);
  REQUIRE(vp8 != nullptr);
  CHECK(vp8->rtpmap->encoding == "VP8");
  CHECK(vp8->rtcpFeedback ==
        std::vector<std::string>{"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"});
  const auto* rtx = video.findFormat(97);
  REQUIRE(rtx != nullptr);
  CHECK(rtx->fmtp == std::string("apt=96"));
  REQUIRE(video.ssrcGroups.size() == 1);
  CHECK(video.ssrcGroups[0].semantics == "FID");
  CHECK(video.ssrcGroups[0].ssrcs.size() == 2);
  bool sawTwcc = false;
  for (const auto& e : video.extmaps) {
    if (e.uri == "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01") {
      sawTwcc = true;
      CHECK(e.id == 3);
    }
  }
  CHECK(sawTwcc);

  const MediaSection& app = sd.media[2];
  CHECK(app.media == "application");
  CHECK(app.protocol == "UDP/DTLS/SCTP");
  CHECK(app.formats == std::vector<std::string>{"webrtc-datachannel"});
  CHECK(app.sctpPort == uint16_t{5000});
  CHECK(app.maxMessageSize == uint64_t{262144});
  CHECK(app.rtpFormats.empty());
}

TEST_CASE("sdp: Chromium data-channel-only and recvonly offers, and answers") {
  SessionDescription dc = MustParse(fx::kChromiumOfferDatachannel);
  REQUIRE(dc.media.size() == 1);
  CHECK(dc.media[0].media == "application");
  CHECK(dc.msidSemantic == std::string("WMS"));

  SessionDescription viewer = MustParse(fx::kChromiumOfferRecvonly);
  REQUIRE(viewer.media.size() == 3);
  CHECK(viewer.media[0].media == "video");
  CHECK(viewer.media[0].direction == Direction::kRecvOnly);
  CHECK(viewer.media[0].ssrcs.empty());
  CHECK(viewer.media[1].media == "audio");
  CHECK(viewer.media[1].direction == Direction::kRecvOnly);

  for (auto text : {fx::kChromiumAnswerAvDc, fx::kChromiumAnswerRecvonly}) {
    SessionDescription answer = MustParse(text);
    for (const auto& m : answer.media) {
      CHECK(m.transport.setup == Setup::kActive);
    }
  }
  SessionDescription viewerAnswer = MustParse(fx::kChromiumAnswerRecvonly);
  CHECK(viewerAnswer.media[0].direction == Direction::kSendOnly);
}

TEST_CASE("sdp: Firefox-style session-level transport applies to every m-line") {
  SessionDescription sd = MustParse(fx::kHandwrittenFirefoxStyleOffer);
  CHECK(sd.transport.fingerprints.size() == 1);
  CHECK(sd.transport.iceOptions == std::vector<std::string>{"trickle"});
  CHECK(sd.msidSemantic == std::string("WMS *"));
  REQUIRE(sd.media.size() == 2);
  const MediaSection& video = sd.media[1];
  CHECK(video.port == 0);
  CHECK(video.bundleOnly);
  CHECK_FALSE(video.rejected());
  CHECK(video.transport.fingerprints.empty());
  auto t = kvs::sdp::EffectiveTransport(sd, video);
  REQUIRE(t.fingerprints.size() == 1);
  CHECK(t.fingerprints[0].value == sd.transport.fingerprints[0].value);
  CHECK(t.iceOptions == std::vector<std::string>{"trickle"});
  CHECK(t.iceUfrag == std::string("9f3c2a1b"));
  // a=extmap with a direction.
  const MediaSection& audio = sd.media[0];
  REQUIRE(audio.extmaps.size() == 3);
  CHECK(audio.extmaps[1].direction == Direction::kRecvOnly);
  // Static payload type 0 with an rtpmap; upper-case transport in candidates; TCP active.
  CHECK(audio.findFormat(0)->rtpmap->encoding == "PCMU");
  CHECK(video.candidates.size() == 3);
  CHECK(video.candidates[2].protocol == kvs::sdp::TransportProtocol::kTcp);
  CHECK(video.endOfCandidates);
}

TEST_CASE("sdp: media-level transport attributes override the session's") {
  std::string text =
      Replace(kMinimal, "a=group:BUNDLE 0\n",
              "a=group:BUNDLE 0\na=ice-ufrag:sess\na=ice-pwd:sessionpasswordsessionpw\n"
              "a=setup:passive\na=fingerprint:sha-256 AA:BB\n");
  SessionDescription sd = MustParse(text + "a=setup:active\n");
  auto t = kvs::sdp::EffectiveTransport(sd, sd.media[0]);
  CHECK(t.iceUfrag == std::string("abcd"));                    // the m-line's own
  CHECK(t.icePwd == std::string("abcdefghijklmnopqrstuvwx"));  // the m-line's own
  CHECK(t.setup == Setup::kActive);                            // the m-line's own
  REQUIRE(t.fingerprints.size() == 1);
  CHECK(t.fingerprints[0].value == "AA:BB");  // only the session has one
  CheckRoundTrip(text);
}

TEST_CASE("sdp: LF endings, trailing whitespace and blank lines are tolerated") {
  std::string crlf(fx::kChromiumOfferAvDc);
  std::string lf;
  std::string messy;
  for (char c : crlf) {
    if (c == '\r') continue;
    lf += c;
  }
  for (size_t i = 0; i < lf.size(); ++i) {
    if (lf[i] == '\n')
      messy += " \t\r\n\n";
    else
      messy += lf[i];
  }
  SessionDescription a = MustParse(crlf);
  CHECK(MustParse(lf) == a);
  CHECK(MustParse(messy) == a);
  // A last line without a line ending.
  CHECK(MustParse(lf.substr(0, lf.size() - 1)) == a);
}

TEST_CASE("sdp: serialisation uses CRLF and browser attribute order") {
  std::string out = SerializeSessionDescription(MustParse(kMinimal));
  CHECK(out ==
        "v=0\r\n"
        "o=- 123 2 IN IP4 127.0.0.1\r\n"
        "s=-\r\n"
        "t=0 0\r\n"
        "a=group:BUNDLE 0\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
        "c=IN IP4 0.0.0.0\r\n"
        "a=ice-ufrag:abcd\r\n"
        "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
        "a=mid:0\r\n"
        "a=rtpmap:96 VP8/90000\r\n");
}

TEST_CASE("sdp: unknown lines and attributes survive a round trip") {
  std::string text = kMinimal +
                     "b=AS:500\n"
                     "a=x-google-flag:conference\n"
                     "a=framerate:30\n"
                     "a=rtcp-fb:* nack\n";
  text = Replace(text, "t=0 0\n", "i=a session\nt=0 0\na=x-session-thing\n");
  SessionDescription sd = MustParse(text);
  CHECK(sd.otherLines == std::vector<std::string>{"i=a session"});
  CHECK(sd.otherAttributes == std::vector<std::string>{"x-session-thing"});
  CHECK(sd.media[0].otherLines == std::vector<std::string>{"b=AS:500"});
  CHECK(sd.media[0].otherAttributes ==
        std::vector<std::string>{"x-google-flag:conference", "framerate:30"});
  CHECK(sd.media[0].rtcpFeedbackAll == std::vector<std::string>{"nack"});
  CheckRoundTrip(text);
}

TEST_CASE("sdp: malformed input names the line") {
  struct Case {
    std::string from, to, message;
  };
  const Case cases[] = {
      {"m=video 9 ", "m=video abc ",
       "line 6: \"m=video abc UDP/TLS/RTP/SAVPF 96\": port is not a number"},
      {"m=video 9 ", "m=video 70000 ",
       "line 6: \"m=video 70000 UDP/TLS/RTP/SAVPF 96\": port is more than 65535"},
      {"SAVPF 96\n", "SAVPF\n",
       "line 6: \"m=video 9 UDP/TLS/RTP/SAVPF\": expected \"<media> <port> <proto> <format>...\""},
      {"SAVPF 96\n", "SAVPF 96 x\n",
       "line 6: \"m=video 9 UDP/TLS/RTP/SAVPF 96 x\": payload type \"x\" is not 0-127"},
      {"SAVPF 96\n", "SAVPF 96 96\n",
       "line 6: \"m=video 9 UDP/TLS/RTP/SAVPF 96 96\": payload type 96 listed twice"},
      {"a=rtpmap:96 VP8/90000", "a=rtpmap:96 VP8",
       "line 11: \"a=rtpmap:96 VP8\": expected <encoding>/<clock rate>"},
      {"a=rtpmap:96 VP8/90000", "a=rtpmap:200 VP8/90000",
       "line 11: \"a=rtpmap:200 VP8/90000\": payload type \"200\" is not 0-127"},
      {"a=rtpmap:96 VP8/90000", "a=rtpmap:96 VP8/0",
       "line 11: \"a=rtpmap:96 VP8/0\": clock rate is not a positive number"},
      {"a=mid:0\n", "a=mid:0\na=mid:1\n", "line 9: \"a=mid:1\": duplicate a=mid"},
      {"a=mid:0\n", "a=mid:\n", "line 8: \"a=mid:\": mid is not one token"},
      {"a=ice-ufrag:abcd", "a=ice-ufrag:ab cd",
       "line 9: \"a=ice-ufrag:ab cd\": expected one token"},
      {"a=mid:0\n", "a=mid:0\na=setup:maybe\n",
       "line 9: \"a=setup:maybe\": setup is not actpass, active, passive or holdconn"},
      {"a=mid:0\n", "a=mid:0\na=fingerprint:sha-256 ZZ:00\n",
       "line 9: \"a=fingerprint:sha-256 ZZ:00\": fingerprint is not hex pairs joined by ':'"},
      {"a=mid:0\n", "a=mid:0\na=fingerprint:sha-256\n",
       "line 9: \"a=fingerprint:sha-256\": expected \"<hash-function> <fingerprint>\""},
      {"a=mid:0\n", "a=mid:0\na=candidate:1 1 udp 1 1.2.3.4 99999 typ host\n",
       "line 9: \"a=candidate:1 1 udp 1 1.2.3.4 99999 typ host\": candidate: port \"99999\" is "
       "not a number from 0 to 65535"},
      {"a=mid:0\n", "a=mid:0\na=sctp-port:x\n",
       "line 9: \"a=sctp-port:x\": sctp-port is not a number from 0 to 65535"},
      {"a=mid:0\n", "a=mid:0\na=extmap:0 urn:x\n",
       "line 9: \"a=extmap:0 urn:x\": extmap id is not 1-65535"},
      {"a=mid:0\n", "a=mid:0\na=ssrc:-1 cname:x\n",
       "line 9: \"a=ssrc:-1 cname:x\": ssrc is not a 32-bit number"},
      {"a=mid:0\n", "a=mid:0\na=sendonly\na=recvonly\n",
       "line 10: \"a=recvonly\": duplicate a=direction"},
      {"a=mid:0\n", "a=mid:0\nhello\n",
       "line 9: \"hello\": expected <type>=<value> with a lower-case type letter"},
      {"a=mid:0\n", "a=mid:0\na=x\x1b[31m\n",
       "line 9: \"a=x\\x1b[31m\": contains a control character"},
      {"v=0\n", "v=1\n", "line 1: \"v=1\": only version 0 is supported"},
      {"m=video 9 ", "m=vid\xc3\xa9o \xff ",
       "line 6: \"m=vid\\xc3\\xa9o \\xff UDP/TLS/RTP/SAVPF 96\": port is not a number"},
      {"v=0\n", "", "line 1: \"o=- 123 2 IN IP4 127.0.0.1\": the first line must be v=0"},
      {"o=- 123 2 IN IP4 127.0.0.1\n", "o=- 123 two IN IP4 127.0.0.1\n",
       "line 2: \"o=- 123 two IN IP4 127.0.0.1\": session version is not a number"},
      {"s=-\n", "",
       "line 5: \"m=video 9 UDP/TLS/RTP/SAVPF 96\": no s= line before the first "
       "m= line"},
      {"t=0 0\n", "t=0 0\nt=0 0\n", "line 5: \"t=0 0\": multiple t= lines are not supported"},
      {"c=IN IP4 0.0.0.0\n", "c=IN IP4\n",
       "line 7: \"c=IN IP4\": expected \"<nettype> <addrtype> <address>\""},
      {"c=IN IP4 0.0.0.0\n", "c=IN IP4 0.0.0.0\nv=0\n",
       "line 8: \"v=0\": session-level line inside a media section"},
  };
  for (const auto& c : cases) {
    std::string text = Replace(kMinimal, c.from, c.to);
    auto sd = ParseSessionDescription(text);
    REQUIRE_FALSE_MESSAGE(sd.ok(), c.to);
    CHECK(sd.status().code() == "ERR_SDP_MALFORMED");
    CHECK(sd.status().message() == c.message);
  }
}

TEST_CASE("sdp: a mid reused by a second m-line is rejected") {
  std::string text = kMinimal + "m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:0\n";
  CHECK(ErrorOf(text) == "line 13: \"a=mid:0\": mid is used by an earlier m= section");
}

TEST_CASE("sdp: a bare a=mid without a value is kept, not taken as the mid (fuzzer finding)") {
  SessionDescription sd = MustParse(kMinimal + "m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid\n");
  CHECK_FALSE(sd.media[1].mid.has_value());
  CHECK(sd.media[1].otherAttributes == std::vector<std::string>{"mid"});
  CHECK(MustParse(kMinimal + "a=mid\n").media[0].mid == std::string("0"));
}

TEST_CASE(
    "sdp: an ssrc attribute's name has no blanks; one without a name fails (fuzzer finding)") {
  SessionDescription sd = MustParse(kMinimal + "a=ssrc:2222 msid :\na=ssrc:2222 cname:a b\n");
  REQUIRE(sd.media[0].ssrcs.size() == 2);
  CHECK(sd.media[0].ssrcs[0].name == "msid");
  CHECK(sd.media[0].ssrcs[0].value.empty());
  CHECK(sd.media[0].ssrcs[1].value == "a b");
  const std::string once = SerializeSessionDescription(sd);
  CHECK(SerializeSessionDescription(MustParse(once)) == once);
  CHECK_FALSE(ParseSessionDescription(kMinimal + "a=ssrc:2222  :x\n").ok());
}

TEST_CASE("sdp: empty and headerless input") {
  CHECK(ErrorOf("") == "SDP is empty: no v=0 line");
  CHECK(ErrorOf("\r\n\r\n") == "SDP is empty: no v=0 line");
  CHECK(ErrorOf("v=0\r\n") == "SDP has no o= line");
  CHECK(ErrorOf("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\n") == "SDP has no t= line");
}

TEST_CASE("sdp: a long offending line is truncated in the message") {
  std::string longLine = "a=candidate:" + std::string(300, 'x');
  std::string message = ErrorOf(Replace(kMinimal, "a=mid:0\n", "a=mid:0\n" + longLine + "\n"));
  CHECK(message.size() < 250);
  CHECK(message.find("...\"") != std::string::npos);
}

TEST_CASE("sdp: absurd sizes are refused") {
  std::string big = kMinimal + std::string(64 * 1024, 'a');
  auto tooBig = ParseSessionDescription(big);
  REQUIRE_FALSE(tooBig.ok());
  CHECK(tooBig.status().code() == "ERR_SDP_TOO_LARGE");
  CHECK(tooBig.status().message() ==
        "SDP is " + std::to_string(big.size()) + " bytes, more than the limit of 65536");

  std::string many = kMinimal;
  for (int i = 1; i <= 64; ++i) many += "m=audio 9 UDP/TLS/RTP/SAVPF 0\n";
  auto tooMany = ParseSessionDescription(many);
  REQUIRE_FALSE(tooMany.ok());
  CHECK(tooMany.status().code() == "ERR_SDP_TOO_LARGE");
  CHECK(tooMany.status().message() == "line 75: more than 64 m= sections");
  // Exactly 64 is fine.
  std::string limit = kMinimal;
  for (int i = 1; i < 64; ++i) limit += "m=audio 9 UDP/TLS/RTP/SAVPF 0\n";
  CHECK(MustParse(limit).media.size() == 64);
}
