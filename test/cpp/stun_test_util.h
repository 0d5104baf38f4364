// Helpers shared by the STUN tests.
#pragma once

#include <doctest/doctest.h>

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "net/address.h"
#include "stun/stun_message.h"

namespace kvs::stun::testing {

// "00 01 ab" -> {0x00, 0x01, 0xab}; whitespace ignored, as the RFCs print their vectors.
// Usable in static initialisers (no doctest macros): bad text yields an empty vector.
inline std::vector<uint8_t> Hex(std::string_view text) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char ch : text) {
    if (std::isspace(static_cast<unsigned char>(ch))) continue;
    const int v = std::isdigit(static_cast<unsigned char>(ch))
                      ? ch - '0'
                      : std::tolower(static_cast<unsigned char>(ch)) - 'a' + 10;
    if (v < 0 || v >= 16) return {};
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi * 16 + v));
      hi = -1;
    }
  }
  if (hi >= 0) return {};
  return out;
}

inline std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

// A numeric address the test knows to be valid.
inline net::Address Addr(const char* ip, uint16_t port) {
  auto a = net::Address::Parse(ip, port);
  REQUIRE(a);
  return *a;
}

// Also usable in static initialisers: a wrong size yields all zeros.
inline TransactionId Tid(std::string_view hex) {
  const auto b = Hex(hex);
  TransactionId t{};
  if (b.size() == t.size()) std::copy(b.begin(), b.end(), t.begin());
  return t;
}

// The value of a Result that must be ok (taken by value: the Result is usually a temporary).
template <typename T>
T Ok(Result<T> r) {
  REQUIRE_MESSAGE(r.ok(), r.status().code() << ": " << r.status().message());
  return r.take();
}

}  // namespace kvs::stun::testing
