// Small string helpers shared by the SDP and candidate codecs. Pure, allocation-light, and
// strict: number parsers accept only decimal digits and reject overflow.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kvs::sdp::text {

// Splits on single spaces; runs of spaces and tabs count as one separator, and empty fields are
// dropped, so "a  b" gives {"a", "b"}. Browsers emit single spaces; others are tolerated.
std::vector<std::string_view> SplitFields(std::string_view s);

// Splits at the first occurrence of `sep`; the second part is empty (and `found` false) if absent.
struct Split2 {
  std::string_view first;
  std::string_view second;
  bool found = false;
};
Split2 SplitOnce(std::string_view s, char sep);

std::string_view TrimWhitespace(std::string_view s);

// Decimal digits only, at most `max`. No sign, no leading '+', no spaces.
std::optional<uint64_t> ParseUnsigned(std::string_view s, uint64_t max);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix);
std::string ToLower(std::string_view s);

bool IsIpv4(std::string_view s);
bool IsIpv6(std::string_view s);
// A DNS name: labels of letters, digits and '-' (and '_', seen in the wild), separated by dots.
bool IsHostname(std::string_view s);

// Quotes a line for an error message: escapes control characters and non-ASCII bytes (which may
// not be valid UTF-8) and truncates long lines, so a hostile input cannot flood logs, inject
// terminal escapes or break the JS string the message becomes.
std::string QuoteForError(std::string_view line);

}  // namespace kvs::sdp::text
