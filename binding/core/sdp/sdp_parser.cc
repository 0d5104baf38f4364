#include "sdp/sdp_parser.h"

#include <set>
#include <string>

#include "sdp/text.h"

namespace kvs::sdp {

namespace {

constexpr const char* kMalformed = "ERR_SDP_MALFORMED";
constexpr const char* kTooLarge = "ERR_SDP_TOO_LARGE";

struct Line {
  size_t number = 0;
  std::string_view text;   // the whole line, without its line ending
  char type = 0;           // the letter before '='
  std::string_view value;  // after '='
};

Status LineError(const Line& l, const std::string& why) {
  return Status::Fail(kMalformed, "line " + std::to_string(l.number) + ": " +
                                      text::QuoteForError(l.text) + ": " + why);
}

std::optional<Direction> DirectionFromName(std::string_view s) {
  if (s == "sendrecv") return Direction::kSendRecv;
  if (s == "sendonly") return Direction::kSendOnly;
  if (s == "recvonly") return Direction::kRecvOnly;
  if (s == "inactive") return Direction::kInactive;
  return std::nullopt;
}

std::optional<Setup> SetupFromName(std::string_view s) {
  if (s == "actpass") return Setup::kActpass;
  if (s == "active") return Setup::kActive;
  if (s == "passive") return Setup::kPassive;
  if (s == "holdconn") return Setup::kHoldconn;
  return std::nullopt;
}

bool IsHexPairs(std::string_view s) {
  // "AB:CD:..." (RFC 8122 §5): pairs of hex digits joined by ':'.
  if (s.empty()) return false;
  auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  for (size_t i = 0; i < s.size(); i += 3) {
    if (i + 2 > s.size() || !hex(s[i]) || !hex(s[i + 1])) return false;
    if (i + 2 < s.size() && s[i + 2] != ':') return false;
    if (i + 2 == s.size() - 1) return false;  // a trailing ':'
  }
  return true;
}

// A single token with no spaces (ufrag, pwd, mid).
bool IsToken(std::string_view s) { return !s.empty() && text::SplitFields(s).size() == 1; }

Result<uint8_t> ParsePayloadType(const Line& l, std::string_view s) {
  auto pt = text::ParseUnsigned(s, 127);
  if (!pt) return LineError(l, "payload type " + text::QuoteForError(s) + " is not 0-127");
  return static_cast<uint8_t>(*pt);
}

RtpFormat& FormatFor(MediaSection& m, uint8_t pt) {
  for (auto& f : m.rtpFormats) {
    if (f.payloadType == pt) return f;
  }
  m.rtpFormats.push_back(RtpFormat{pt, std::nullopt, std::nullopt, {}});
  return m.rtpFormats.back();
}

template <typename T>
Status SetOnce(const Line& l, std::optional<T>& slot, T value, std::string_view name) {
  if (slot.has_value()) return LineError(l, "duplicate a=" + std::string(name));
  slot = std::move(value);
  return Status::Ok();
}

// Attributes that may appear at session level or in a media section. Returns true if handled.
Result<bool> ParseTransportAttribute(const Line& l, std::string_view name, std::string_view value,
                                     bool hasValue, TransportAttributes& t) {
  if (name == "ice-ufrag" || name == "ice-pwd") {
    if (!hasValue || !IsToken(value)) return LineError(l, "expected one token");
    auto& slot = name == "ice-ufrag" ? t.iceUfrag : t.icePwd;
    Status st = SetOnce(l, slot, std::string(value), name);
    if (!st.ok()) return st;
    return true;
  }
  if (name == "ice-options") {
    for (auto opt : text::SplitFields(value)) t.iceOptions.emplace_back(opt);
    return true;
  }
  if (name == "fingerprint") {
    auto f = text::SplitFields(value);
    if (f.size() != 2) return LineError(l, "expected \"<hash-function> <fingerprint>\"");
    if (!IsHexPairs(f[1])) return LineError(l, "fingerprint is not hex pairs joined by ':'");
    t.fingerprints.push_back(Fingerprint{std::string(f[0]), std::string(f[1])});
    return true;
  }
  if (name == "setup") {
    auto s = SetupFromName(value);
    if (!s) return LineError(l, "setup is not actpass, active, passive or holdconn");
    Status st = SetOnce(l, t.setup, *s, name);
    if (!st.ok()) return st;
    return true;
  }
  return false;
}

Status ParseSessionAttribute(const Line& l, std::string_view name, std::string_view value,
                             bool hasValue, SessionDescription& sd) {
  auto handled = ParseTransportAttribute(l, name, value, hasValue, sd.transport);
  if (!handled.ok()) return handled.status();
  if (handled.value()) return Status::Ok();
  if (name == "group" && hasValue) {
    auto f = text::SplitFields(value);
    if (f.empty()) return LineError(l, "group has no semantics");
    Group g{std::string(f[0]), {}};
    for (size_t i = 1; i < f.size(); ++i) g.mids.emplace_back(f[i]);
    sd.groups.push_back(std::move(g));
  } else if (name == "msid-semantic" && hasValue) {
    std::string_view v = text::TrimWhitespace(value);
    if (v.empty()) return LineError(l, "msid-semantic is empty");
    Status st = SetOnce(l, sd.msidSemantic, std::string(v), name);
    if (!st.ok()) return st;
  } else if (name == "extmap-allow-mixed" && !hasValue) {
    sd.extmapAllowMixed = true;
  } else if (name == "ice-lite" && !hasValue) {
    sd.iceLite = true;
  } else {
    sd.otherAttributes.emplace_back(l.value);
  }
  return Status::Ok();
}

Status ParseRtpMap(const Line& l, std::string_view value, MediaSection& m) {
  auto f = text::SplitFields(value);
  if (f.size() != 2) return LineError(l, "expected \"<payload type> <encoding>/<clock rate>\"");
  auto pt = ParsePayloadType(l, f[0]);
  if (!pt.ok()) return pt.status();
  auto enc = text::SplitOnce(f[1], '/');
  if (enc.first.empty() || !enc.found) return LineError(l, "expected <encoding>/<clock rate>");
  auto rate = text::SplitOnce(enc.second, '/');
  auto clock = text::ParseUnsigned(rate.first, UINT32_MAX);
  if (!clock || *clock == 0) return LineError(l, "clock rate is not a positive number");
  RtpMap map{std::string(enc.first), static_cast<uint32_t>(*clock), std::nullopt};
  if (rate.found) {
    auto channels = text::ParseUnsigned(rate.second, 255);
    if (!channels || *channels == 0) return LineError(l, "channel count is not 1-255");
    map.channels = static_cast<uint32_t>(*channels);
  }
  return SetOnce(l, FormatFor(m, pt.value()).rtpmap, std::move(map), "rtpmap");
}

Status ParseFmtp(const Line& l, std::string_view value, MediaSection& m) {
  auto parts = text::SplitOnce(value, ' ');
  auto pt = ParsePayloadType(l, parts.first);
  if (!pt.ok()) return pt.status();
  return SetOnce(l, FormatFor(m, pt.value()).fmtp, std::string(text::TrimWhitespace(parts.second)),
                 "fmtp");
}

Status ParseRtcpFb(const Line& l, std::string_view value, MediaSection& m) {
  auto parts = text::SplitOnce(value, ' ');
  std::string fb;
  for (auto w : text::SplitFields(parts.second)) {
    if (!fb.empty()) fb += ' ';
    fb += w;
  }
  if (fb.empty()) return LineError(l, "rtcp-fb has no feedback type");
  if (parts.first == "*") {
    m.rtcpFeedbackAll.push_back(std::move(fb));
    return Status::Ok();
  }
  auto pt = ParsePayloadType(l, parts.first);
  if (!pt.ok()) return pt.status();
  FormatFor(m, pt.value()).rtcpFeedback.push_back(std::move(fb));
  return Status::Ok();
}

Status ParseExtmap(const Line& l, std::string_view value, MediaSection& m) {
  auto parts = text::SplitOnce(value, ' ');
  auto idDir = text::SplitOnce(parts.first, '/');
  auto id = text::ParseUnsigned(idDir.first, 65535);
  if (!id || *id == 0) return LineError(l, "extmap id is not 1-65535");
  Extmap e;
  e.id = static_cast<uint16_t>(*id);
  if (idDir.found) {
    e.direction = DirectionFromName(idDir.second);
    if (!e.direction) return LineError(l, "extmap direction is not a direction");
  }
  auto uriRest = text::SplitOnce(text::TrimWhitespace(parts.second), ' ');
  if (uriRest.first.empty()) return LineError(l, "extmap has no URI");
  e.uri = std::string(uriRest.first);
  e.attributes = std::string(text::TrimWhitespace(uriRest.second));
  m.extmaps.push_back(std::move(e));
  return Status::Ok();
}

Status ParseSsrc(const Line& l, std::string_view value, MediaSection& m) {
  auto parts = text::SplitOnce(value, ' ');
  auto ssrc = text::ParseUnsigned(parts.first, UINT32_MAX);
  if (!ssrc) return LineError(l, "ssrc is not a 32-bit number");
  std::string_view attr = text::TrimWhitespace(parts.second);
  if (attr.empty()) return LineError(l, "ssrc has no attribute");
  auto nv = text::SplitOnce(attr, ':');
  // The name is a token: blanks before the colon are not part of it (the SDP fuzzer found
  // "msid :" read as the name "msid ", written back without the colon and then read as "msid").
  std::string_view name = text::TrimWhitespace(nv.first);
  if (name.empty()) return LineError(l, "ssrc attribute has no name");
  m.ssrcs.push_back(
      SsrcAttribute{static_cast<uint32_t>(*ssrc), std::string(name), std::string(nv.second)});
  return Status::Ok();
}

Status ParseSsrcGroup(const Line& l, std::string_view value, MediaSection& m) {
  auto f = text::SplitFields(value);
  if (f.size() < 2) return LineError(l, "expected \"<semantics> <ssrc>...\"");
  SsrcGroup g{std::string(f[0]), {}};
  for (size_t i = 1; i < f.size(); ++i) {
    auto ssrc = text::ParseUnsigned(f[i], UINT32_MAX);
    if (!ssrc) return LineError(l, "ssrc is not a 32-bit number");
    g.ssrcs.push_back(static_cast<uint32_t>(*ssrc));
  }
  m.ssrcGroups.push_back(std::move(g));
  return Status::Ok();
}

Status ParseMediaAttribute(const Line& l, std::string_view name, std::string_view value,
                           bool hasValue, MediaSection& m) {
  auto handled = ParseTransportAttribute(l, name, value, hasValue, m.transport);
  if (!handled.ok()) return handled.status();
  if (handled.value()) return Status::Ok();
  if (!hasValue) {
    if (auto d = DirectionFromName(name)) return SetOnce(l, m.direction, *d, "direction");
    bool* flag = name == "rtcp-mux"             ? &m.rtcpMux
                 : name == "rtcp-rsize"         ? &m.rtcpRsize
                 : name == "end-of-candidates"  ? &m.endOfCandidates
                 : name == "bundle-only"        ? &m.bundleOnly
                 : name == "extmap-allow-mixed" ? &m.extmapAllowMixed
                                                : nullptr;
    if (flag) {
      *flag = true;
    } else {
      m.otherAttributes.emplace_back(l.value);
    }
    return Status::Ok();
  }
  if (name == "mid") {
    if (!IsToken(value)) return LineError(l, "mid is not one token");
    return SetOnce(l, m.mid, std::string(value), name);
  }
  if (name == "candidate") {
    auto c = ParseCandidate(l.value);
    if (!c.ok()) return LineError(l, c.status().message());
    m.candidates.push_back(c.take());
    return Status::Ok();
  }
  if (name == "rtpmap") return ParseRtpMap(l, value, m);
  if (name == "fmtp") return ParseFmtp(l, value, m);
  if (name == "rtcp-fb") return ParseRtcpFb(l, value, m);
  if (name == "extmap") return ParseExtmap(l, value, m);
  if (name == "ssrc") return ParseSsrc(l, value, m);
  if (name == "ssrc-group") return ParseSsrcGroup(l, value, m);
  if (name == "msid") {
    auto f = text::SplitFields(value);
    if (f.empty() || f.size() > 2) return LineError(l, "expected \"<stream id> [<track id>]\"");
    m.msids.push_back(Msid{std::string(f[0]), f.size() == 2 ? std::string(f[1]) : std::string()});
    return Status::Ok();
  }
  if (name == "sctp-port") {
    auto port = text::ParseUnsigned(value, 65535);
    if (!port) return LineError(l, "sctp-port is not a number from 0 to 65535");
    return SetOnce(l, m.sctpPort, static_cast<uint16_t>(*port), name);
  }
  if (name == "max-message-size") {
    auto size = text::ParseUnsigned(value, UINT64_MAX);
    if (!size) return LineError(l, "max-message-size is not a number");
    return SetOnce(l, m.maxMessageSize, *size, name);
  }
  m.otherAttributes.emplace_back(l.value);
  return Status::Ok();
}

Result<MediaSection> ParseMediaLine(const Line& l) {
  auto f = text::SplitFields(l.value);
  if (f.size() < 4) return LineError(l, "expected \"<media> <port> <proto> <format>...\"");
  MediaSection m;
  m.media = std::string(f[0]);
  auto portParts = text::SplitOnce(f[1], '/');
  auto port = text::ParseUnsigned(portParts.first, 65535);
  if (!port) {
    bool digits = text::ParseUnsigned(portParts.first, UINT64_MAX).has_value();
    return LineError(l, digits ? "port is more than 65535" : "port is not a number");
  }
  m.port = static_cast<uint16_t>(*port);
  if (portParts.found) {
    auto count = text::ParseUnsigned(portParts.second, 65535);
    if (!count || *count == 0) return LineError(l, "port count is not a positive number");
    m.portCount = static_cast<uint16_t>(*count);
  }
  m.protocol = std::string(f[2]);
  for (size_t i = 3; i < f.size(); ++i) m.formats.emplace_back(f[i]);
  if (m.isRtp()) {
    for (const auto& fmt : m.formats) {
      auto pt = ParsePayloadType(l, fmt);
      if (!pt.ok()) return pt.status();
      if (m.findFormat(pt.value())) return LineError(l, "payload type " + fmt + " listed twice");
      m.rtpFormats.push_back(RtpFormat{pt.value(), std::nullopt, std::nullopt, {}});
    }
  }
  return m;
}

// Splits the next line off `rest`, dropping "\n", a "\r" before it and trailing whitespace.
std::string_view NextLine(std::string_view& rest) {
  size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  return line;
}

}  // namespace

Result<SessionDescription> ParseSessionDescription(std::string_view sdp,
                                                   const ParseLimits& limits) {
  if (sdp.size() > limits.maxBytes) {
    return Status::Fail(kTooLarge, "SDP is " + std::to_string(sdp.size()) +
                                       " bytes, more than the limit of " +
                                       std::to_string(limits.maxBytes));
  }
  SessionDescription sd;
  bool seenV = false, seenO = false, seenS = false, seenT = false;
  std::set<std::string> mids;
  MediaSection* current = nullptr;
  size_t number = 0;
  std::string_view rest = sdp;
  auto requireHeader = [&](const Line& l) -> Status {
    if (!seenO) return LineError(l, "no o= line before the first m= line");
    if (!seenS) return LineError(l, "no s= line before the first m= line");
    if (!seenT) return LineError(l, "no t= line before the first m= line");
    return Status::Ok();
  };

  while (!rest.empty()) {
    Line l;
    l.number = ++number;
    l.text = NextLine(rest);
    if (l.text.empty()) continue;  // blank lines (a trailing one is common) carry nothing
    for (char c : l.text) {
      auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        return LineError(l, "contains a control character");
      }
    }
    if (l.text.size() < 2 || l.text[1] != '=' || l.text[0] < 'a' || l.text[0] > 'z') {
      return LineError(l, "expected <type>=<value> with a lower-case type letter");
    }
    l.type = l.text[0];
    l.value = l.text.substr(2);

    if (!seenV) {
      if (l.type != 'v') return LineError(l, "the first line must be v=0");
      if (l.value != "0") return LineError(l, "only version 0 is supported");
      seenV = true;
      continue;
    }

    if (l.type == 'm') {
      if (!current) {
        Status st = requireHeader(l);
        if (!st.ok()) return st;
      }
      if (sd.media.size() >= limits.maxMediaSections) {
        return Status::Fail(kTooLarge, "line " + std::to_string(l.number) + ": more than " +
                                           std::to_string(limits.maxMediaSections) +
                                           " m= sections");
      }
      auto m = ParseMediaLine(l);
      if (!m.ok()) return m.status();
      sd.media.push_back(m.take());
      current = &sd.media.back();
      continue;
    }

    if (l.type == 'a') {
      auto nv = text::SplitOnce(l.value, ':');
      if (nv.first.empty()) return LineError(l, "attribute has no name");
      Status st = current ? ParseMediaAttribute(l, nv.first, nv.second, nv.found, *current)
                          : ParseSessionAttribute(l, nv.first, nv.second, nv.found, sd);
      if (!st.ok()) return st;
      // Only a valued a=mid sets the mid (a bare "a=mid" is kept as an unknown attribute).
      if (current && nv.found && nv.first == "mid" && !mids.insert(*current->mid).second) {
        return LineError(l, "mid is used by an earlier m= section");
      }
      continue;
    }

    if (l.type == 'c') {
      if (text::SplitFields(l.value).size() != 3) {
        return LineError(l, "expected \"<nettype> <addrtype> <address>\"");
      }
      auto& slot = current ? current->connection : sd.connection;
      Status st = SetOnce(l, slot, std::string(l.value), "c");
      if (!st.ok()) return LineError(l, "duplicate c= line");
      continue;
    }

    if (current) {
      if (l.type == 'v' || l.type == 'o' || l.type == 's' || l.type == 't') {
        return LineError(l, "session-level line inside a media section");
      }
      current->otherLines.emplace_back(l.text);
      continue;
    }

    switch (l.type) {
      case 'v':
        return LineError(l, "duplicate v= line");
      case 'o': {
        if (seenO) return LineError(l, "duplicate o= line");
        auto f = text::SplitFields(l.value);
        if (f.size() != 6) {
          return LineError(l,
                           "expected \"<username> <sess-id> <sess-version> <nettype> "
                           "<addrtype> <address>\"");
        }
        auto version = text::ParseUnsigned(f[2], UINT64_MAX);
        if (!version) return LineError(l, "session version is not a number");
        sd.origin = Origin{std::string(f[0]), std::string(f[1]), *version,
                           std::string(f[3]), std::string(f[4]), std::string(f[5])};
        seenO = true;
        break;
      }
      case 's':
        if (seenS) return LineError(l, "duplicate s= line");
        sd.sessionName = std::string(l.value);
        seenS = true;
        break;
      case 't':
        if (seenT) return LineError(l, "multiple t= lines are not supported");
        if (text::SplitFields(l.value).size() != 2) {
          return LineError(l, "expected \"<start> <stop>\"");
        }
        sd.timing = std::string(l.value);
        seenT = true;
        break;
      default:
        sd.otherLines.emplace_back(l.text);
        break;
    }
  }

  if (!seenV) return Status::Fail(kMalformed, "SDP is empty: no v=0 line");
  if (!current) {
    if (!seenO) return Status::Fail(kMalformed, "SDP has no o= line");
    if (!seenS) return Status::Fail(kMalformed, "SDP has no s= line");
    if (!seenT) return Status::Fail(kMalformed, "SDP has no t= line");
  }
  return sd;
}

}  // namespace kvs::sdp
