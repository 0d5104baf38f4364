// Helpers shared by the media payload format tests: fixtures as bytes, NAL unit surgery on
// Annex-B frames, and packetize / depacketize plumbing.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "fixtures/media/media_fixtures.h"
#include "media/nal_units.h"
#include "media/rtp_payload.h"

namespace kvs::media::testing {

using Bytes = std::vector<uint8_t>;

inline Bytes FromHex(std::string_view hex) {
  auto digit = [](char c) -> uint8_t {
    return static_cast<uint8_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  };
  REQUIRE(hex.size() % 2 == 0);
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint8_t>(digit(hex[2 * i]) << 4 | digit(hex[2 * i + 1]));
  }
  return out;
}

inline SharedBytes Shared(Bytes b) { return MakeShared(std::move(b)); }
inline SharedBytes Fixture(std::string_view hex) { return Shared(FromHex(hex)); }

// The NAL units of an Annex-B frame, each as its own bytes.
inline std::vector<Bytes> NalsOf(const Bytes& annexB) {
  auto split = SplitAnnexB(annexB);
  REQUIRE_MESSAGE(split.ok(), split.status().message());
  std::vector<Bytes> out;
  for (const NalUnit& u : split.value()) {
    out.emplace_back(annexB.begin() + u.offset, annexB.begin() + u.offset + u.length);
  }
  return out;
}

// Annex-B with 4-byte start codes, the depacketizers' output form.
inline Bytes AnnexB(const std::vector<Bytes>& nals) {
  Bytes out;
  for (const Bytes& n : nals) AppendAnnexB(out, n);
  return out;
}

// Length-prefixed ("AVCC") with lengths of `size` bytes.
inline Bytes LengthPrefixed(const std::vector<Bytes>& nals, size_t size) {
  Bytes out;
  for (const Bytes& n : nals) {
    for (size_t i = size; i-- > 0;) out.push_back(static_cast<uint8_t>(n.size() >> (8 * i)));
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

inline std::vector<Bytes> Wire(const std::vector<RtpPayload>& payloads) {
  std::vector<Bytes> out;
  for (const RtpPayload& p : payloads) out.push_back(p.ToBytes());
  return out;
}

inline std::vector<ByteSpan> Spans(const std::vector<Bytes>& packets) {
  return {packets.begin(), packets.end()};
}

// Packetizes one frame and checks what every packetizer promises: each payload fits, the
// marker is on the last one only (video).
inline std::vector<RtpPayload> PacketizeChecked(Packetizer& p, const SharedBytes& frame,
                                                size_t maxPayload, bool video = true) {
  std::vector<RtpPayload> out;
  Status s = p.Packetize(frame, maxPayload, out);
  REQUIRE_MESSAGE(s.ok(), s.code() << ": " << s.message());
  for (size_t i = 0; i < out.size(); ++i) {
    CHECK(out[i].size() <= maxPayload);
    CHECK(out[i].size() > 0);
    CHECK(out[i].marker == (video && i + 1 == out.size()));
  }
  return out;
}

inline Frame DepacketizeOk(const Depacketizer& d, const std::vector<Bytes>& packets) {
  auto r = d.Depacketize(Spans(packets));
  REQUIRE_MESSAGE(r.ok(), r.status().code() << ": " << r.status().message());
  return r.take();
}

inline std::string ErrorCode(const Depacketizer& d, const std::vector<Bytes>& packets) {
  auto r = d.Depacketize(Spans(packets));
  return r.ok() ? "ok" : r.status().code();
}

}  // namespace kvs::media::testing
