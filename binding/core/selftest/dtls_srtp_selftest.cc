#include "selftest/dtls_srtp_selftest.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "dtls/certificate.h"
#include "sctp/usrsctp_runtime.h"
#include "srtp/srtp_session.h"

namespace kvs::selftest {
namespace {

using dtls::DtlsState;

Status Leg(const char* leg, const Status& st) {
  if (st.ok()) return st;
  return Status::Fail(st.code(), std::string(leg) + ": " + st.message());
}

std::vector<uint8_t> MakeRtp(uint16_t seq, uint32_t ssrc, uint8_t fill) {
  std::vector<uint8_t> p(12 + 160, fill);
  p[0] = 0x80;  // V=2
  p[1] = 111;   // Opus's payload type in the C SDK
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  const uint32_t ts = 960u * seq;
  for (int i = 0; i < 4; ++i) {
    p[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
    p[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  }
  return p;
}

std::vector<uint8_t> MakeReceiverReport(uint32_t ssrc) {
  std::vector<uint8_t> p(8, 0);
  p[0] = 0x80;  // V=2, no report blocks
  p[1] = 201;   // RR
  p[3] = 1;     // length in 32-bit words minus one
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  return p;
}

// Protects on one side, unprotects on the other, and checks the round trip.
Status RoundTripRtp(srtp::SrtpSession& out, srtp::SrtpSession& in,
                    const std::vector<uint8_t>& plain, size_t* protectedSize) {
  std::vector<uint8_t> wire = plain;
  Status st = out.ProtectRtp(wire);
  if (!st.ok()) return st;
  if (wire.size() <= plain.size() ||
      std::equal(plain.begin() + 12, plain.end(), wire.begin() + 12)) {
    return Status::Fail("ERR_SELF_TEST", "SRTP output is not encrypted and authenticated");
  }
  *protectedSize = wire.size();
  st = in.UnprotectRtp(wire);
  if (!st.ok()) return st;
  if (wire != plain) return Status::Fail("ERR_SELF_TEST", "SRTP round trip changed the packet");
  return Status::Ok();
}

}  // namespace

Result<LinkCounts> PumpInMemory(dtls::DtlsSession& client, dtls::DtlsSession& server,
                                int maxRounds) {
  LinkCounts counts;
  for (int round = 0; round < maxRounds; ++round) {
    auto toServer = client.TakeOutgoing();
    auto toClient = server.TakeOutgoing();
    if (toServer.empty() && toClient.empty()) return counts;
    ++counts.flights;
    for (auto& d : toServer) {
      ++counts.clientToServer;
      (void)server.HandleDatagram(d.data(), d.size());  // a failure shows in state() below
    }
    for (auto& d : toClient) {
      ++counts.serverToClient;
      (void)client.HandleDatagram(d.data(), d.size());  // a failure shows in state() below
    }
  }
  return Status::Fail("ERR_SELF_TEST",
                      "DTLS peers still exchanging after " + std::to_string(maxRounds) + " rounds");
}

Result<SelfTestReport> RunDtlsSrtpSelfTest(srtp::SrtpProfile profile) {
  SelfTestReport report;
  report.profile = std::string(srtp::InfoOf(profile).name);

  auto clientCert = dtls::Certificate::GenerateEcdsaP256();
  if (!clientCert.ok()) return Leg("client certificate", clientCert.status());
  auto serverCert = dtls::Certificate::GenerateEcdsaP256();
  if (!serverCert.ok()) return Leg("server certificate", serverCert.status());
  report.clientFingerprint = clientCert.value()->fingerprint();
  report.serverFingerprint = serverCert.value()->fingerprint();

  auto client = dtls::DtlsSession::Create(
      {dtls::DtlsRole::kClient, clientCert.value(), {profile}, report.serverFingerprint});
  if (!client.ok()) return Leg("client DTLS", client.status());
  auto server = dtls::DtlsSession::Create(
      {dtls::DtlsRole::kServer, serverCert.value(), {profile}, report.clientFingerprint});
  if (!server.ok()) return Leg("server DTLS", server.status());
  dtls::DtlsSession& c = *client.value();
  dtls::DtlsSession& s = *server.value();

  Status st = c.Start();
  if (!st.ok()) return Leg("client start", st);
  auto link = PumpInMemory(c, s);
  if (!link.ok()) return Leg("handshake", link.status());
  report.link = link.value();
  if (c.state() != DtlsState::kConnected) return Leg("client handshake", c.failure());
  if (s.state() != DtlsState::kConnected) return Leg("server handshake", s.failure());
  report.dtlsVersion = c.protocolVersion();
  report.cipher = c.cipher();
  if (report.dtlsVersion != "DTLSv1.2" || s.protocolVersion() != "DTLSv1.2") {
    return Status::Fail("ERR_SELF_TEST", "negotiated " + report.dtlsVersion + ", not DTLSv1.2");
  }
  if (c.selectedSrtpProfile() != profile || s.selectedSrtpProfile() != profile) {
    return Status::Fail("ERR_SELF_TEST", "peers disagree on the SRTP profile");
  }

  auto ck = c.ExportSrtpKeys();
  if (!ck.ok()) return Leg("client key export", ck.status());
  auto sk = s.ExportSrtpKeys();
  if (!sk.ok()) return Leg("server key export", sk.status());
  if (ck.value().localKeySalt != sk.value().remoteKeySalt ||
      ck.value().remoteKeySalt != sk.value().localKeySalt) {
    return Status::Fail("ERR_SELF_TEST", "exported SRTP keys differ between the peers");
  }

  using srtp::SrtpDirection;
  using srtp::SrtpSession;
  auto clientOut = SrtpSession::Create(profile, ck.value().localKeySalt, SrtpDirection::kOutbound);
  auto clientIn = SrtpSession::Create(profile, ck.value().remoteKeySalt, SrtpDirection::kInbound);
  auto serverOut = SrtpSession::Create(profile, sk.value().localKeySalt, SrtpDirection::kOutbound);
  auto serverIn = SrtpSession::Create(profile, sk.value().remoteKeySalt, SrtpDirection::kInbound);
  for (auto* r : {&clientOut, &clientIn, &serverOut, &serverIn}) {
    if (!r->ok()) return Leg("SRTP session", r->status());
  }

  const auto rtp = MakeRtp(1, 0x11223344, 0x5a);
  report.rtpBytes = rtp.size();
  st = RoundTripRtp(*clientOut.value(), *serverIn.value(), rtp, &report.protectedBytes);
  if (!st.ok()) return Leg("SRTP client to server", st);
  size_t ignored = 0;
  st = RoundTripRtp(*serverOut.value(), *clientIn.value(), MakeRtp(7, 0x55667788, 0xa5), &ignored);
  if (!st.ok()) return Leg("SRTP server to client", st);

  auto rtcp = MakeReceiverReport(0x11223344);
  report.rtcpBytes = rtcp.size();
  std::vector<uint8_t> wire = rtcp;
  st = clientOut.value()->ProtectRtcp(wire);
  if (!st.ok()) return Leg("SRTCP protect", st);
  report.protectedRtcpBytes = wire.size();
  st = serverIn.value()->UnprotectRtcp(wire);
  if (!st.ok()) return Leg("SRTCP unprotect", st);
  if (wire != rtcp) return Status::Fail("ERR_SELF_TEST", "SRTCP round trip changed the packet");

  // A flipped payload bit must fail authentication.
  wire = MakeRtp(2, 0x11223344, 0x5a);
  st = clientOut.value()->ProtectRtp(wire);
  if (!st.ok()) return Leg("SRTP protect", st);
  wire[20] ^= 0x01;
  report.tamperRejected = serverIn.value()->UnprotectRtp(wire).code() == "ERR_SRTP_AUTH_FAIL";
  if (!report.tamperRejected)
    return Status::Fail("ERR_SELF_TEST", "a tampered packet was accepted");

  // The same packet twice must fail the replay check.
  wire = MakeRtp(3, 0x11223344, 0x5a);
  st = clientOut.value()->ProtectRtp(wire);
  if (!st.ok()) return Leg("SRTP protect", st);
  std::vector<uint8_t> again = wire;
  st = serverIn.value()->UnprotectRtp(wire);
  if (!st.ok()) return Leg("SRTP unprotect", st);
  report.replayRejected = serverIn.value()->UnprotectRtp(again).code() == "ERR_SRTP_REPLAY";
  if (!report.replayRejected)
    return Status::Fail("ERR_SELF_TEST", "a replayed packet was accepted");

  st = sctp::ProbeUsrsctpSocket();
  if (!st.ok()) return Leg("usrsctp", st);
  report.sctpSocketCreated = true;
  return report;
}

}  // namespace kvs::selftest
