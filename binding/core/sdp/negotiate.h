// Offer/answer (RFC 3264, RFC 8829) over the SDP model: build our offer from a small description
// of transceivers and the data channel, and answer a peer's offer following its payload types.
// Pure: identifiers (session id, ufrag, pwd, ssrcs) come from the caller.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "sdp/candidate.h"
#include "sdp/codecs.h"
#include "sdp/session_description.h"

namespace kvs::sdp {

// What we send on a transceiver, written as a=msid and a=ssrc lines when the direction sends.
struct LocalTrack {
  uint32_t ssrc = 0;
  uint32_t rtxSsrc = 0;  // 0 = none; otherwise grouped with `ssrc` by a=ssrc-group:FID
  std::string cname;
  std::string streamId;
  std::string trackId;
};

// Our ICE and DTLS parameters, the same for every m-line (max-bundle: one transport).
struct LocalTransport {
  std::string iceUfrag;
  std::string icePwd;
  std::string fingerprintSha256;  // "AB:CD:..." (dtls::Certificate::fingerprint())
  bool trickle = true;
  // Written into the first bundled m-line, for peers that do not trickle.
  std::vector<Candidate> candidates;
  bool endOfCandidates = false;
};

enum class SectionKind { kAudio, kVideo, kApplication };

struct OfferedSection {
  SectionKind kind = SectionKind::kVideo;
  std::string mid;
  // A stopped transceiver keeps its m-line in later offers, rejected (port 0, outside BUNDLE).
  bool stopped = false;
  // Audio and video:
  Direction direction = Direction::kSendRecv;
  std::vector<Codec> codecs;  // preference order; empty = DefaultCodecs(kind)
  bool rtx = true;            // offer RTX (with apt) for the video codecs that have one
  std::optional<LocalTrack> track;
  // Application (data channels):
  uint16_t sctpPort = 5000;
  uint64_t maxMessageSize = 262144;
};

struct OfferSpec {
  std::string sessionId;  // decimal digits
  uint64_t sessionVersion = 2;
  LocalTransport transport;
  std::vector<OfferedSection> sections;  // m-line order
  bool twcc = true;                      // transport-cc feedback and header extension
};

// ERR_SDP_NEGOTIATION if the spec is inconsistent (no sections, empty or duplicate mid, a codec
// of the wrong kind, missing ICE credentials or fingerprint).
Result<SessionDescription> BuildOffer(const OfferSpec& spec);

// How we answer one offered audio or video m-line.
struct AnswerPolicy {
  Direction direction = Direction::kSendRecv;  // what we would like; intersected with the offer
  std::vector<Codec> codecs;                   // preference order; empty = DefaultCodecs(kind)
  bool rtx = true;
  std::optional<LocalTrack> track;
};

struct AnswerSpec {
  std::string sessionId;
  uint64_t sessionVersion = 2;
  LocalTransport transport;
  AnswerPolicy audio;
  AnswerPolicy video;
  std::map<std::string, AnswerPolicy> byMid;  // overrides audio/video for a given mid
  bool acceptDataChannel = true;
  uint16_t sctpPort = 5000;
  uint64_t maxMessageSize = 262144;
  bool twcc = true;
};

// Answers `offer`: each m-line keeps its mid and, for every codec we share, the OFFER's payload
// type (best H.264 match by packetization-mode and profile), with its RTX if offered; m-lines
// with nothing in common, outside the BUNDLE group, or of a kind we do not do are rejected
// (port 0). setup is active unless the offer said active. ERR_SDP_NEGOTIATION if the offer
// cannot be answered at all (no ICE credentials or fingerprint, setup:holdconn).
Result<SessionDescription> BuildAnswer(const SessionDescription& offer, const AnswerSpec& spec);

// The direction we may use given what the peer said it does (RFC 3264 §6.1).
Direction AnswerDirection(Direction offered, Direction wanted);

// One codec as negotiated in an m-line: what PeerConnection needs to send or receive it.
struct NegotiatedCodec {
  Codec codec;
  uint8_t payloadType;
  std::optional<uint8_t> rtxPayloadType;
  std::string fmtp;
};
// The codecs of ours an m-line carries, in its order (the first is the one to send).
std::vector<NegotiatedCodec> NegotiatedCodecs(const MediaSection& m);

// What an m-line (the answer's: it holds what both sides agreed) says about RTP: the codecs,
// the header extension ids (0 = not negotiated) and the RTCP feedback of the codec we send.
struct RtpParameters {
  std::vector<NegotiatedCodec> codecs;
  uint8_t twccExtensionId = 0;
  uint8_t absSendTimeExtensionId = 0;
  uint8_t midExtensionId = 0;
  bool nack = false;
  bool pli = false;
  bool fir = false;
  bool remb = false;
  bool transportCc = false;
  bool reducedSizeRtcp = false;
};
RtpParameters DescribeRtp(const MediaSection& m);

// The SSRCs a peer announces in an m-line (a=ssrc, a=ssrc-group:FID), each with the RTX SSRC
// that repairs it (0 = none).
struct RemoteSsrc {
  uint32_t ssrc = 0;
  uint32_t rtxSsrc = 0;
};
std::vector<RemoteSsrc> RemoteSsrcs(const MediaSection& m);

}  // namespace kvs::sdp
