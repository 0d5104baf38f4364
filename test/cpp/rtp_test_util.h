// Helpers shared by the RTP and RTCP tests.
#pragma once

#include <doctest/doctest.h>

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "rtp/rtcp_packet.h"

namespace kvs::rtp::testing {

// "80 60 ab" -> {0x80, 0x60, 0xab}; whitespace and "|" separators ignored. A malformed string
// fails the test.
inline std::vector<uint8_t> Hex(std::string_view text) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char ch : text) {
    if (std::isspace(static_cast<unsigned char>(ch)) || ch == '|') continue;
    const int v = std::isdigit(static_cast<unsigned char>(ch))
                      ? ch - '0'
                      : std::tolower(static_cast<unsigned char>(ch)) - 'a' + 10;
    REQUIRE_MESSAGE((v >= 0 && v < 16), "bad hex digit in test vector: " << ch);
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi * 16 + v));
      hi = -1;
    }
  }
  REQUIRE_MESSAGE(hi < 0, "odd number of hex digits in test vector");
  return out;
}

inline std::vector<uint8_t> Cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline std::vector<uint8_t> ToVector(ByteSpan s) { return {s.data, s.data + s.size}; }

// The value of a Result that must be ok.
template <typename T>
T Ok(Result<T> r) {
  REQUIRE_MESSAGE(r.ok(), r.status().code() << ": " << r.status().message());
  return r.take();
}

template <typename T>
std::string CodeOf(const Result<T>& r) {
  return r.ok() ? "ok" : r.status().code();
}
inline std::string CodeOf(const Status& s) { return s.ok() ? "ok" : s.code(); }

// The single RTCP packet `bytes` holds (framing must be valid).
inline RtcpPacketView OnePacket(const std::vector<uint8_t>& bytes) {
  auto p = ParseRtcpPacket(bytes);
  REQUIRE_MESSAGE(p.ok(), p.status().code() << ": " << p.status().message());
  REQUIRE(p.value().packet.size == bytes.size());
  return p.value();
}

// Writes one packet with WriteRtcp and returns the bytes.
template <typename P>
std::vector<uint8_t> Written(const P& packet) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  const Status s = WriteRtcp(packet, w);
  REQUIRE_MESSAGE(s.ok(), s.code() << ": " << s.message());
  return out;
}

}  // namespace kvs::rtp::testing
