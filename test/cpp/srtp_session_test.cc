#include <doctest/doctest.h>

#include <vector>

#include "selftest/dtls_srtp_selftest.h"
#include "srtp/srtp_session.h"

using kvs::srtp::SrtpDirection;
using kvs::srtp::SrtpProfile;
using kvs::srtp::SrtpSession;

namespace {

std::vector<uint8_t> KeySalt(size_t n, uint8_t seed) {
  std::vector<uint8_t> k(n);
  for (size_t i = 0; i < n; ++i) k[i] = static_cast<uint8_t>(seed + i * 7);
  return k;
}

std::vector<uint8_t> Rtp(uint16_t seq) {
  std::vector<uint8_t> p = {
      0x80, 96,  static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq), 0, 0, 0, 1, 0xde, 0xad,
      0xbe, 0xef};
  for (int i = 0; i < 50; ++i) p.push_back(static_cast<uint8_t>(i));
  return p;
}

}  // namespace

TEST_CASE("SRTP protects and unprotects with the tag each profile specifies") {
  struct Case {
    SrtpProfile profile;
    size_t keySalt;
    size_t rtpOverhead;
  };
  for (Case c : {Case{SrtpProfile::kAesCm128HmacSha1_80, 30, 10},
                 Case{SrtpProfile::kAesCm128HmacSha1_32, 30, 4},
                 Case{SrtpProfile::kAeadAes128Gcm, 28, 16}}) {
    CAPTURE(kvs::srtp::InfoOf(c.profile).name);
    auto key = KeySalt(c.keySalt, 3);
    auto out = SrtpSession::Create(c.profile, key, SrtpDirection::kOutbound);
    auto in = SrtpSession::Create(c.profile, key, SrtpDirection::kInbound);
    REQUIRE(out.ok());
    REQUIRE(in.ok());
    for (uint16_t seq = 100; seq < 110; ++seq) {
      auto plain = Rtp(seq);
      auto wire = plain;
      REQUIRE(out.value()->ProtectRtp(wire).ok());
      CHECK(wire.size() == plain.size() + c.rtpOverhead);
      REQUIRE(in.value()->UnprotectRtp(wire).ok());
      CHECK(wire == plain);
    }
  }
}

TEST_CASE("a different key fails authentication") {
  auto out =
      SrtpSession::Create(SrtpProfile::kAeadAes128Gcm, KeySalt(28, 1), SrtpDirection::kOutbound);
  auto in =
      SrtpSession::Create(SrtpProfile::kAeadAes128Gcm, KeySalt(28, 2), SrtpDirection::kInbound);
  auto wire = Rtp(1);
  REQUIRE(out.value()->ProtectRtp(wire).ok());
  CHECK(in.value()->UnprotectRtp(wire).code() == "ERR_SRTP_AUTH_FAIL");
}

TEST_CASE("truncated and short packets are refused, never read past the end") {
  auto key = KeySalt(30, 9);
  auto in = SrtpSession::Create(SrtpProfile::kAesCm128HmacSha1_80, key, SrtpDirection::kInbound);
  auto out = SrtpSession::Create(SrtpProfile::kAesCm128HmacSha1_80, key, SrtpDirection::kOutbound);
  std::vector<uint8_t> tiny = {0x80, 96, 0, 1};
  CHECK(in.value()->UnprotectRtp(tiny).code() == "ERR_SRTP_MALFORMED");
  CHECK(out.value()->ProtectRtp(tiny).code() == "ERR_SRTP_MALFORMED");
  auto wire = Rtp(5);
  REQUIRE(out.value()->ProtectRtp(wire).ok());
  for (size_t cut = 12; cut < wire.size(); cut += 7) {
    std::vector<uint8_t> partial(wire.begin(), wire.begin() + cut);
    CHECK_FALSE(in.value()->UnprotectRtp(partial).ok());
  }
}

TEST_CASE("sessions refuse the wrong direction and bad key sizes") {
  auto out = SrtpSession::Create(SrtpProfile::kAesCm128HmacSha1_80, KeySalt(30, 1),
                                 SrtpDirection::kOutbound);
  auto p = Rtp(1);
  CHECK(out.value()->UnprotectRtp(p).code() == "ERR_INVALID_STATE");
  auto bad =
      SrtpSession::Create(SrtpProfile::kAeadAes128Gcm, KeySalt(30, 1), SrtpDirection::kOutbound);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("28-byte") != std::string::npos);
}

TEST_CASE("the self-test passes for every profile") {
  for (SrtpProfile profile : {SrtpProfile::kAesCm128HmacSha1_80, SrtpProfile::kAesCm128HmacSha1_32,
                              SrtpProfile::kAeadAes128Gcm}) {
    auto r = kvs::selftest::RunDtlsSrtpSelfTest(profile);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    CHECK(r.value().tamperRejected);
    CHECK(r.value().replayRejected);
    CHECK(r.value().sctpSocketCreated);
  }
}
