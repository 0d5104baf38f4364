#include "sdp/session_description.h"

#include <tuple>

namespace kvs::sdp {

bool operator==(const Origin& a, const Origin& b) {
  return std::tie(a.username, a.sessionId, a.sessionVersion, a.netType, a.addrType, a.address) ==
         std::tie(b.username, b.sessionId, b.sessionVersion, b.netType, b.addrType, b.address);
}
bool operator==(const Fingerprint& a, const Fingerprint& b) {
  return std::tie(a.hashFunction, a.value) == std::tie(b.hashFunction, b.value);
}
bool operator==(const Group& a, const Group& b) {
  return std::tie(a.semantics, a.mids) == std::tie(b.semantics, b.mids);
}
bool operator==(const RtpMap& a, const RtpMap& b) {
  return std::tie(a.encoding, a.clockRate, a.channels) ==
         std::tie(b.encoding, b.clockRate, b.channels);
}
bool operator==(const RtpFormat& a, const RtpFormat& b) {
  return std::tie(a.payloadType, a.rtpmap, a.fmtp, a.rtcpFeedback) ==
         std::tie(b.payloadType, b.rtpmap, b.fmtp, b.rtcpFeedback);
}
bool operator==(const Extmap& a, const Extmap& b) {
  return std::tie(a.id, a.direction, a.uri, a.attributes) ==
         std::tie(b.id, b.direction, b.uri, b.attributes);
}
bool operator==(const Msid& a, const Msid& b) {
  return std::tie(a.streamId, a.trackId) == std::tie(b.streamId, b.trackId);
}
bool operator==(const SsrcAttribute& a, const SsrcAttribute& b) {
  return std::tie(a.ssrc, a.name, a.value) == std::tie(b.ssrc, b.name, b.value);
}
bool operator==(const SsrcGroup& a, const SsrcGroup& b) {
  return std::tie(a.semantics, a.ssrcs) == std::tie(b.semantics, b.ssrcs);
}

const char* DirectionName(Direction d) {
  switch (d) {
    case Direction::kSendRecv:
      return "sendrecv";
    case Direction::kSendOnly:
      return "sendonly";
    case Direction::kRecvOnly:
      return "recvonly";
    case Direction::kInactive:
      return "inactive";
  }
  return "sendrecv";
}

const char* SetupName(Setup s) {
  switch (s) {
    case Setup::kActpass:
      return "actpass";
    case Setup::kActive:
      return "active";
    case Setup::kPassive:
      return "passive";
    case Setup::kHoldconn:
      return "holdconn";
  }
  return "actpass";
}

bool MediaSection::isRtp() const { return protocol.find("RTP/") != std::string::npos; }

const RtpFormat* MediaSection::findFormat(uint8_t payloadType) const {
  for (const auto& f : rtpFormats) {
    if (f.payloadType == payloadType) return &f;
  }
  return nullptr;
}

const Group* SessionDescription::bundleGroup() const {
  for (const auto& g : groups) {
    if (g.semantics == "BUNDLE") return &g;
  }
  return nullptr;
}

const MediaSection* SessionDescription::findMedia(const std::string& mid) const {
  for (const auto& m : media) {
    if (m.mid == mid) return &m;
  }
  return nullptr;
}

TransportAttributes EffectiveTransport(const SessionDescription& sd, const MediaSection& m) {
  TransportAttributes t = m.transport;
  const TransportAttributes& s = sd.transport;
  if (!t.iceUfrag) t.iceUfrag = s.iceUfrag;
  if (!t.icePwd) t.icePwd = s.icePwd;
  if (t.iceOptions.empty()) t.iceOptions = s.iceOptions;
  if (t.fingerprints.empty()) t.fingerprints = s.fingerprints;
  if (!t.setup) t.setup = s.setup;
  return t;
}

bool operator==(const TransportAttributes& a, const TransportAttributes& b) {
  return std::tie(a.iceUfrag, a.icePwd, a.iceOptions, a.fingerprints, a.setup) ==
         std::tie(b.iceUfrag, b.icePwd, b.iceOptions, b.fingerprints, b.setup);
}

bool operator==(const MediaSection& a, const MediaSection& b) {
  auto key = [](const MediaSection& m) {
    return std::tie(m.media, m.port, m.portCount, m.protocol, m.formats, m.connection, m.mid,
                    m.transport, m.candidates, m.endOfCandidates, m.rtcpMux, m.rtcpRsize,
                    m.bundleOnly, m.extmapAllowMixed, m.direction, m.rtpFormats, m.rtcpFeedbackAll,
                    m.extmaps, m.msids, m.ssrcGroups, m.ssrcs, m.sctpPort, m.maxMessageSize,
                    m.otherAttributes, m.otherLines);
  };
  return key(a) == key(b);
}

bool operator==(const SessionDescription& a, const SessionDescription& b) {
  auto key = [](const SessionDescription& s) {
    return std::tie(s.origin, s.sessionName, s.timing, s.connection, s.groups, s.msidSemantic,
                    s.extmapAllowMixed, s.iceLite, s.transport, s.otherAttributes, s.otherLines,
                    s.media);
  };
  return key(a) == key(b);
}

}  // namespace kvs::sdp
