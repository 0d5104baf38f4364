// The SDP model (RFC 8866 with the WebRTC attributes of RFC 8829/8839/8843/8841/8122/4145):
// what the parser produces and the writer consumes. Attributes the model does not name are kept
// verbatim, in order, so a parse/serialise round trip loses nothing a peer could need.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sdp/candidate.h"

namespace kvs::sdp {

enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };
enum class Setup { kActpass, kActive, kPassive, kHoldconn };

const char* DirectionName(Direction d);  // "sendrecv", ...
const char* SetupName(Setup s);          // "actpass", ...

struct Origin {
  std::string username = "-";
  std::string sessionId;  // digits; kept as text because some stacks exceed 64 bits
  uint64_t sessionVersion = 0;
  std::string netType = "IN";
  std::string addrType = "IP4";
  std::string address = "127.0.0.1";
};

struct Fingerprint {
  std::string hashFunction;  // "sha-256" (as written)
  std::string value;         // upper- or lower-case hex pairs joined by ':'
};

struct Group {
  std::string semantics;  // "BUNDLE", "LS", ...
  std::vector<std::string> mids;
};

struct RtpMap {
  std::string encoding;  // "H264", "opus", "rtx" (as written)
  uint32_t clockRate = 0;
  std::optional<uint32_t> channels;  // the optional "/2" of audio encodings
};

// Everything the SDP says about one RTP payload type: a=rtpmap, a=rtcp-fb and a=fmtp.
struct RtpFormat {
  uint8_t payloadType = 0;
  std::optional<RtpMap> rtpmap;  // absent for a static type (0, 8) offered without one
  std::optional<std::string> fmtp;
  std::vector<std::string> rtcpFeedback;  // "nack", "nack pli", "transport-cc", ...
};

struct Extmap {
  uint16_t id = 0;
  std::optional<Direction> direction;  // the optional "/sendonly" after the id
  std::string uri;
  std::string attributes;  // anything after the URI, verbatim
};

struct Msid {
  std::string streamId;
  std::string trackId;  // may be empty (RFC 8830 makes it optional)
};

struct SsrcAttribute {
  uint32_t ssrc = 0;
  std::string name;   // "cname", "msid", ...
  std::string value;  // may be empty for a bare attribute
};

struct SsrcGroup {
  std::string semantics;  // "FID", "SIM", ...
  std::vector<uint32_t> ssrcs;
};

// The transport attributes that may appear at session level and apply to every m-line that does
// not override them.
struct TransportAttributes {
  std::optional<std::string> iceUfrag;
  std::optional<std::string> icePwd;
  std::vector<std::string> iceOptions;  // "trickle", ...
  std::vector<Fingerprint> fingerprints;
  std::optional<Setup> setup;
};

struct MediaSection {
  std::string media;  // "audio", "video", "application" (others kept as written)
  uint16_t port = 9;
  std::optional<uint16_t> portCount;      // the "/2" of "m=audio 9/2 ..."
  std::string protocol;                   // "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", ...
  std::vector<std::string> formats;       // payload types, or "webrtc-datachannel"
  std::optional<std::string> connection;  // c= value: "IN IP4 0.0.0.0"

  std::optional<std::string> mid;
  TransportAttributes transport;
  std::vector<Candidate> candidates;
  bool endOfCandidates = false;
  bool rtcpMux = false;
  bool rtcpRsize = false;
  bool bundleOnly = false;
  bool extmapAllowMixed = false;
  std::optional<Direction> direction;

  // In the order the m-line lists them, then any described but not listed.
  std::vector<RtpFormat> rtpFormats;
  std::vector<std::string> rtcpFeedbackAll;  // a=rtcp-fb:* ...
  std::vector<Extmap> extmaps;
  std::vector<Msid> msids;
  std::vector<SsrcGroup> ssrcGroups;
  std::vector<SsrcAttribute> ssrcs;

  std::optional<uint16_t> sctpPort;
  std::optional<uint64_t> maxMessageSize;

  std::vector<std::string> otherAttributes;  // text after "a=", verbatim
  std::vector<std::string> otherLines;       // whole lines (i=, b=, k=), verbatim

  bool rejected() const { return port == 0 && !bundleOnly; }
  bool isRtp() const;  // the protocol carries RTP ("RTP/" in it)
  const RtpFormat* findFormat(uint8_t payloadType) const;
};

struct SessionDescription {
  Origin origin;
  std::string sessionName = "-";
  std::string timing = "0 0";
  std::optional<std::string> connection;

  std::vector<Group> groups;
  std::optional<std::string> msidSemantic;  // "WMS", "WMS *", ...
  bool extmapAllowMixed = false;
  bool iceLite = false;
  TransportAttributes transport;

  std::vector<std::string> otherAttributes;
  std::vector<std::string> otherLines;  // i=, u=, e=, p=, b=, r=, z=, k=

  std::vector<MediaSection> media;

  const Group* bundleGroup() const;
  const MediaSection* findMedia(const std::string& mid) const;
};

// The transport parameters that apply to one m-line: its own, or the session's where it has none.
TransportAttributes EffectiveTransport(const SessionDescription& sd, const MediaSection& m);

bool operator==(const Origin& a, const Origin& b);
bool operator==(const Fingerprint& a, const Fingerprint& b);
bool operator==(const Group& a, const Group& b);
bool operator==(const RtpMap& a, const RtpMap& b);
bool operator==(const RtpFormat& a, const RtpFormat& b);
bool operator==(const Extmap& a, const Extmap& b);
bool operator==(const Msid& a, const Msid& b);
bool operator==(const SsrcAttribute& a, const SsrcAttribute& b);
bool operator==(const SsrcGroup& a, const SsrcGroup& b);
bool operator==(const TransportAttributes& a, const TransportAttributes& b);
bool operator==(const MediaSection& a, const MediaSection& b);
bool operator==(const SessionDescription& a, const SessionDescription& b);
inline bool operator!=(const SessionDescription& a, const SessionDescription& b) {
  return !(a == b);
}

}  // namespace kvs::sdp
