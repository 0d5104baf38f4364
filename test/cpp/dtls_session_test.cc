#include <doctest/doctest.h>

#include <string>
#include <thread>

#include "dtls/dtls_session.h"
#include "selftest/dtls_srtp_selftest.h"
#include "test_util.h"

using kvs::dtls::DtlsRole;
using kvs::dtls::DtlsSession;
using kvs::dtls::DtlsState;
using kvs::srtp::SrtpProfile;
using kvs::testing::MakePair;

namespace {

void Pump(kvs::testing::DtlsPair& p) {
  auto r = kvs::selftest::PumpInMemory(*p.client, *p.server);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
}

}  // namespace

TEST_CASE("client and server reach DTLS 1.2 and agree on keys for every profile") {
  for (SrtpProfile profile : {SrtpProfile::kAesCm128HmacSha1_80, SrtpProfile::kAesCm128HmacSha1_32,
                              SrtpProfile::kAeadAes128Gcm}) {
    CAPTURE(kvs::srtp::InfoOf(profile).name);
    auto p = MakePair({profile}, {profile});
    REQUIRE(p.client->Start().ok());
    Pump(p);
    REQUIRE(p.client->state() == DtlsState::kConnected);
    REQUIRE(p.server->state() == DtlsState::kConnected);
    CHECK(p.client->protocolVersion() == "DTLSv1.2");
    CHECK(p.client->selectedSrtpProfile() == profile);
    auto ck = p.client->ExportSrtpKeys();
    auto sk = p.server->ExportSrtpKeys();
    REQUIRE(ck.ok());
    REQUIRE(sk.ok());
    CHECK(ck.value().localKeySalt == sk.value().remoteKeySalt);
    CHECK(ck.value().remoteKeySalt == sk.value().localKeySalt);
    CHECK(ck.value().localKeySalt != ck.value().remoteKeySalt);
  }
}

TEST_CASE("the server picks the client's most preferred profile that it accepts") {
  auto p = MakePair({SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAesCm128HmacSha1_80},
                    {SrtpProfile::kAesCm128HmacSha1_80});
  REQUIRE(p.client->Start().ok());
  Pump(p);
  REQUIRE(p.client->state() == DtlsState::kConnected);
  CHECK(p.client->selectedSrtpProfile() == SrtpProfile::kAesCm128HmacSha1_80);
  CHECK(p.server->selectedSrtpProfile() == SrtpProfile::kAesCm128HmacSha1_80);
}

TEST_CASE("no common SRTP profile fails the connection") {
  auto p = MakePair({SrtpProfile::kAeadAes128Gcm}, {SrtpProfile::kAesCm128HmacSha1_80});
  REQUIRE(p.client->Start().ok());
  Pump(p);
  CHECK(p.client->state() == DtlsState::kFailed);
  CHECK(p.client->failure().code() == "ERR_DTLS_NO_SRTP_PROFILE");
}

TEST_CASE("a certificate that does not match the SDP fingerprint fails the handshake") {
  const std::string wrong(95, 'A');
  SUBCASE("seen by the client") {
    auto p = MakePair({SrtpProfile::kAesCm128HmacSha1_80}, {SrtpProfile::kAesCm128HmacSha1_80},
                      /*clientExpects=*/wrong);
    REQUIRE(p.client->Start().ok());
    Pump(p);
    CHECK(p.client->state() == DtlsState::kFailed);
    CHECK(p.client->failure().code() == "ERR_DTLS_FINGERPRINT_MISMATCH");
    CHECK(p.server->state() != DtlsState::kConnected);
  }
  SUBCASE("seen by the server") {
    auto p = MakePair({SrtpProfile::kAesCm128HmacSha1_80}, {SrtpProfile::kAesCm128HmacSha1_80}, "",
                      /*serverExpects=*/wrong);
    REQUIRE(p.client->Start().ok());
    Pump(p);
    CHECK(p.server->state() == DtlsState::kFailed);
    CHECK(p.server->failure().code() == "ERR_DTLS_FINGERPRINT_MISMATCH");
    CHECK(p.client->state() != DtlsState::kConnected);
  }
}

TEST_CASE("datagrams never exceed the configured MTU") {
  auto cc = kvs::testing::NewCert();
  auto sc = kvs::testing::NewCert();
  auto client = DtlsSession::Create(
      {DtlsRole::kClient, cc, {SrtpProfile::kAeadAes128Gcm}, sc->fingerprint(), /*mtu=*/300});
  auto server = DtlsSession::Create(
      {DtlsRole::kServer, sc, {SrtpProfile::kAeadAes128Gcm}, cc->fingerprint(), /*mtu=*/300});
  REQUIRE(client.ok());
  REQUIRE(server.ok());
  REQUIRE(client.value()->Start().ok());
  int rounds = 0;
  while (rounds++ < 32) {
    auto a = client.value()->TakeOutgoing();
    auto b = server.value()->TakeOutgoing();
    if (a.empty() && b.empty()) break;
    for (auto& d : a) {
      CHECK(d.size() <= 300);
      CHECK(server.value()->HandleDatagram(d.data(), d.size()).ok());
    }
    for (auto& d : b) {
      CHECK(d.size() <= 300);
      CHECK(client.value()->HandleDatagram(d.data(), d.size()).ok());
    }
  }
  CHECK(client.value()->state() == DtlsState::kConnected);
  CHECK(server.value()->state() == DtlsState::kConnected);
}

TEST_CASE("a lost first flight is retransmitted on timeout, starting well under a second") {
  auto p = MakePair({SrtpProfile::kAesCm128HmacSha1_80}, {SrtpProfile::kAesCm128HmacSha1_80});
  REQUIRE(p.client->Start().ok());
  auto lost = p.client->TakeOutgoing();
  REQUIRE_FALSE(lost.empty());
  auto wait = p.client->TimeUntilRetransmit();
  REQUIRE(wait.has_value());
  CHECK(wait->count() <= 100'000);
  // Let the timer expire: OpenSSL compares against the wall clock. Bounded: 100 x 5 ms.
  for (int i = 0;
       i < 100 &&
       p.client->TimeUntilRetransmit().value_or(std::chrono::microseconds(0)).count() > 0;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(p.client->HandleTimeout().ok());
  auto resent = p.client->TakeOutgoing();
  REQUIRE(resent.size() == lost.size());
  for (auto& d : resent) CHECK(p.server->HandleDatagram(d.data(), d.size()).ok());
  Pump(p);
  CHECK(p.client->state() == DtlsState::kConnected);
  CHECK(p.server->state() == DtlsState::kConnected);
}

TEST_CASE("application data flows both ways after the handshake") {
  auto p = MakePair({SrtpProfile::kAesCm128HmacSha1_80}, {SrtpProfile::kAesCm128HmacSha1_80});
  const uint8_t early[] = {1, 2, 3};
  CHECK(p.client->Send(early, sizeof early).code() == "ERR_INVALID_STATE");
  REQUIRE(p.client->Start().ok());
  Pump(p);
  const std::vector<uint8_t> msg = {'h', 'e', 'l', 'l', 'o'};
  // Nobody consumes application data yet: it is dropped and counted, never kept.
  REQUIRE(p.client->Send(msg.data(), msg.size()).ok());
  Pump(p);
  CHECK(p.server->droppedApplicationRecords() == 1);
  std::vector<std::vector<uint8_t>> got;
  p.server->SetApplicationDataHandler(
      [&got](kvs::ByteSpan d) { got.emplace_back(d.data, d.data + d.size); });
  REQUIRE(p.client->Send(msg.data(), msg.size()).ok());
  Pump(p);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == msg);
  CHECK(p.server->droppedApplicationRecords() == 1);
  p.server->Close();
  Pump(p);
  CHECK(p.client->state() == DtlsState::kClosed);
}

TEST_CASE("garbage datagrams fail the handshake without crashing") {
  auto p = MakePair({SrtpProfile::kAesCm128HmacSha1_80}, {SrtpProfile::kAesCm128HmacSha1_80});
  std::vector<uint8_t> junk(200, 0x16);  // looks like a handshake record, is not
  // DTLS discards records it cannot parse (RFC 6347 §4.1.2.7): no error, no progress.
  CHECK(p.server->HandleDatagram(junk.data(), junk.size()).ok());
  CHECK(p.server->state() != DtlsState::kConnected);
  CHECK(p.server->HandleDatagram(nullptr, 0).code() == "ERR_DTLS_DATAGRAM");
}

TEST_CASE("bad configuration is refused with the field named") {
  auto cert = kvs::testing::NewCert();
  auto noCert = DtlsSession::Create(
      {DtlsRole::kClient, nullptr, {SrtpProfile::kAeadAes128Gcm}, cert->fingerprint()});
  CHECK(noCert.status().message().find("certificate") != std::string::npos);
  auto noFp = DtlsSession::Create({DtlsRole::kClient, cert, {SrtpProfile::kAeadAes128Gcm}, ""});
  CHECK(noFp.status().message().find("remoteFingerprint") != std::string::npos);
  auto noProfiles = DtlsSession::Create({DtlsRole::kClient, cert, {}, cert->fingerprint()});
  CHECK(noProfiles.status().code() == "ERR_INVALID_ARGUMENT");
  auto badMtu = DtlsSession::Create(
      {DtlsRole::kClient, cert, {SrtpProfile::kAeadAes128Gcm}, cert->fingerprint(), 10});
  CHECK(badMtu.status().message().find("mtu") != std::string::npos);
}
