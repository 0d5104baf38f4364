#include "sdp/sdp_writer.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace kvs::sdp {

namespace {

class Writer {
 public:
  void line(std::string_view text) {
    out_ += text;
    out_ += "\r\n";
  }
  void attr(std::string_view name) {
    out_ += "a=";
    line(name);
  }
  void attr(std::string_view name, std::string_view value) {
    out_ += "a=";
    out_ += name;
    out_ += ':';
    line(value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Verbatim lines whose type letter is in `letters`, in their original order: RFC 8866 fixes
// where each letter goes relative to the lines the model names.
void OtherLines(Writer& w, const std::vector<std::string>& lines, const char* letters) {
  for (const auto& l : lines) {
    if (!l.empty() && std::strchr(letters, l[0]) != nullptr) w.line(l);
  }
}

// Letters the parser keeps verbatim that are not in any of the lists the writer places, so they
// are written last rather than lost.
bool IsUnplacedLetter(char c, const char* placed) { return std::strchr(placed, c) == nullptr; }

void Transport(Writer& w, const TransportAttributes& t) {
  if (t.iceUfrag) w.attr("ice-ufrag", *t.iceUfrag);
  if (t.icePwd) w.attr("ice-pwd", *t.icePwd);
  if (!t.iceOptions.empty()) {
    std::string v;
    for (const auto& o : t.iceOptions) v += (v.empty() ? "" : " ") + o;
    w.attr("ice-options", v);
  }
  for (const auto& f : t.fingerprints) w.attr("fingerprint", f.hashFunction + " " + f.value);
  if (t.setup) w.attr("setup", SetupName(*t.setup));
}

void RtpFormats(Writer& w, const MediaSection& m) {
  for (const auto& f : m.rtpFormats) {
    std::string pt = std::to_string(f.payloadType);
    if (f.rtpmap) {
      std::string v = pt + " " + f.rtpmap->encoding + "/" + std::to_string(f.rtpmap->clockRate);
      if (f.rtpmap->channels) v += "/" + std::to_string(*f.rtpmap->channels);
      w.attr("rtpmap", v);
    }
    for (const auto& fb : f.rtcpFeedback) w.attr("rtcp-fb", pt + " " + fb);
    if (f.fmtp) w.attr("fmtp", f.fmtp->empty() ? pt : pt + " " + *f.fmtp);
  }
  for (const auto& fb : m.rtcpFeedbackAll) w.attr("rtcp-fb", "* " + fb);
}

void Media(Writer& w, const MediaSection& m) {
  std::string ml = "m=" + m.media + " " + std::to_string(m.port);
  if (m.portCount) ml += "/" + std::to_string(*m.portCount);
  ml += " " + m.protocol;
  for (const auto& f : m.formats) ml += " " + f;
  w.line(ml);
  OtherLines(w, m.otherLines, "i");
  if (m.connection) w.line("c=" + *m.connection);
  OtherLines(w, m.otherLines, "bk");
  for (const auto& l : m.otherLines) {
    if (!l.empty() && IsUnplacedLetter(l[0], "ibk")) w.line(l);
  }

  if (m.bundleOnly) w.attr("bundle-only");
  Transport(w, m.transport);
  if (m.mid) w.attr("mid", *m.mid);
  for (const auto& e : m.extmaps) {
    std::string v = std::to_string(e.id);
    if (e.direction) v += std::string("/") + DirectionName(*e.direction);
    v += " " + e.uri;
    if (!e.attributes.empty()) v += " " + e.attributes;
    w.attr("extmap", v);
  }
  if (m.extmapAllowMixed) w.attr("extmap-allow-mixed");
  if (m.direction) w.attr(DirectionName(*m.direction));
  for (const auto& ms : m.msids) {
    w.attr("msid", ms.trackId.empty() ? ms.streamId : ms.streamId + " " + ms.trackId);
  }
  if (m.rtcpMux) w.attr("rtcp-mux");
  if (m.rtcpRsize) w.attr("rtcp-rsize");
  RtpFormats(w, m);
  for (const auto& g : m.ssrcGroups) {
    std::string v = g.semantics;
    for (uint32_t s : g.ssrcs) v += " " + std::to_string(s);
    w.attr("ssrc-group", v);
  }
  for (const auto& s : m.ssrcs) {
    std::string v = std::to_string(s.ssrc) + " " + s.name;
    if (!s.value.empty()) v += ":" + s.value;
    w.attr("ssrc", v);
  }
  if (m.sctpPort) w.attr("sctp-port", std::to_string(*m.sctpPort));
  if (m.maxMessageSize) w.attr("max-message-size", std::to_string(*m.maxMessageSize));
  for (const auto& a : m.otherAttributes) w.line("a=" + a);
  for (const auto& c : m.candidates) w.line("a=" + FormatCandidate(c));
  if (m.endOfCandidates) w.attr("end-of-candidates");
}

}  // namespace

std::string SerializeSessionDescription(const SessionDescription& sd) {
  Writer w;
  w.line("v=0");
  const Origin& o = sd.origin;
  w.line("o=" + o.username + " " + o.sessionId + " " + std::to_string(o.sessionVersion) + " " +
         o.netType + " " + o.addrType + " " + o.address);
  w.line("s=" + sd.sessionName);
  OtherLines(w, sd.otherLines, "iuep");
  if (sd.connection) w.line("c=" + *sd.connection);
  OtherLines(w, sd.otherLines, "b");
  w.line("t=" + sd.timing);
  OtherLines(w, sd.otherLines, "rzk");
  for (const auto& l : sd.otherLines) {
    if (!l.empty() && IsUnplacedLetter(l[0], "iuepbrzk")) w.line(l);
  }

  for (const auto& g : sd.groups) {
    std::string v = g.semantics;
    for (const auto& mid : g.mids) v += " " + mid;
    w.attr("group", v);
  }
  if (sd.extmapAllowMixed) w.attr("extmap-allow-mixed");
  if (sd.msidSemantic) w.attr("msid-semantic", *sd.msidSemantic);
  if (sd.iceLite) w.attr("ice-lite");
  Transport(w, sd.transport);
  for (const auto& a : sd.otherAttributes) w.line("a=" + a);

  for (const auto& m : sd.media) Media(w, m);
  return w.take();
}

}  // namespace kvs::sdp
