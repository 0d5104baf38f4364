#include "sdp/text.h"

namespace kvs::sdp::text {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// One group of an IPv6 address: 1 to 4 hex digits.
bool IsHexGroup(std::string_view g) {
  if (g.empty() || g.size() > 4) return false;
  for (char c : g) {
    if (!IsHexDigit(c)) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string_view> SplitFields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !IsSpace(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

Split2 SplitOnce(std::string_view s, char sep) {
  size_t pos = s.find(sep);
  if (pos == std::string_view::npos) return {s, {}, false};
  return {s.substr(0, pos), s.substr(pos + 1), true};
}

std::string_view TrimWhitespace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> ParseUnsigned(std::string_view s, uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (max - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && EqualsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerAscii(c);
  return out;
}

bool IsIpv4(std::string_view s) {
  int parts = 0;
  while (true) {
    size_t dot = s.find('.');
    std::string_view part = s.substr(0, dot);
    // No leading zeros: "01" is ambiguous (octal in some parsers).
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    if (!ParseUnsigned(part, 255)) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return parts == 4;
}

bool IsIpv6(std::string_view s) {
  if (s.size() < 2 || s.size() > 45) return false;
  // An embedded IPv4 tail ("::ffff:1.2.3.4") counts as two groups.
  int tailGroups = 0;
  size_t lastColon = s.rfind(':');
  if (lastColon == std::string_view::npos) return false;
  if (s.find('.', lastColon) != std::string_view::npos) {
    if (!IsIpv4(s.substr(lastColon + 1))) return false;
    tailGroups = 2;
    // Keep the colon so that "::1.2.3.4" still reads as "::" followed by the tail.
    s = s.substr(0, lastColon + 1);
    if (s.size() >= 2 && s[s.size() - 2] == ':') {
      // "...::" + tail: fine as is.
    } else {
      s.remove_suffix(1);
    }
  }
  size_t dbl = s.find("::");
  if (dbl != std::string_view::npos && s.find("::", dbl + 1) != std::string_view::npos) {
    return false;
  }
  auto countGroups = [](std::string_view part, int& groups) {
    if (part.empty()) return true;
    while (true) {
      size_t colon = part.find(':');
      if (!IsHexGroup(part.substr(0, colon))) return false;
      ++groups;
      if (colon == std::string_view::npos) return true;
      part.remove_prefix(colon + 1);
    }
  };
  int groups = tailGroups;
  if (dbl == std::string_view::npos) {
    if (!countGroups(s, groups)) return false;
    return groups == 8;
  }
  if (!countGroups(s.substr(0, dbl), groups)) return false;
  if (!countGroups(s.substr(dbl + 2), groups)) return false;
  return groups <= 7;
}

bool IsHostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  if (s.back() == '.') s.remove_suffix(1);  // a fully qualified name may end in a dot
  // RFC 1123 §2.1: the top-level label is not all digits, so "1.2.3.256" is no name.
  std::string_view top = s.substr(s.rfind('.') == std::string_view::npos ? 0 : s.rfind('.') + 1);
  bool allDigits = !top.empty();
  for (char c : top) allDigits = allDigits && IsDigit(c);
  if (allDigits) return false;
  while (true) {
    size_t dot = s.find('.');
    std::string_view label = s.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      bool ok =
          IsDigit(c) || (LowerAscii(c) >= 'a' && LowerAscii(c) <= 'z') || c == '-' || c == '_';
      if (!ok) return false;
    }
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

std::string QuoteForError(std::string_view line) {
  constexpr size_t kMax = 120;
  std::string out = "\"";
  size_t n = 0;
  for (char c : line) {
    if (n++ == kMax) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace kvs::sdp::text
