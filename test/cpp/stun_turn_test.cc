// Builders for ICE and TURN, ChannelData, and de-framing STUN/ChannelData from a byte stream.
#include <doctest/doctest.h>

#include <set>

#include "stun/channel_data.h"
#include "stun/stream_framer.h"
#include "stun/stun_builders.h"
#include "stun/stun_codec.h"
#include "stun/stun_integrity.h"
#include "stun_test_util.h"

using namespace kvs;
using namespace kvs::stun;
using kvs::stun::testing::Bytes;
using kvs::stun::testing::Hex;
using kvs::stun::testing::Ok;
using kvs::stun::testing::Tid;

using kvs::stun::testing::Addr;

namespace {

const TransactionId kTid = Tid("a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab");

std::vector<uint16_t> Types(const Message& m) {
  std::vector<uint16_t> out;
  for (const auto& a : m.attributes) out.push_back(a.type);
  return out;
}

}  // namespace

TEST_CASE("NewTransactionId draws distinct ids") {
  std::set<TransactionId> seen;
  for (int i = 0; i < 64; ++i) seen.insert(Ok(NewTransactionId()));
  CHECK(seen.size() == 64);
}

TEST_CASE("ICE Binding request: attributes, integrity with the remote password, answer") {
  IceCheck check;
  check.username = "rUfrag:lUfrag";
  check.priority = 1853824767;
  check.controlling = true;
  check.tieBreaker = 0x1122334455667788ull;
  check.useCandidate = true;
  const Message req = IceBindingRequest(kTid, check);
  CHECK(req.Is(Method::kBinding, Class::kRequest));
  CHECK(Types(req) == std::vector<uint16_t>{attr::kUsername, attr::kPriority, attr::kIceControlling,
                                            attr::kUseCandidate});
  const Key remotePwd = ShortTermKey("asd88fgpdd777uzjYhagZg");
  const auto wire = Ok(SerializeWithIntegrity(req, remotePwd));
  CHECK(CheckMessageIntegrity(wire, remotePwd).ok());
  CHECK(CheckFingerprint(wire).ok());

  const Message got = Ok(Parse(wire));
  const IceCheckAttributes ice = ReadIceCheck(got);
  CHECK(ice.username == "rUfrag:lUfrag");
  CHECK(ice.priority == 1853824767u);
  CHECK(ice.controlling == 0x1122334455667788ull);
  CHECK_FALSE(ice.controlled);
  CHECK(ice.useCandidate);

  check.controlling = false;
  check.useCandidate = false;
  const IceCheckAttributes controlled =
      ReadIceCheck(Ok(Parse(Ok(Serialize(IceBindingRequest(kTid, check))))));
  CHECK(controlled.controlled == 0x1122334455667788ull);
  CHECK_FALSE(controlled.controlling);
  CHECK_FALSE(controlled.useCandidate);

  const auto source = Addr("2001:db8::99", 50000);
  const auto okWire = Ok(SerializeWithIntegrity(BindingSuccess(got.transactionId, source),
                                                ShortTermKey("local-password-22chars")));
  const Message ok = Ok(Parse(okWire));
  CHECK(ok.Is(Method::kBinding, Class::kSuccessResponse));
  CHECK(ok.transactionId == kTid);
  CHECK(ok.GetXorAddress(attr::kXorMappedAddress) == source);

  const Message conflict = ErrorResponse(Method::kBinding, kTid, error::kRoleConflict);
  const auto ec = Ok(Parse(Ok(Serialize(conflict)))).GetErrorCode();
  REQUIRE(ec);
  CHECK(ec->code == 487);
  CHECK(ec->reason == "Role Conflict");
  CHECK(ErrorResponse(Method::kBinding, kTid, 400, "nope").GetErrorCode()->reason == "nope");

  // A plain Binding request for server-reflexive discovery has no attributes.
  CHECK(Ok(Serialize(BindingRequest(kTid))).size() == kHeaderSize);
}

TEST_CASE("AuthenticateIceRequest: fingerprint, then presence, then username and HMAC") {
  const Key localPwd = ShortTermKey("local-password-0123456");
  IceCheck check;
  check.username = "LOCL:REMO";
  check.priority = 7;
  check.tieBreaker = 1;
  const Message req = IceBindingRequest(kTid, check);
  auto verdict = [&](const std::vector<uint8_t>& wire, std::string_view ufrag = "LOCL") {
    const auto parsed = Parse(wire);
    REQUIRE(parsed.ok());
    return AuthenticateIceRequest(wire, parsed.value(), ufrag, localPwd);
  };
  const auto good = Ok(SerializeWithIntegrity(req, localPwd));
  CHECK(verdict(good).ok());
  CHECK(ErrorResponseCodeFor(verdict(good)) == 0);

  const auto noFp = Ok(SerializeWithIntegrity(req, localPwd, false));
  CHECK(verdict(noFp).code() == "ERR_STUN_NO_FINGERPRINT");
  CHECK(ErrorResponseCodeFor(verdict(noFp)) == 0);

  EncodeOptions fpOnly;
  fpOnly.fingerprint = true;
  const auto noMi = Ok(Serialize(req, fpOnly));
  CHECK(verdict(noMi).code() == "ERR_STUN_BAD_REQUEST");
  CHECK(ErrorResponseCodeFor(verdict(noMi)) == 400);

  Message anonymous(Method::kBinding, Class::kRequest, kTid);
  anonymous.AddU32(attr::kPriority, 7);
  CHECK(verdict(Ok(SerializeWithIntegrity(anonymous, localPwd))).code() == "ERR_STUN_BAD_REQUEST");

  CHECK(verdict(good, "LOC").code() == "ERR_STUN_UNAUTHORIZED");  // prefix, not the ufrag
  CHECK(verdict(good, "REMO").code() == "ERR_STUN_UNAUTHORIZED");
  CHECK(verdict(good, "LOCL:REMO").code() == "ERR_STUN_UNAUTHORIZED");
  const auto wrongPwd = Ok(SerializeWithIntegrity(req, ShortTermKey("another-password-12345")));
  CHECK(verdict(wrongPwd).code() == "ERR_STUN_UNAUTHORIZED");
  CHECK(ErrorResponseCodeFor(verdict(wrongPwd)) == 401);
}

TEST_CASE("a request with unknown comprehension-required attributes gets a 420 naming them") {
  Message req(Method::kAllocate, Class::kRequest, kTid);
  req.AddBytes(0x0031, Hex("00 00 00 01")).AddRequestedTransport(kTransportUdp).AddFlag(0x0044);
  const Message parsed = Ok(Parse(Ok(Serialize(req))));
  REQUIRE(parsed.unknownRequired == std::vector<uint16_t>{0x0031, 0x0044});
  const Message answer = Ok(Parse(Ok(Serialize(UnknownAttributeResponse(parsed)))));
  CHECK(answer.Is(Method::kAllocate, Class::kErrorResponse));
  CHECK(answer.GetErrorCode()->code == 420);
  CHECK(answer.GetUnknownAttributes() == std::vector<uint16_t>{0x0031, 0x0044});
}

TEST_CASE("TURN Allocate: first unauthenticated, then with long-term credentials") {
  AllocateParams p;
  p.lifetime = 600;
  p.dontFragment = true;
  const Message first = AllocateRequest(kTid, p);
  CHECK(first.Is(Method::kAllocate, Class::kRequest));
  CHECK(Types(first) ==
        std::vector<uint16_t>{attr::kRequestedTransport, attr::kLifetime, attr::kDontFragment});
  CHECK(first.GetRequestedTransport() == kTransportUdp);

  // The server's 401 challenge.
  Message challenge = ErrorResponse(Method::kAllocate, kTid, error::kUnauthorized);
  challenge.AddText(attr::kRealm, "kvs.example").AddText(attr::kNonce, "n0nce");
  const Challenge c = Ok(ReadChallenge(Ok(Parse(Ok(Serialize(challenge))))));
  CHECK(c.code == 401);
  CHECK(c.realm == "kvs.example");
  CHECK(c.nonce == "n0nce");

  p.credentials = TurnCredentials{"1700000000:user", c.realm, c.nonce};
  p.family = net::Family::kIpv6;
  p.evenPort = false;
  const Message second = AllocateRequest(Tid("00 00 00 00 00 00 00 00 00 00 00 01"), p);
  CHECK(Types(second) == std::vector<uint16_t>{attr::kRequestedTransport,
                                               attr::kRequestedAddressFamily, attr::kLifetime,
                                               attr::kDontFragment, attr::kEvenPort,
                                               attr::kUsername, attr::kRealm, attr::kNonce});
  const Key key = LongTermKey("1700000000:user", "kvs.example", "pw");
  const auto wire = Ok(SerializeWithIntegrity(second, key));
  CHECK(CheckMessageIntegrity(wire, key).ok());
  CHECK(Ok(Parse(wire)).GetRequestedAddressFamily() == net::Family::kIpv6);

  // The success response.
  Message success(Method::kAllocate, Class::kSuccessResponse, second.transactionId);
  success.AddXorAddress(attr::kXorRelayedAddress, Addr("203.0.113.5", 49152))
      .AddXorAddress(attr::kXorRelayedAddress, Addr("2001:db8::5", 49153))
      .AddU32(attr::kLifetime, 600)
      .AddXorAddress(attr::kXorMappedAddress, Addr("198.51.100.1", 40000))
      .AddBytes(attr::kReservationToken, Hex("0102030405060708"));
  const AllocateSuccess s = Ok(ReadAllocateSuccess(Ok(Parse(Ok(Serialize(success))))));
  CHECK(s.relayed ==
        std::vector<net::Address>{Addr("203.0.113.5", 49152), Addr("2001:db8::5", 49153)});
  CHECK(s.lifetime == 600);
  CHECK(s.mapped == Addr("198.51.100.1", 40000));
  CHECK(s.reservationToken == Hex("0102030405060708"));

  Message noRelay(Method::kAllocate, Class::kSuccessResponse, kTid);
  noRelay.AddU32(attr::kLifetime, 600);
  CHECK(ReadAllocateSuccess(noRelay).status().code() == "ERR_STUN_MISSING_ATTRIBUTE");
  Message noLifetime(Method::kAllocate, Class::kSuccessResponse, kTid);
  noLifetime.AddXorAddress(attr::kXorRelayedAddress, Addr("203.0.113.5", 1));
  CHECK(ReadAllocateSuccess(noLifetime).status().code() == "ERR_STUN_MISSING_ATTRIBUTE");
  CHECK(ReadAllocateSuccess(first).status().code() == "ERR_STUN_WRONG_MESSAGE");
}

TEST_CASE("TURN challenges: 438 refreshes the nonce; other errors are not challenges") {
  Message stale = ErrorResponse(Method::kRefresh, kTid, error::kStaleNonce);
  stale.AddText(attr::kNonce, "fresh");
  const Challenge c = Ok(ReadChallenge(stale));
  CHECK(c.code == 438);
  CHECK(c.nonce == "fresh");
  CHECK(c.realm.empty());
  Message noRealm = ErrorResponse(Method::kAllocate, kTid, error::kUnauthorized);
  noRealm.AddText(attr::kNonce, "x");
  CHECK(ReadChallenge(noRealm).status().code() == "ERR_STUN_MISSING_ATTRIBUTE");
  CHECK(ReadChallenge(ErrorResponse(Method::kAllocate, kTid, 401)).status().code() ==
        "ERR_STUN_MISSING_ATTRIBUTE");
  CHECK(ReadChallenge(ErrorResponse(Method::kAllocate, kTid, 486)).status().code() ==
        "ERR_STUN_WRONG_MESSAGE");
  CHECK(ReadChallenge(BindingRequest(kTid)).status().code() == "ERR_STUN_WRONG_MESSAGE");
}

TEST_CASE("TURN Refresh, CreatePermission, ChannelBind, Send and Data indications") {
  const TurnCredentials cred{"u", "r", "n"};
  const Message refresh = RefreshRequest(kTid, 0, cred);
  CHECK(refresh.Is(Method::kRefresh, Class::kRequest));
  CHECK(refresh.GetU32(attr::kLifetime) == 0u);
  CHECK(Types(refresh) ==
        std::vector<uint16_t>{attr::kLifetime, attr::kUsername, attr::kRealm, attr::kNonce});
  CHECK(Types(RefreshRequest(kTid, 300, std::nullopt)) == std::vector<uint16_t>{attr::kLifetime});

  const std::vector<net::Address> peers = {Addr("192.0.2.10", 1000), Addr("2001:db8::10", 2000)};
  const Message perm = Ok(Parse(Ok(Serialize(CreatePermissionRequest(kTid, peers, cred)))));
  CHECK(perm.Is(Method::kCreatePermission, Class::kRequest));
  CHECK(perm.GetAllXorAddresses(attr::kXorPeerAddress) == peers);
  CHECK(perm.GetText(attr::kNonce) == "n");

  const Message bind = Ok(Parse(Ok(Serialize(ChannelBindRequest(kTid, 0x4001, peers[0], cred)))));
  CHECK(bind.Is(Method::kChannelBind, Class::kRequest));
  CHECK(bind.GetChannelNumber() == 0x4001);
  CHECK(bind.GetXorAddress(attr::kXorPeerAddress) == peers[0]);

  const std::vector<uint8_t> payload = Bytes("dtls record");
  const Message send = Ok(Parse(Ok(Serialize(SendIndication(kTid, peers[1], payload, true)))));
  CHECK(send.Is(Method::kSend, Class::kIndication));
  CHECK(send.Has(attr::kDontFragment));
  CHECK(send.GetXorAddress(attr::kXorPeerAddress) == peers[1]);

  // The server turns it into a Data indication; the client reads peer and payload.
  Message data(Method::kData, Class::kIndication, kTid);
  data.AddXorAddress(attr::kXorPeerAddress, peers[1]).AddBytes(attr::kData, payload);
  const auto dataWire = Ok(Serialize(data));
  const Message parsed = Ok(Parse(dataWire));
  const DataIndication d = Ok(ReadDataIndication(parsed));
  CHECK(d.peer == peers[1]);
  CHECK(std::vector<uint8_t>(d.data.data, d.data.data + d.data.size) == payload);
  CHECK(ReadDataIndication(send).status().code() == "ERR_STUN_WRONG_MESSAGE");
  Message noData(Method::kData, Class::kIndication, kTid);
  noData.AddXorAddress(attr::kXorPeerAddress, peers[0]);
  CHECK(ReadDataIndication(noData).status().code() == "ERR_STUN_MISSING_ATTRIBUTE");
  Message noPeer(Method::kData, Class::kIndication, kTid);
  noPeer.AddBytes(attr::kData, payload);
  CHECK(ReadDataIndication(noPeer).status().code() == "ERR_STUN_MISSING_ATTRIBUTE");
}

TEST_CASE("ChannelData: wire format, padding, bounds") {
  const std::vector<uint8_t> five = Hex("01 02 03 04 05");
  CHECK(Ok(SerializeChannelData(0x4000, five, false)) == Hex("40 00 00 05 01 02 03 04 05"));
  CHECK(Ok(SerializeChannelData(0x4FFF, five, true)) == Hex("4f ff 00 05 01 02 03 04 05 00 00 00"));
  CHECK(Ok(SerializeChannelData(0x4001, {}, true)) == Hex("40 01 00 00"));
  CHECK(SerializeChannelData(0x3FFF, five, false).status().code() == "ERR_TURN_CHANNEL_NUMBER");
  CHECK(SerializeChannelData(0x5000, five, false).status().code() == "ERR_TURN_CHANNEL_NUMBER");
  CHECK(SerializeChannelData(0x4000, std::vector<uint8_t>(0x10000, 0), false).status().code() ==
        "ERR_TURN_CHANNEL_DATA_LENGTH");

  for (bool pad : {false, true}) {
    const auto wire = Ok(SerializeChannelData(0x4ABC, five, pad));
    CHECK(IsChannelData(wire));
    CHECK_FALSE(IsStunMessage(wire));
    const ChannelData cd = Ok(ParseChannelData(wire));
    CHECK(cd.channel == 0x4ABC);
    CHECK(std::vector<uint8_t>(cd.data.data, cd.data.data + cd.data.size) == five);
  }
  CHECK(ParseChannelData(Hex("40 00 00")).status().code() == "ERR_TURN_CHANNEL_DATA_TRUNCATED");
  CHECK(ParseChannelData(Hex("40 00 00 05 01 02 03 04")).status().code() ==
        "ERR_TURN_CHANNEL_DATA_TRUNCATED");
  CHECK(ParseChannelData(Hex("50 00 00 01 01")).status().code() == "ERR_TURN_CHANNEL_NUMBER");
  CHECK(ParseChannelData(Hex("3f ff 00 01 01")).status().code() == "ERR_TURN_CHANNEL_NUMBER");
  CHECK(ParseChannelData(Hex("40 00 00 05 01 02 03 04 05 00")).status().code() ==
        "ERR_TURN_CHANNEL_DATA_LENGTH");  // two bytes of padding where three are due
  CHECK(ParseChannelData(Hex("40 00 00 04 01 02 03 04 00 00 00 00")).status().code() ==
        "ERR_TURN_CHANNEL_DATA_LENGTH");
  CHECK_FALSE(IsChannelData(Hex("50")));
  CHECK_FALSE(IsChannelData(Hex("3f")));
  CHECK_FALSE(IsChannelData({}));
}

namespace {

struct Frame {
  FrameKind kind;
  std::vector<uint8_t> bytes;
  bool operator==(const Frame& o) const { return kind == o.kind && bytes == o.bytes; }
};

std::vector<uint8_t> StunFrame(uint32_t lifetime) {
  return Ok(SerializeWithIntegrity(RefreshRequest(kTid, lifetime, std::nullopt), Bytes("k")));
}

// Feeds the stream cut at the given positions and collects the frames.
Status Feed(StreamDeframer& d, const std::vector<uint8_t>& stream, std::vector<size_t> cuts,
            std::vector<Frame>& out) {
  cuts.push_back(stream.size());
  size_t from = 0;
  for (size_t cut : cuts) {
    Status s = d.Push(ByteSpan(stream).sub(from, cut - from), [&](FrameKind k, ByteSpan f) {
      out.push_back({k, std::vector<uint8_t>(f.data, f.data + f.size)});
    });
    if (!s.ok()) return s;
    from = cut;
  }
  return Status::Ok();
}

}  // namespace

TEST_CASE("TURN stream de-framer yields whole messages however the stream is cut") {
  const auto stun1 = StunFrame(600);
  const auto cd1 = Ok(SerializeChannelData(0x4000, Hex("aa bb cc"), true));
  const auto cd2 = Ok(SerializeChannelData(0x4FFF, {}, true));
  const auto stun2 = Ok(Serialize(BindingRequest(kTid)));
  const auto cd3 = Ok(SerializeChannelData(0x4123, std::vector<uint8_t>(301, 7), true));
  std::vector<uint8_t> stream;
  for (const auto* f : {&stun1, &cd1, &cd2, &stun2, &cd3})
    stream.insert(stream.end(), f->begin(), f->end());
  const std::vector<Frame> expected = {{FrameKind::kStun, stun1},
                                       {FrameKind::kChannelData, cd1},
                                       {FrameKind::kChannelData, cd2},
                                       {FrameKind::kStun, stun2},
                                       {FrameKind::kChannelData, cd3}};

  // Whole, byte by byte, and split once at every position.
  {
    StreamDeframer d(StreamFraming::kTurn);
    std::vector<Frame> got;
    REQUIRE(Feed(d, stream, {}, got).ok());
    CHECK(got == expected);
    CHECK(d.buffered() == 0);
  }
  {
    StreamDeframer d(StreamFraming::kTurn);
    std::vector<Frame> got;
    std::vector<size_t> cuts;
    for (size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
    REQUIRE(Feed(d, stream, cuts, got).ok());
    CHECK(got == expected);
  }
  for (size_t i = 1; i < stream.size(); ++i) {
    for (size_t j : {i, std::min(stream.size(), i + 5), std::min(stream.size(), i + 97)}) {
      StreamDeframer d(StreamFraming::kTurn);
      std::vector<Frame> got;
      REQUIRE(Feed(d, stream, {i, j}, got).ok());
      if (!(got == expected)) FAIL("cuts at " << i << " and " << j);
      CHECK(d.buffered() == 0);
    }
  }
  // The frames parse.
  CHECK(CheckMessageIntegrity(expected[0].bytes, Bytes("k")).ok());
  CHECK(Ok(ParseChannelData(expected[4].bytes)).data.size == 301);
}

TEST_CASE("a frame is delivered as soon as its last byte arrives, even an empty one") {
  for (auto framing : {StreamFraming::kTurn, StreamFraming::kRfc4571}) {
    const auto frame = framing == StreamFraming::kTurn ? Ok(SerializeChannelData(0x4000, {}, true))
                                                       : Ok(FrameRfc4571({}));
    for (size_t cut = 1; cut < frame.size(); ++cut) {
      StreamDeframer d(framing);
      size_t frames = 0;
      auto count = [&](FrameKind, ByteSpan) { ++frames; };
      REQUIRE(d.Push(ByteSpan(frame).sub(0, cut), count).ok());
      CHECK(frames == 0);
      REQUIRE(d.Push(ByteSpan(frame).sub(cut, frame.size() - cut), count).ok());
      CHECK(frames == 1);
      CHECK(d.buffered() == 0);
    }
  }
}

TEST_CASE("TURN stream de-framer fails on a desynchronised or oversized stream, and stays failed") {
  auto sink = [](FrameKind, ByteSpan) {};
  {
    StreamDeframer d(StreamFraming::kTurn);
    CHECK(d.Push(Hex("80 00 00 00"), sink).code() == "ERR_STUN_STREAM_DESYNC");  // RTP-like
    CHECK(d.Push(Ok(Serialize(BindingRequest(kTid))), sink).code() == "ERR_STUN_STREAM_DESYNC");
    CHECK(d.failure().code() == "ERR_STUN_STREAM_DESYNC");
  }
  {
    StreamDeframer d(StreamFraming::kTurn);
    CHECK(d.Push(Hex("00 01 00 00 21 12 a4"), sink).ok());  // cookie not complete yet
    CHECK(d.Push(Hex("43"), sink).code() == "ERR_STUN_STREAM_DESYNC");
  }
  {
    StreamDeframer d(StreamFraming::kTurn);
    CHECK(d.Push(Hex("00 01 00 05 21 12 a4 42"), sink).code() == "ERR_STUN_STREAM_DESYNC");
  }
  {
    StreamDeframer d(StreamFraming::kTurn, 64);
    CHECK(d.Push(Hex("40 00 00 3d"), sink).code() == "ERR_STUN_FRAME_TOO_LARGE");  // 4 + 64
    StreamDeframer ok(StreamFraming::kTurn, 64);
    CHECK(ok.Push(Hex("40 00 00 3c"), sink).ok());
    CHECK(ok.buffered() == 4);
  }
  {
    // The buffer never holds more than one partial frame.
    StreamDeframer d(StreamFraming::kTurn);
    std::vector<uint8_t> big =
        Ok(SerializeChannelData(0x4000, std::vector<uint8_t>(0xFFFF, 1), true));
    size_t frames = 0;
    auto count = [&](FrameKind, ByteSpan) { ++frames; };
    for (int round = 0; round < 3; ++round) {
      for (size_t at = 0; at < big.size(); at += 1000) {
        REQUIRE(d.Push(ByteSpan(big).sub(at, std::min<size_t>(1000, big.size() - at)), count).ok());
        CHECK(d.buffered() < big.size());
      }
    }
    CHECK(frames == 3);
    CHECK(d.buffered() == 0);
  }
}

TEST_CASE("RFC 4571 framing for ICE-TCP, split at every byte") {
  const std::vector<std::vector<uint8_t>> packets = {
      StunFrame(1), Hex("16 fe fd 00 01"), {}, std::vector<uint8_t>(700, 0x80)};
  std::vector<uint8_t> stream;
  std::vector<Frame> expected;
  for (const auto& p : packets) {
    const auto framed = Ok(FrameRfc4571(p));
    CHECK(framed.size() == p.size() + 2);
    stream.insert(stream.end(), framed.begin(), framed.end());
    expected.push_back({FrameKind::kPacket, p});
  }
  for (size_t i = 0; i <= stream.size(); ++i) {
    StreamDeframer d(StreamFraming::kRfc4571);
    std::vector<Frame> got;
    REQUIRE(Feed(d, stream, {i}, got).ok());
    if (!(got == expected)) FAIL("cut at " << i);
  }
  CHECK(FrameRfc4571(std::vector<uint8_t>(0x10000, 0)).status().code() ==
        "ERR_STUN_FRAME_TOO_LARGE");
  StreamDeframer small(StreamFraming::kRfc4571, 100);
  CHECK(small.Push(Hex("00 63"), [](FrameKind, ByteSpan) {}).code() == "ERR_STUN_FRAME_TOO_LARGE");
}
