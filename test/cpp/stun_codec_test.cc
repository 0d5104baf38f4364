// STUN codec: message types, every attribute round trip, and malformed input rejected with
// specific codes.
#include <doctest/doctest.h>

#include "net/address.h"
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

const TransactionId kTid = Tid("01 02 03 04 05 06 07 08 09 0a 0b 0c");

// One attribute TLV, zero padded.
std::vector<uint8_t> Tlv(uint16_t type, const std::vector<uint8_t>& value) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u16(type);
  w.u16(static_cast<uint16_t>(value.size()));
  w.bytes(value);
  w.zeros((4 - value.size() % 4) % 4);
  return out;
}

// A Binding request around the given attribute bytes, with a correct length field.
std::vector<uint8_t> Raw(const std::vector<uint8_t>& body, uint16_t type = 0x0001) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u16(type);
  w.u16(static_cast<uint16_t>(body.size()));
  w.u32(kMagicCookie);
  w.bytes(ByteSpan(kTid.data(), kTid.size()));
  w.bytes(body);
  return out;
}

std::vector<uint8_t> Cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::string ParseCode(const std::vector<uint8_t>& bytes) {
  auto r = Parse(bytes);
  return r.ok() ? "ok" : r.status().code();
}

}  // namespace

TEST_CASE("message types interleave method and class as RFC 8489 and RFC 8656 list them") {
  CHECK(MessageType(Method::kBinding, Class::kRequest) == 0x0001);
  CHECK(MessageType(Method::kBinding, Class::kIndication) == 0x0011);
  CHECK(MessageType(Method::kBinding, Class::kSuccessResponse) == 0x0101);
  CHECK(MessageType(Method::kBinding, Class::kErrorResponse) == 0x0111);
  CHECK(MessageType(Method::kAllocate, Class::kRequest) == 0x0003);
  CHECK(MessageType(Method::kAllocate, Class::kSuccessResponse) == 0x0103);
  CHECK(MessageType(Method::kAllocate, Class::kErrorResponse) == 0x0113);
  CHECK(MessageType(Method::kRefresh, Class::kRequest) == 0x0004);
  CHECK(MessageType(Method::kSend, Class::kIndication) == 0x0016);
  CHECK(MessageType(Method::kData, Class::kIndication) == 0x0017);
  CHECK(MessageType(Method::kCreatePermission, Class::kRequest) == 0x0008);
  CHECK(MessageType(Method::kChannelBind, Class::kSuccessResponse) == 0x0109);
  // Every 12-bit method and class survives the interleaving.
  for (uint16_t m = 0; m < 0x1000; ++m) {
    for (uint8_t c = 0; c < 4; ++c) {
      const uint16_t t = MessageType(static_cast<Method>(m), static_cast<Class>(c));
      CHECK((t & 0xC000) == 0);
      if (MethodBitsOf(t) != m || ClassOf(t) != static_cast<Class>(c)) {
        FAIL("method " << m << " class " << int{c});
      }
    }
  }
}

TEST_CASE("net::Address parses, prints and orders literal addresses") {
  CHECK(Addr("192.0.2.1", 3478).ToString() == "192.0.2.1:3478");
  CHECK(Addr("2001:db8::1", 443).ToString() == "[2001:db8::1]:443");
  CHECK(Addr("::ffff:192.0.2.1", 1).isIpv6());
  CHECK(Addr("10.0.0.1", 5).ipSize() == 4);
  CHECK_FALSE(net::Address::Parse("", 1));
  CHECK_FALSE(net::Address::Parse("192.0.2", 1));
  CHECK_FALSE(net::Address::Parse("[::1]", 1));
  CHECK_FALSE(net::Address::Parse("example.org", 1));
  CHECK_FALSE(net::Address::Parse(std::string_view("1.2.3.4\0x", 9), 1));
  CHECK_FALSE(net::Address::Parse(std::string(100, '1'), 1));
  CHECK(Addr("10.0.0.1", 5) != Addr("10.0.0.1", 6));
  CHECK(Addr("10.0.0.1", 5) < Addr("10.0.0.2", 1));
  CHECK(Addr("255.255.255.255", 9) < Addr("::", 0));  // IPv4 sorts first
  CHECK(net::Address().ToString() == "0.0.0.0:0");
}

TEST_CASE("every attribute round-trips through Serialize and Parse") {
  const auto v4 = Addr("198.51.100.7", 61000);
  const auto v6 = Addr("2001:db8:85a3::8a2e:370:7334", 1);
  const std::vector<uint8_t> payload = Hex("de ad be ef 01");
  const std::vector<uint8_t> token = Hex("0102030405060708");

  Message m(Method::kAllocate, Class::kSuccessResponse, kTid);
  m.AddAddress(attr::kMappedAddress, v4)
      .AddXorAddress(attr::kXorMappedAddress, v6)
      .AddXorAddress(attr::kXorPeerAddress, v4)
      .AddXorAddress(attr::kXorRelayedAddress, v6)
      .AddAddress(attr::kAlternateServer, v6)
      .AddText(attr::kUsername, "alice:bob")
      .AddText(attr::kRealm, "example.org")
      .AddText(attr::kNonce, "abcdefg")
      .AddText(attr::kSoftware, "kvs-webrtc")
      .AddErrorCode(438, "Stale Nonce")
      .AddUnknownAttributes({0x0042, 0x7777, 0x0001})
      .AddU32(attr::kPriority, 0x7E7F00FF)
      .AddFlag(attr::kUseCandidate)
      .AddU64(attr::kIceControlled, 0x0102030405060708ull)
      .AddU64(attr::kIceControlling, 0xF0E0D0C0B0A09080ull)
      .AddChannelNumber(0x4ABC)
      .AddU32(attr::kLifetime, 600)
      .AddBytes(attr::kData, payload)
      .AddRequestedAddressFamily(net::Family::kIpv6)
      .AddEvenPort(true)
      .AddRequestedTransport(kTransportUdp)
      .AddFlag(attr::kDontFragment)
      .AddBytes(attr::kReservationToken, token)
      .AddBytes(0xC057, Hex("00 01 00 0a"));  // GOOG-NETWORK-INFO: optional, unknown to us

  const Key key = ShortTermKey("pass-word-0123456789ab");
  EncodeOptions o;
  o.messageIntegrity = true;
  o.messageIntegritySha256 = true;
  o.fingerprint = true;
  o.key = key;
  const auto wire = Ok(Serialize(m, o));
  CHECK(wire.size() % 4 == 0);
  CHECK(IsStunMessage(wire));
  CHECK(CheckMessageIntegrity(wire, key).ok());
  CHECK(CheckMessageIntegritySha256(wire, key).ok());
  CHECK(CheckFingerprint(wire).ok());

  const Message p = Ok(Parse(wire));
  CHECK(p.Is(Method::kAllocate, Class::kSuccessResponse));
  CHECK(p.transactionId == kTid);
  CHECK(p.hadMessageIntegrity);
  CHECK(p.hadMessageIntegritySha256);
  CHECK(p.hadFingerprint);
  CHECK(p.unknownRequired.empty());
  REQUIRE(p.attributes.size() == m.attributes.size());
  for (size_t i = 0; i < m.attributes.size(); ++i) {
    CHECK(p.attributes[i].type == m.attributes[i].type);
    CHECK(p.attributes[i].value == m.attributes[i].value);
  }
  CHECK(p.GetAddress(attr::kMappedAddress) == v4);
  CHECK(p.GetXorAddress(attr::kXorMappedAddress) == v6);
  CHECK(p.GetXorAddress(attr::kXorPeerAddress) == v4);
  CHECK(p.GetXorAddress(attr::kXorRelayedAddress) == v6);
  CHECK(p.GetAddress(attr::kAlternateServer) == v6);
  CHECK(p.GetText(attr::kUsername) == "alice:bob");
  CHECK(p.GetText(attr::kRealm) == "example.org");
  CHECK(p.GetText(attr::kNonce) == "abcdefg");
  CHECK(p.GetText(attr::kSoftware) == "kvs-webrtc");
  const auto ec = p.GetErrorCode();
  REQUIRE(ec);
  CHECK(ec->code == 438);
  CHECK(ec->reason == "Stale Nonce");
  CHECK(p.GetUnknownAttributes() == std::vector<uint16_t>{0x0042, 0x7777, 0x0001});
  CHECK(p.GetU32(attr::kPriority) == 0x7E7F00FFu);
  CHECK(p.Has(attr::kUseCandidate));
  CHECK(p.GetU64(attr::kIceControlled) == 0x0102030405060708ull);
  CHECK(p.GetU64(attr::kIceControlling) == 0xF0E0D0C0B0A09080ull);
  CHECK(p.GetChannelNumber() == 0x4ABC);
  CHECK(p.GetU32(attr::kLifetime) == 600u);
  const auto data = p.GetBytes(attr::kData);
  REQUIRE(data);
  CHECK(std::vector<uint8_t>(data->data, data->data + data->size) == payload);
  CHECK(p.GetRequestedAddressFamily() == net::Family::kIpv6);
  CHECK(p.GetEvenPort() == true);
  CHECK(p.GetRequestedTransport() == kTransportUdp);
  CHECK(p.Has(attr::kDontFragment));
  const auto tok = p.GetBytes(attr::kReservationToken);
  REQUIRE(tok);
  CHECK(std::vector<uint8_t>(tok->data, tok->data + tok->size) == token);
  CHECK(p.Has(0xC057));

  // Re-serialising the parsed model gives the same bytes.
  CHECK(Ok(Serialize(p, o)) == wire);
}

TEST_CASE("absent and differently typed attributes read as nullopt") {
  Message m(Method::kBinding, Class::kRequest, kTid);
  m.AddText(attr::kPriority, "abc")
      .AddEvenPort(false)
      .AddRequestedAddressFamily(net::Family::kIpv4);
  CHECK_FALSE(m.GetU32(attr::kPriority));
  CHECK_FALSE(m.GetU64(attr::kIceControlling));
  CHECK_FALSE(m.GetXorAddress(attr::kXorMappedAddress));
  CHECK_FALSE(m.GetErrorCode());
  CHECK_FALSE(m.GetChannelNumber());
  CHECK(m.GetEvenPort() == false);
  CHECK(m.GetRequestedAddressFamily() == net::Family::kIpv4);
  CHECK(m.GetAllXorAddresses(attr::kXorPeerAddress).empty());
}

TEST_CASE("XOR addresses follow RFC 8489 14.2 on the wire") {
  // 192.0.2.1:32853 xor 0x2112A442: port a147, address e112a643 (as in RFC 5769 2.2).
  CHECK(EncodeXorAddress(Addr("192.0.2.1", 32853), kTid) == Hex("00 01 a1 47 e1 12 a6 43"));
  // IPv6: the address is xored with the cookie and then the transaction id.
  CHECK(EncodeXorAddress(Addr("::", 0x2112), kTid) ==
        Hex("00 02 00 00 21 12 a4 42 01 02 03 04 05 06 07 08 09 0a 0b 0c"));
  CHECK(EncodeAddress(Addr("::1", 1)) ==
        Hex("00 02 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01"));
  const auto back = DecodeXorAddress(Hex("00 02 00 00 21 12 a4 42 01 02 03 04 05 06 07 08 09 "
                                         "0a 0b 0c"),
                                     kTid);
  REQUIRE(back.ok());
  CHECK(back.value() == Addr("::", 0x2112));
  // The reserved first byte is ignored on receipt.
  CHECK(DecodeAddress(Hex("ff 01 00 50 7f 00 00 01")).value() == Addr("127.0.0.1", 80));
}

TEST_CASE("several XOR-PEER-ADDRESS attributes are all read; the first wins for GetXorAddress") {
  Message m(Method::kCreatePermission, Class::kRequest, kTid);
  m.AddXorAddress(attr::kXorPeerAddress, Addr("10.0.0.1", 1))
      .AddXorAddress(attr::kXorPeerAddress, Addr("fd00::2", 2));
  const Message p = Ok(Parse(Ok(Serialize(m))));
  CHECK(p.GetAllXorAddresses(attr::kXorPeerAddress) ==
        std::vector<net::Address>{Addr("10.0.0.1", 1), Addr("fd00::2", 2)});
  CHECK(p.GetXorAddress(attr::kXorPeerAddress) == Addr("10.0.0.1", 1));
}

TEST_CASE("a message with no attributes and one with an empty last value") {
  const auto empty = Ok(Serialize(Message(Method::kBinding, Class::kRequest, kTid)));
  CHECK(empty == Cat({Hex("00 01 00 00 21 12 a4 42"), Hex("01 02 03 04 05 06 07 08 09 0a 0b 0c")}));
  CHECK(Ok(Parse(empty)).attributes.empty());
  Message m(Method::kBinding, Class::kRequest, kTid);
  m.AddText(attr::kSoftware, "");
  const auto p = Ok(Parse(Ok(Serialize(m))));
  CHECK(p.GetText(attr::kSoftware) == "");
}

TEST_CASE("header errors are named") {
  const auto good = Raw(Tlv(attr::kPriority, Hex("00 00 00 01")));
  REQUIRE(ParseCode(good) == "ok");
  for (size_t n = 0; n < kHeaderSize; ++n) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
    CHECK(ParseCode(cut) == "ERR_STUN_TRUNCATED");
    CHECK_FALSE(IsStunMessage(cut));
  }
  auto topBits = good;
  topBits[0] |= 0x80;
  CHECK(ParseCode(topBits) == "ERR_STUN_NOT_STUN");
  topBits[0] = 0x40;
  CHECK(ParseCode(topBits) == "ERR_STUN_NOT_STUN");
  CHECK_FALSE(IsStunMessage(topBits));
  auto cookie = good;
  cookie[7] ^= 1;
  CHECK(ParseCode(cookie) == "ERR_STUN_BAD_COOKIE");
  CHECK_FALSE(IsStunMessage(cookie));
  auto odd = good;
  odd[3] = 7;
  CHECK(ParseCode(odd) == "ERR_STUN_BAD_LENGTH");
  auto longer = good;
  longer[3] = 12;
  CHECK(ParseCode(longer) == "ERR_STUN_BAD_LENGTH");
  CHECK_FALSE(IsStunMessage(longer));
  auto shorter = good;
  shorter[3] = 4;
  CHECK(ParseCode(shorter) == "ERR_STUN_BAD_LENGTH");
  auto trailing = good;
  trailing.insert(trailing.end(), 4, 0);
  CHECK(ParseCode(trailing) == "ERR_STUN_BAD_LENGTH");
  CHECK_FALSE(IsStunMessage(trailing));
  // RFC 7983 demultiplexing: DTLS, RTP and ChannelData are not STUN.
  CHECK_FALSE(IsStunMessage(Cat({Hex("16 fe fd"), std::vector<uint8_t>(40, 0)})));
  CHECK_FALSE(IsStunMessage(Cat({Hex("80 60"), std::vector<uint8_t>(40, 0)})));
  CHECK_FALSE(IsStunMessage(Cat({Hex("40 00 00 10"), std::vector<uint8_t>(16, 0)})));
}

TEST_CASE("attribute lengths overrunning the message are rejected") {
  // PRIORITY declares 100 bytes in an 8-byte body.
  CHECK(ParseCode(Raw(Hex("00 24 00 64 00 00 00 01"))) == "ERR_STUN_ATTRIBUTE_TRUNCATED");
  // USERNAME of 9 bytes needs 12 with padding; only 8 follow the header.
  CHECK(ParseCode(Raw(Hex("00 06 00 09 61 62 63 64 65 66 67 68"))) ==
        "ERR_STUN_ATTRIBUTE_TRUNCATED");
  // The same with its padding present is fine.
  CHECK(ParseCode(Raw(Hex("00 06 00 09 61 62 63 64 65 66 67 68 69 00 00 00"))) == "ok");
  // A length overrun on the last of several attributes.
  CHECK(ParseCode(Raw(Cat({Tlv(attr::kPriority, Hex("00 00 00 01")),
                           Hex("80 22 00 05 61 62 63 64")}))) == "ERR_STUN_ATTRIBUTE_TRUNCATED");
  // The checks walk the same way.
  CHECK(CheckFingerprint(Raw(Hex("00 24 00 64 00 00 00 01"))).code() ==
        "ERR_STUN_ATTRIBUTE_TRUNCATED");
  CHECK(CheckMessageIntegrity(Raw(Hex("00 24 00 64 00 00 00 01")), Bytes("k")).code() ==
        "ERR_STUN_ATTRIBUTE_TRUNCATED");
}

TEST_CASE("malformed known attribute values are rejected with their own codes") {
  struct Case {
    const char* what;
    std::vector<uint8_t> tlv;
    const char* code;
  };
  const std::vector<Case> cases = {
      {"zero-length address", Tlv(attr::kXorMappedAddress, {}), "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"3-byte address", Tlv(attr::kMappedAddress, Hex("00 01 00")), "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"family 0", Tlv(attr::kXorMappedAddress, Hex("00 00 00 01 7f 00 00 01")),
       "ERR_STUN_ADDRESS_FAMILY"},
      {"family 3", Tlv(attr::kXorPeerAddress, Hex("00 03 00 01 7f 00 00 01")),
       "ERR_STUN_ADDRESS_FAMILY"},
      {"IPv4 with 16 address bytes",
       Tlv(attr::kXorRelayedAddress, Cat({Hex("00 01 00 01"), std::vector<uint8_t>(16, 0)})),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"IPv6 with 4 address bytes", Tlv(attr::kAlternateServer, Hex("00 02 00 01 7f 00 00 01")),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"IPv4 with one extra byte", Tlv(attr::kMappedAddress, Hex("00 01 00 01 7f 00 00 01 00")),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"PRIORITY of 3 bytes", Tlv(attr::kPriority, Hex("00 00 01")), "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"LIFETIME of 8 bytes", Tlv(attr::kLifetime, std::vector<uint8_t>(8, 0)),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"ICE-CONTROLLING of 4 bytes", Tlv(attr::kIceControlling, Hex("00 00 00 01")),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"ICE-CONTROLLED of 9 bytes", Tlv(attr::kIceControlled, std::vector<uint8_t>(9, 0)),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"USE-CANDIDATE with a value", Tlv(attr::kUseCandidate, Hex("01")),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"DONT-FRAGMENT with a value", Tlv(attr::kDontFragment, Hex("00 00 00 00")),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"EVEN-PORT of 4 bytes", Tlv(attr::kEvenPort, Hex("80 00 00 00")),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"CHANNEL-NUMBER of 2 bytes", Tlv(attr::kChannelNumber, Hex("40 00")),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"REQUESTED-TRANSPORT of 1 byte", Tlv(attr::kRequestedTransport, Hex("11")),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"REQUESTED-ADDRESS-FAMILY 3", Tlv(attr::kRequestedAddressFamily, Hex("03 00 00 00")),
       "ERR_STUN_ADDRESS_FAMILY"},
      {"RESERVATION-TOKEN of 4 bytes", Tlv(attr::kReservationToken, Hex("00 00 00 01")),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"ERROR-CODE of 3 bytes", Tlv(attr::kErrorCode, Hex("00 00 04")),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"ERROR-CODE class 2", Tlv(attr::kErrorCode, Hex("00 00 02 00")), "ERR_STUN_ATTRIBUTE_VALUE"},
      {"ERROR-CODE class 7", Tlv(attr::kErrorCode, Hex("00 00 07 00")), "ERR_STUN_ATTRIBUTE_VALUE"},
      {"ERROR-CODE number 100", Tlv(attr::kErrorCode, Hex("00 00 04 64")),
       "ERR_STUN_ATTRIBUTE_VALUE"},
      {"UNKNOWN-ATTRIBUTES of 3 bytes", Tlv(attr::kUnknownAttributes, Hex("00 01 00")),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"USERNAME of 514 bytes", Tlv(attr::kUsername, std::vector<uint8_t>(514, 'a')),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"REALM of 764 bytes", Tlv(attr::kRealm, std::vector<uint8_t>(764, 'a')),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"NONCE of 764 bytes", Tlv(attr::kNonce, std::vector<uint8_t>(764, 'a')),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"SOFTWARE of 764 bytes", Tlv(attr::kSoftware, std::vector<uint8_t>(764, 'a')),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"reason phrase of 764 bytes",
       Tlv(attr::kErrorCode, Cat({Hex("00 00 04 01"), std::vector<uint8_t>(764, 'a')})),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"MESSAGE-INTEGRITY of 19 bytes", Tlv(attr::kMessageIntegrity, std::vector<uint8_t>(19, 0)),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"MESSAGE-INTEGRITY-SHA256 of 12 bytes",
       Tlv(attr::kMessageIntegritySha256, std::vector<uint8_t>(12, 0)),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"MESSAGE-INTEGRITY-SHA256 of 18 bytes",
       Tlv(attr::kMessageIntegritySha256, std::vector<uint8_t>(18, 0)),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"MESSAGE-INTEGRITY-SHA256 of 36 bytes",
       Tlv(attr::kMessageIntegritySha256, std::vector<uint8_t>(36, 0)),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"USERHASH of 20 bytes", Tlv(attr::kUserhash, std::vector<uint8_t>(20, 0)),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"PASSWORD-ALGORITHM parameters overrun", Tlv(attr::kPasswordAlgorithm, Hex("00 02 00 04")),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"PASSWORD-ALGORITHM of 2 bytes", Tlv(attr::kPasswordAlgorithm, Hex("00 02")),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
      {"FINGERPRINT of 8 bytes", Tlv(attr::kFingerprint, std::vector<uint8_t>(8, 0)),
       "ERR_STUN_ATTRIBUTE_LENGTH"},
  };
  for (const auto& c : cases) {
    auto r = Parse(Raw(c.tlv));
    CHECK_MESSAGE(!r.ok(), c.what);
    CHECK_MESSAGE(r.status().code() == c.code, c.what << ": " << r.status().message());
  }
  // Limits are inclusive of the largest legal size.
  CHECK(ParseCode(Raw(Tlv(attr::kUsername, std::vector<uint8_t>(513, 'a')))) == "ok");
  CHECK(ParseCode(Raw(Tlv(attr::kRealm, std::vector<uint8_t>(763, 'a')))) == "ok");
  CHECK(ParseCode(Raw(Tlv(attr::kErrorCode, Hex("00 00 06 63")))) == "ok");  // 699
  CHECK(ParseCode(Raw(Tlv(attr::kErrorCode, Hex("ff ff fb 00")))) ==
        "ok");  // 300, reserved bits set
  // The message names the attribute.
  CHECK(
      Parse(Raw(Tlv(attr::kXorMappedAddress, {}))).status().message().find("XOR-MAPPED-ADDRESS") !=
      std::string::npos);
}

TEST_CASE("unknown attributes: optional ones are kept, required ones are listed for a 420") {
  const auto wire = Raw(Cat({Tlv(0x0042, Hex("01 02")), Tlv(0xC057, Hex("00 01 00 0a")),
                             Tlv(0x7FFF, {}), Tlv(attr::kPriority, Hex("00 00 00 05"))}));
  const Message m = Ok(Parse(wire));
  CHECK(m.unknownRequired == std::vector<uint16_t>{0x0042, 0x7FFF});
  CHECK(m.attributes.size() == 4);
  CHECK(m.Has(0xC057));
  CHECK(m.GetU32(attr::kPriority) == 5u);
}

TEST_CASE("FINGERPRINT must be last; what follows MESSAGE-INTEGRITY is ignored") {
  const Key key = ShortTermKey("secret");
  Message m(Method::kBinding, Class::kRequest, kTid);
  m.AddText(attr::kUsername, "a:b");
  const auto wire = Ok(SerializeWithIntegrity(m, key));

  // An attribute appended after FINGERPRINT (length fixed up).
  auto after = Cat({wire, Tlv(attr::kPriority, Hex("00 00 00 01"))});
  after[3] = static_cast<uint8_t>(after.size() - kHeaderSize);
  CHECK(ParseCode(after) == "ERR_STUN_FINGERPRINT_NOT_LAST");
  CHECK(CheckFingerprint(after).code() == "ERR_STUN_FINGERPRINT_NOT_LAST");
  auto twice = Cat({wire, Tlv(attr::kFingerprint, Hex("00 00 00 00"))});
  twice[3] = static_cast<uint8_t>(twice.size() - kHeaderSize);
  CHECK(ParseCode(twice) == "ERR_STUN_FINGERPRINT_NOT_LAST");

  // Attributes between MESSAGE-INTEGRITY and FINGERPRINT are ignored by Parse and do not
  // disturb the integrity check (the fingerprint covers them).
  const auto noFp = Ok(SerializeWithIntegrity(m, key, false));
  // Even malformed ones: they are not processed at all.
  auto tail = Cat({noFp, Tlv(attr::kPriority, Hex("00 00 00 09")), Tlv(0x0042, {}),
                   Tlv(attr::kXorMappedAddress, {}), Tlv(attr::kMessageIntegrity, Hex("00"))});
  tail[3] = static_cast<uint8_t>(tail.size() - kHeaderSize);
  const Message p = Ok(Parse(tail));
  CHECK_FALSE(p.Has(attr::kPriority));
  CHECK(p.unknownRequired.empty());
  CHECK(p.hadMessageIntegrity);
  CHECK(CheckMessageIntegrity(tail, key).ok());
}

TEST_CASE("integrity and fingerprint failures") {
  const Key key = ShortTermKey("secret");
  Message m(Method::kBinding, Class::kRequest, kTid);
  m.AddText(attr::kUsername, "user:name").AddU32(attr::kPriority, 1);
  auto wire = Ok(SerializeWithIntegrity(m, key));
  REQUIRE(CheckMessageIntegrity(wire, key).ok());
  REQUIRE(CheckFingerprint(wire).ok());

  CHECK(CheckMessageIntegrity(wire, ShortTermKey("Secret")).code() ==
        "ERR_STUN_INTEGRITY_MISMATCH");
  CHECK(CheckMessageIntegrity(wire, {}).code() == "ERR_STUN_EMPTY_KEY");
  CHECK(CheckMessageIntegritySha256(wire, {}).code() == "ERR_STUN_EMPTY_KEY");
  CHECK(SerializeWithIntegrity(m, {}).status().code() == "ERR_STUN_EMPTY_KEY");
  CHECK(CheckMessageIntegritySha256(wire, key).code() == "ERR_STUN_NO_INTEGRITY");

  // Flip each bit of the body before MESSAGE-INTEGRITY: the HMAC catches every one.
  const size_t miOffset = wire.size() - 8 - 24;
  for (size_t i = 0; i < miOffset; ++i) {
    if (i == 2 || i == 3) continue;  // the length field: covered below
    auto bad = wire;
    bad[i] ^= 0x01;
    CHECK_MESSAGE(!CheckMessageIntegrity(bad, key).ok(), "byte " << i);
    CHECK_MESSAGE(!CheckFingerprint(bad).ok(), "byte " << i);
  }
  auto badMac = wire;
  badMac[miOffset + 4] ^= 0x80;
  CHECK(CheckMessageIntegrity(badMac, key).code() == "ERR_STUN_INTEGRITY_MISMATCH");
  CHECK(CheckFingerprint(badMac).code() == "ERR_STUN_FINGERPRINT_MISMATCH");
  auto badCrc = wire;
  badCrc.back() ^= 0x01;
  CHECK(CheckFingerprint(badCrc).code() == "ERR_STUN_FINGERPRINT_MISMATCH");
  CHECK(CheckMessageIntegrity(badCrc, key).ok());  // the CRC is outside the HMAC

  const auto plain = Ok(Serialize(m));
  CHECK(CheckMessageIntegrity(plain, key).code() == "ERR_STUN_NO_INTEGRITY");
  CHECK(CheckFingerprint(plain).code() == "ERR_STUN_NO_FINGERPRINT");
  CHECK(CheckFingerprint(Hex("00 01")).code() == "ERR_STUN_TRUNCATED");
  CHECK(CheckMessageIntegrity(Hex("17 fe fd 00"), key).code() == "ERR_STUN_TRUNCATED");
}

TEST_CASE("MESSAGE-INTEGRITY-SHA256 alone, with MESSAGE-INTEGRITY, and truncated") {
  const Key key = LongTermKeySha256("user", "realm", "pass");
  CHECK(key.size() == 32);
  Message m(Method::kRefresh, Class::kRequest, kTid);
  m.AddU32(attr::kLifetime, 0);
  EncodeOptions o;
  o.messageIntegritySha256 = true;
  o.key = key;
  const auto only = Ok(Serialize(m, o));
  CHECK(CheckMessageIntegritySha256(only, key).ok());
  CHECK(CheckMessageIntegrity(only, key).code() == "ERR_STUN_NO_INTEGRITY");
  CHECK(CheckMessageIntegritySha256(only, LongTermKeySha256("user", "realm", "past")).code() ==
        "ERR_STUN_INTEGRITY_MISMATCH");

  // A sender may truncate the HMAC-SHA256 to 16..32 bytes in fours (RFC 8489 14.6): build one
  // by hand over the length-adjusted prefix, then check it.
  const auto plain = Ok(Serialize(m));
  for (size_t n = 16; n <= 32; n += 4) {
    auto wire = plain;
    const size_t length = wire.size() - kHeaderSize + 4 + n;
    wire[2] = static_cast<uint8_t>(length >> 8);
    wire[3] = static_cast<uint8_t>(length);
    const auto mac = Ok(HmacSha256(key, wire));
    ByteWriter w(wire);
    w.u16(attr::kMessageIntegritySha256);
    w.u16(static_cast<uint16_t>(n));
    w.bytes(ByteSpan(mac.data(), n));
    CHECK_MESSAGE(CheckMessageIntegritySha256(wire, key).ok(), n);
    CHECK(Ok(Parse(wire)).hadMessageIntegritySha256);
    wire.back() ^= 1;
    CHECK(CheckMessageIntegritySha256(wire, key).code() == "ERR_STUN_INTEGRITY_MISMATCH");
  }

  // Both, then FINGERPRINT: each verifies over its own prefix.
  o.messageIntegrity = true;
  o.fingerprint = true;
  const auto both = Ok(Serialize(m, o));
  CHECK(CheckMessageIntegrity(both, key).ok());
  CHECK(CheckMessageIntegritySha256(both, key).ok());
  CHECK(CheckFingerprint(both).ok());
  const Message p = Ok(Parse(both));
  CHECK(p.hadMessageIntegrity);
  CHECK(p.hadMessageIntegritySha256);
  CHECK(p.attributes.size() == 1);
}

TEST_CASE("long-term key is MD5(username:realm:password)") {
  // MD5("user:realm:pass") computed independently (coreutils md5sum).
  CHECK(LongTermKey("user", "realm", "pass") == Hex("8493fbc53ba582fb4c044c456bdc40eb"));
  CHECK(ShortTermKey("abc") == Bytes("abc"));
}

TEST_CASE("Serialize refuses what 16-bit lengths cannot carry") {
  Message m(Method::kSend, Class::kIndication, kTid);
  m.AddBytes(attr::kData, std::vector<uint8_t>(0x10000, 0));
  CHECK(Serialize(m).status().code() == "ERR_STUN_TOO_LARGE");
  Message big(Method::kSend, Class::kIndication, kTid);
  big.AddBytes(attr::kData, std::vector<uint8_t>(0xFFFC, 0));  // 4 + 0xFFFC > 0xFFFF
  CHECK(Serialize(big).status().code() == "ERR_STUN_TOO_LARGE");
  Message fits(Method::kSend, Class::kIndication, kTid);
  fits.AddBytes(attr::kData, std::vector<uint8_t>(0xFFF8, 0));  // 4 + 0xFFF8 = 0xFFFC
  CHECK(Ok(Serialize(fits)).size() == kHeaderSize + 0xFFFC);
  CHECK(SerializeWithIntegrity(fits, Bytes("k")).status().code() == "ERR_STUN_TOO_LARGE");
}
