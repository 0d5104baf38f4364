#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "loop/event_loop.h"
#include "loop_test_util.h"
#include "pc/peer_connection.h"
#include "pc/stats.h"
#include "srtp/srtp_session.h"

using kvs::Status;
using kvs::pc::ConnectionState;
using kvs::pc::PeerConnection;
using kvs::pc::SdpType;

namespace {

// Two peer connections on one loop, host candidates on 127.0.0.1 only, signaling by direct
// calls on the loop thread.
struct Pair {
  std::unique_ptr<kvs::loop::EventLoop> loop;
  std::unique_ptr<PeerConnection> offerer;
  std::unique_ptr<PeerConnection> answerer;
  std::promise<void> bothConnected;
  std::promise<ConnectionState> offererFinal;
  bool offererDone = false, answererDone = false;
  std::vector<ConnectionState> offererStates;

  template <typename F>
  void OnLoop(F fn) {
    std::promise<void> done;
    loop->Post([&] {
      fn();
      done.set_value();
    });
    REQUIRE(done.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  }
};

kvs::pc::PeerConnectionConfig LoopbackOnly() {
  kvs::pc::PeerConnectionConfig c;
  c.interfaces.only = {"127.0.0.1"};
  return c;
}

void Wire(Pair& p) {
  p.offerer->onIceCandidate = [&p](std::optional<std::string> c, const std::string&) {
    if (c) REQUIRE(p.answerer->AddIceCandidate(*c).ok());
  };
  p.answerer->onIceCandidate = [&p](std::optional<std::string> c, const std::string&) {
    if (c) REQUIRE(p.offerer->AddIceCandidate(*c).ok());
  };
  auto check = [&p] {
    if (p.offererDone && p.answererDone) p.bothConnected.set_value();
  };
  p.offerer->onConnectionStateChange = [&p, check](ConnectionState s) {
    p.offererStates.push_back(s);
    if (s == ConnectionState::kConnected && !p.offererDone) {
      p.offererDone = true;
      check();
    }
  };
  p.answerer->onConnectionStateChange = [&p, check](ConnectionState s) {
    if (s == ConnectionState::kConnected && !p.answererDone) {
      p.answererDone = true;
      check();
    }
  };
}

// Offer/answer with a tamper hook on the answer text.
void Negotiate(Pair& p, const std::function<std::string(std::string)>& tamperAnswer = nullptr) {
  p.OnLoop([&] {
    p.offerer->EnableDataChannels();
    REQUIRE(p.offerer
                ->AddTransceiver(
                    {kvs::sdp::MediaKind::kVideo, {}, kvs::sdp::Direction::kSendRecv, "v", "s"})
                .ok());
    auto offer = p.offerer->CreateOffer();
    REQUIRE_MESSAGE(offer.ok(), offer.status().message());
    REQUIRE(p.offerer->SetLocalDescription(SdpType::kOffer, offer.value()).ok());
    auto st = p.answerer->SetRemoteDescription(SdpType::kOffer, offer.value());
    REQUIRE_MESSAGE(st.ok(), st.message());
    auto answer = p.answerer->CreateAnswer();
    REQUIRE_MESSAGE(answer.ok(), answer.status().message());
    REQUIRE(p.answerer->SetLocalDescription(SdpType::kAnswer, answer.value()).ok());
    const std::string sent = tamperAnswer ? tamperAnswer(answer.value()) : answer.value();
    st = p.offerer->SetRemoteDescription(SdpType::kAnswer, sent);
    REQUIRE_MESSAGE(st.ok(), st.message());
  });
}

std::unique_ptr<Pair> NewPair() {
  auto p = std::make_unique<Pair>();
  auto loop = kvs::loop::EventLoop::Start();
  REQUIRE(loop.ok());
  p->loop = loop.take();
  p->OnLoop([&] {
    auto a = PeerConnection::Create(*p->loop, LoopbackOnly());
    auto b = PeerConnection::Create(*p->loop, LoopbackOnly());
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    p->offerer = a.take();
    p->answerer = b.take();
  });
  Wire(*p);
  return p;
}

void Destroy(Pair& p) {
  p.OnLoop([&] {
    p.offerer.reset();
    p.answerer.reset();
  });
  p.loop.reset();
}

}  // namespace

TEST_CASE("two native peer connections connect over loopback with DTLS-SRTP") {
  auto p = NewPair();
  Negotiate(*p);
  REQUIRE(p->bothConnected.get_future().wait_for(std::chrono::seconds(20)) ==
          std::future_status::ready);
  p->OnLoop([&] {
    CHECK(p->offerer->connectionState() == ConnectionState::kConnected);
    const auto* dtls = p->offerer->dtls().session();
    REQUIRE(dtls != nullptr);
    CHECK(dtls->protocolVersion() == "DTLSv1.2");
    CHECK(dtls->selectedSrtpProfile() == kvs::srtp::SrtpProfile::kAeadAes128Gcm);
    // The offerer (actpass) is the DTLS server when the answerer takes setup:active.
    CHECK(dtls->role() == kvs::dtls::DtlsRole::kServer);
    CHECK(p->answerer->dtls().session()->role() == kvs::dtls::DtlsRole::kClient);
    CHECK(dtls->peerFingerprint() == p->answerer->localFingerprint());
    const auto* pair = p->offerer->ice().agent().selectedPair();
    REQUIRE(pair != nullptr);
    CHECK(p->offerer->ice()
              .agent()
              .localCandidates()[static_cast<size_t>(pair->localIndex)]
              .address.IpString() == "127.0.0.1");
    CHECK(p->offerer->transceivers()[0]->negotiatedCodecs.size() >= 1);
  });
  CHECK(p->offererStates.front() == ConnectionState::kConnecting);
  CHECK(p->offererStates.back() == ConnectionState::kConnected);
  Destroy(*p);
}

TEST_CASE("a fingerprint that does not match the certificate ends in failed") {
  auto p = NewPair();
  std::promise<ConnectionState> failed;
  bool reported = false;
  p->OnLoop([&] {
    p->offerer->onConnectionStateChange = [&](ConnectionState s) {
      if (s == ConnectionState::kFailed && !reported) {
        reported = true;
        failed.set_value(s);
      }
    };
  });
  Negotiate(*p, [](std::string answer) {
    // Flip one hex digit of the fingerprint the offerer will check the answerer against.
    const auto at = answer.find("a=fingerprint:sha-256 ");
    REQUIRE(at != std::string::npos);
    char& c = answer[at + 22];
    c = c == 'A' ? 'B' : 'A';
    return answer;
  });
  REQUIRE(failed.get_future().wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  p->OnLoop([&] {
    CHECK(p->offerer->connectionState() == ConnectionState::kFailed);
    CHECK(p->offerer->dtls().failure().code() == "ERR_DTLS_FINGERPRINT_MISMATCH");
  });
  Destroy(*p);
}

TEST_CASE("out-of-order calls fail with the state named") {
  auto p = NewPair();
  p->OnLoop([&] {
    auto answer = p->offerer->CreateAnswer();
    REQUIRE_FALSE(answer.ok());
    CHECK(answer.status().message().find("stable") != std::string::npos);
    auto offer = p->offerer->CreateOffer();
    CHECK(offer.status().message().find("nothing to negotiate") != std::string::npos);
    CHECK(p->offerer->AddIceCandidate("candidate:1 1 udp 1 127.0.0.1 9 typ host").code() ==
          "ERR_INVALID_STATE");
  });
  Destroy(*p);
}

namespace {

// A minimal RTP packet: version 2, PT 96, the given sequence number and SSRC, a payload.
std::vector<uint8_t> RtpPacket(uint16_t seq, uint32_t ssrc, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> p;
  kvs::ByteWriter w(p);
  w.u8(0x80);
  w.u8(96);
  w.u16(seq);
  w.u32(1);  // timestamp
  w.u32(ssrc);
  w.bytes(kvs::ByteSpan(payload));
  return p;
}

}  // namespace

TEST_CASE("one peer's SRTP protects an RTP packet on the wire, the other's unprotects it") {
  auto p = NewPair();
  Negotiate(*p);
  REQUIRE(p->bothConnected.get_future().wait_for(std::chrono::seconds(20)) ==
          std::future_status::ready);
  std::promise<std::vector<uint8_t>> arrived;
  bool got = false;
  const std::vector<uint8_t> payload = {'f', 'r', 'a', 'm', 'e'};
  const std::vector<uint8_t> plain = RtpPacket(7, 0x11223344, payload);
  p->OnLoop([&] {
    p->answerer->srtp().onRtp = [&](std::vector<uint8_t>&& packet) {
      if (!got) {
        got = true;
        arrived.set_value(std::move(packet));
      }
    };
    REQUIRE(p->offerer->srtp().ready());
    std::vector<uint8_t> buf = plain;
    buf.resize(plain.size() + kvs::srtp::SrtpSession::kMaxRtcpTrailer);
    Status st = p->offerer->srtp().SendRtp(buf.data(), plain.size(), buf.size());
    REQUIRE_MESSAGE(st.ok(), st.message());
    // What went on the wire was encrypted: the payload is not there in the clear.
    CHECK(std::search(buf.begin(), buf.end(), payload.begin(), payload.end()) == buf.end());
  });
  auto f = arrived.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(f.get() == plain);
  p->OnLoop([&] {
    CHECK(p->offerer->srtp().counters().rtpSent == 1);
    CHECK(p->answerer->srtp().counters().rtpReceived == 1);
    CHECK(p->answerer->srtp().counters().rtpDecryptFailures == 0);
  });
  Destroy(*p);
}

TEST_CASE("a DTLS transport that cannot be configured fails the connection with its reason") {
  auto p = std::make_unique<Pair>();
  p->loop = kvs::testing::NewLoop();
  p->OnLoop([&] {
    auto bad = LoopbackOnly();
    bad.srtpProfiles.clear();  // DtlsSession::Create refuses this
    auto a = PeerConnection::Create(*p->loop, LoopbackOnly());
    auto b = PeerConnection::Create(*p->loop, bad);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    p->offerer = a.take();
    p->answerer = b.take();
  });
  Wire(*p);
  std::vector<Status> errors;
  std::vector<ConnectionState> states;
  p->OnLoop([&] {
    p->answerer->onError = [&](const Status& s) { errors.push_back(s); };
    p->answerer->onConnectionStateChange = [&](ConnectionState s) { states.push_back(s); };
  });
  // The answerer configures DTLS when it sets its answer: that is where it fails.
  Negotiate(*p);
  p->OnLoop([&] {
    CHECK(p->answerer->connectionState() == ConnectionState::kFailed);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].code() == "ERR_INVALID_ARGUMENT");
    CHECK(errors[0].message().find("SRTP profile") != std::string::npos);
    CHECK(p->answerer->failure().code() == errors[0].code());
    REQUIRE_FALSE(states.empty());
    CHECK(states.back() == ConnectionState::kFailed);
  });
  Destroy(*p);
}

namespace {

// The value of a numeric field of the one stats object of this type.
double StatNumber(const std::vector<kvs::pc::StatsObject>& report, const std::string& type,
                  const std::string& field) {
  double value = -1;
  int found = 0;
  for (const auto& o : report) {
    if (o.type != type) continue;
    for (const auto& [name, v] : o.fields) {
      if (name == field && std::holds_alternative<double>(v)) {
        value = std::get<double>(v);
        ++found;
      }
    }
  }
  REQUIRE_MESSAGE(found == 1, type << "." << field);
  return value;
}

}  // namespace

TEST_CASE("RTP that no stream can take is counted on the transport stats") {
  auto p = NewPair();
  Negotiate(*p);
  REQUIRE(p->bothConnected.get_future().wait_for(std::chrono::seconds(20)) ==
          std::future_status::ready);
  auto unroutable = [&] {
    double n = -1;
    p->OnLoop([&] {
      n = StatNumber(kvs::pc::CollectStats(*p->answerer, 0, 0), "transport",
                     "rtpPacketsUnroutable");
    });
    return n;
  };
  CHECK(unroutable() == 0);
  p->OnLoop([&] {
    const auto stats = kvs::pc::CollectStats(*p->answerer, 0, 0);
    CHECK(StatNumber(stats, "transport", "srtpDroppedBeforeKeys") >= 0);
    CHECK(StatNumber(stats, "transport", "rtpPacketsReplayed") == 0);
    CHECK(StatNumber(stats, "transport", "rtpPacketsMalformed") == 0);
    // Payload type 20 is in no m-line and the SSRC in no a=ssrc: no transceiver takes it.
    std::vector<uint8_t> buf = {0x80, 20, 0, 7, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44, 'x'};
    const size_t size = buf.size();
    buf.resize(size + kvs::srtp::SrtpSession::kMaxRtcpTrailer);
    Status st = p->offerer->srtp().SendRtp(buf.data(), size, buf.size());
    REQUIRE_MESSAGE(st.ok(), st.message());
  });
  // Loopback delivers it within a few loop turns: polled, bounded (10 s in all).
  double n = 0;
  for (int i = 0; i < 200 && n == 0; ++i) {
    n = unroutable();
    if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(n == 1);
  Destroy(*p);
}
