// RFC 5769 test vectors and RFC 8489 Appendix B.1 (as corrected), typed from the RFC text.
// Parsed, verified on the raw bytes, every field checked, and rebuilt byte for byte.
#include <doctest/doctest.h>

#include "stun/stun_codec.h"
#include "stun/stun_integrity.h"
#include "stun_test_util.h"

using namespace kvs;
using namespace kvs::stun;
using kvs::stun::testing::Bytes;
using kvs::stun::testing::Hex;
using kvs::stun::testing::Ok;
using kvs::stun::testing::Tid;

namespace {

const char* const kShortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt";

// RFC 5769 §2.1 Sample Request
const std::vector<uint8_t> kRequest = Hex(R"(
  00 01 00 58  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 10  53 54 55 4e  20 74 65 73  74 20 63 6c  69 65 6e 74
  00 24 00 04  6e 00 01 ff
  80 29 00 08  93 2f f9 b1  51 26 3b 36
  00 06 00 09  65 76 74 6a  3a 68 36 76  59 20 20 20
  00 08 00 14  9a ea a7 0c  bf d8 cb 56  78 1e f2 b5  b2 d3 f2 49  c1 b5 71 a2
  80 28 00 04  e5 7a 3b cf)");

// RFC 5769 §2.2 Sample IPv4 Response
const std::vector<uint8_t> kIpv4Response = Hex(R"(
  01 01 00 3c  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
  00 20 00 08  00 01 a1 47  e1 12 a6 43
  00 08 00 14  2b 91 f5 99  fd 9e 90 c3  8c 74 89 f9  2a f9 ba 53  f0 6b e7 d7
  80 28 00 04  c0 7d 4c 96)");

// RFC 5769 §2.3 Sample IPv6 Response
const std::vector<uint8_t> kIpv6Response = Hex(R"(
  01 01 00 48  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
  00 20 00 14  00 02 a1 47  01 13 a9 fa  a5 d3 f1 79  bc 25 f4 b5  be d2 b9 d9
  00 08 00 14  a3 82 95 4e  4b e6 7b f1  17 84 c9 7c  82 92 c2 75  bf e3 ed 41
  80 28 00 04  c8 fb 0b 4c)");

// RFC 5769 §2.4 Sample Request with Long-Term Authentication
const std::vector<uint8_t> kLongTermRequest = Hex(R"(
  00 01 00 60  21 12 a4 42  78 ad 34 33  c6 ad 72 c0  29 da 41 2e
  00 06 00 12  e3 83 9e e3  83 88 e3 83  aa e3 83 83  e3 82 af e3  82 b9 00 00
  00 15 00 1c  66 2f 2f 34  39 39 6b 39  35 34 64 36  4f 4c 33 34  6f 4c 39 46
               53 54 76 79  36 34 73 41
  00 14 00 0b  65 78 61 6d  70 6c 65 2e  6f 72 67 00
  00 08 00 14  f6 70 24 65  6d d6 4a 3e  02 b8 e0 71  2e 85 c9 a2  8c a8 96 66)");

const char* const kMatrixUsername =
    "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf"
    "\xe3\x82\xb9";  // マトリックス in UTF-8
const char* const kNonce = "f//499k954d6OL34oL9FSTvy64sA";

// The vectors pad with spaces where RFC 8489 says zeros (RFC 5389 allowed either).
EncodeOptions VectorOptions(const Key& key, bool fingerprint, uint8_t paddingByte) {
  EncodeOptions o;
  o.messageIntegrity = true;
  o.key = key;
  o.fingerprint = fingerprint;
  o.paddingByte = paddingByte;
  return o;
}

}  // namespace

TEST_CASE("RFC 5769 2.1: sample request with short-term credentials") {
  CHECK(IsStunMessage(kRequest));
  const Message m = Ok(Parse(kRequest));
  CHECK(m.method == Method::kBinding);
  CHECK(m.cls == Class::kRequest);
  CHECK(m.transactionId == Tid("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"));
  CHECK(m.GetText(attr::kSoftware) == "STUN test client");
  CHECK(m.GetU32(attr::kPriority) == 0x6e0001ffu);
  CHECK(m.GetU64(attr::kIceControlled) == 0x932ff9b151263b36ull);
  CHECK_FALSE(m.Has(attr::kIceControlling));
  CHECK(m.GetText(attr::kUsername) == "evtj:h6vY");
  CHECK(m.hadMessageIntegrity);
  CHECK(m.hadFingerprint);
  CHECK_FALSE(m.hadMessageIntegritySha256);
  CHECK(m.unknownRequired.empty());
  CHECK(m.attributes.size() == 4);

  const Key key = ShortTermKey(kShortTermPassword);
  CHECK(CheckMessageIntegrity(kRequest, key).ok());
  CHECK(CheckFingerprint(kRequest).ok());
  CHECK(CheckMessageIntegrity(kRequest, ShortTermKey("VOkJxbRl1RmTxUk/WvJxBT")).code() ==
        "ERR_STUN_INTEGRITY_MISMATCH");

  // Rebuilt from the same inputs, in the same order, with the vector's space padding.
  Message rebuilt(Method::kBinding, Class::kRequest, m.transactionId);
  rebuilt.AddText(attr::kSoftware, "STUN test client")
      .AddU32(attr::kPriority, 0x6e0001ff)
      .AddU64(attr::kIceControlled, 0x932ff9b151263b36ull)
      .AddText(attr::kUsername, "evtj:h6vY");
  CHECK(Ok(Serialize(rebuilt, VectorOptions(key, true, 0x20))) == kRequest);

  // With RFC 8489's zero padding the bytes differ only in the padding, the HMAC and the CRC,
  // and the result verifies on its own.
  const auto zeroPadded = Ok(SerializeWithIntegrity(rebuilt, key));
  REQUIRE(zeroPadded.size() == kRequest.size());
  for (size_t i = 0; i < kRequest.size(); ++i) {
    // Header 20, SOFTWARE 20, PRIORITY 8, ICE-CONTROLLED 12, USERNAME 4 + 9 + 3 padding,
    // MESSAGE-INTEGRITY 4 + 20, FINGERPRINT 4 + 4.
    const bool padding = i >= 73 && i < 76;
    const bool mac = i >= 80 && i < 100;
    const bool crc = i >= 104;
    if (!padding && !mac && !crc) CHECK_MESSAGE(zeroPadded[i] == kRequest[i], "byte " << i);
  }
  CHECK(std::vector<uint8_t>(zeroPadded.begin() + 73, zeroPadded.begin() + 76) == Hex("00 00 00"));
  CHECK(CheckMessageIntegrity(zeroPadded, key).ok());
  CHECK(CheckFingerprint(zeroPadded).ok());
}

TEST_CASE("RFC 5769 2.1: the HMAC covers the padding bytes as received") {
  // Why verification must run on the raw bytes: "normalising" the padding breaks it.
  auto changed = kRequest;
  changed[73] = 0;  // first padding byte after the 9-byte USERNAME
  REQUIRE(Parse(changed).ok());
  CHECK(CheckMessageIntegrity(changed, ShortTermKey(kShortTermPassword)).code() ==
        "ERR_STUN_INTEGRITY_MISMATCH");
  CHECK(CheckFingerprint(changed).code() == "ERR_STUN_FINGERPRINT_MISMATCH");
}

TEST_CASE("RFC 5769 2.2: sample IPv4 response") {
  CHECK(IsStunMessage(kIpv4Response));
  const Message m = Ok(Parse(kIpv4Response));
  CHECK(m.method == Method::kBinding);
  CHECK(m.cls == Class::kSuccessResponse);
  CHECK(m.transactionId == Tid("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"));
  CHECK(m.GetText(attr::kSoftware) == "test vector");
  const auto mapped = m.GetXorAddress(attr::kXorMappedAddress);
  REQUIRE(mapped);
  CHECK(*mapped == *net::Address::Parse("192.0.2.1", 32853));
  CHECK(mapped->ToString() == "192.0.2.1:32853");
  CHECK(m.hadMessageIntegrity);
  CHECK(m.hadFingerprint);

  const Key key = ShortTermKey(kShortTermPassword);
  CHECK(CheckMessageIntegrity(kIpv4Response, key).ok());
  CHECK(CheckFingerprint(kIpv4Response).ok());

  Message rebuilt(Method::kBinding, Class::kSuccessResponse, m.transactionId);
  rebuilt.AddText(attr::kSoftware, "test vector")
      .AddXorAddress(attr::kXorMappedAddress, *net::Address::Parse("192.0.2.1", 32853));
  CHECK(Ok(Serialize(rebuilt, VectorOptions(key, true, 0x20))) == kIpv4Response);
}

TEST_CASE("RFC 5769 2.3: sample IPv6 response") {
  CHECK(IsStunMessage(kIpv6Response));
  const Message m = Ok(Parse(kIpv6Response));
  CHECK(m.Is(Method::kBinding, Class::kSuccessResponse));
  CHECK(m.transactionId == Tid("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"));
  CHECK(m.GetText(attr::kSoftware) == "test vector");
  const auto mapped = m.GetXorAddress(attr::kXorMappedAddress);
  REQUIRE(mapped);
  CHECK(mapped->isIpv6());
  CHECK(*mapped == *net::Address::Parse("2001:db8:1234:5678:11:2233:4455:6677", 32853));
  CHECK(mapped->ToString() == "[2001:db8:1234:5678:11:2233:4455:6677]:32853");

  const Key key = ShortTermKey(kShortTermPassword);
  CHECK(CheckMessageIntegrity(kIpv6Response, key).ok());
  CHECK(CheckFingerprint(kIpv6Response).ok());

  Message rebuilt(Method::kBinding, Class::kSuccessResponse, m.transactionId);
  rebuilt.AddText(attr::kSoftware, "test vector")
      .AddXorAddress(attr::kXorMappedAddress,
                     *net::Address::Parse("2001:db8:1234:5678:11:2233:4455:6677", 32853));
  CHECK(Ok(Serialize(rebuilt, VectorOptions(key, true, 0x20))) == kIpv6Response);
}

TEST_CASE("RFC 5769 2.4: sample request with long-term authentication") {
  CHECK(IsStunMessage(kLongTermRequest));
  const Message m = Ok(Parse(kLongTermRequest));
  CHECK(m.Is(Method::kBinding, Class::kRequest));
  CHECK(m.transactionId == Tid("78 ad 34 33 c6 ad 72 c0 29 da 41 2e"));
  CHECK(m.GetText(attr::kUsername) == kMatrixUsername);
  CHECK(m.GetText(attr::kNonce) == kNonce);
  CHECK(m.GetText(attr::kRealm) == "example.org");
  CHECK(m.hadMessageIntegrity);
  CHECK_FALSE(m.hadFingerprint);

  // The RFC's password "The<U+00AD>M<U+00AA>tr<U+2168>" is "TheMatrIX" after SASLprep; we take
  // the prepared form (see stun_integrity.h).
  const Key key = LongTermKey(kMatrixUsername, "example.org", "TheMatrIX");
  CHECK(key.size() == 16);
  CHECK(CheckMessageIntegrity(kLongTermRequest, key).ok());
  CHECK(CheckMessageIntegrity(kLongTermRequest,
                              LongTermKey(kMatrixUsername, "example.org", "TheMatrix"))
            .code() == "ERR_STUN_INTEGRITY_MISMATCH");
  CHECK(CheckFingerprint(kLongTermRequest).code() == "ERR_STUN_NO_FINGERPRINT");

  Message rebuilt(Method::kBinding, Class::kRequest, m.transactionId);
  rebuilt.AddText(attr::kUsername, kMatrixUsername)
      .AddText(attr::kNonce, kNonce)
      .AddText(attr::kRealm, "example.org");
  CHECK(Ok(Serialize(rebuilt, VectorOptions(key, false, 0x00))) == kLongTermRequest);
}

TEST_CASE("CRC-32 and HMAC building blocks match their standard check values") {
  CHECK(Crc32(Bytes("123456789")) == 0xCBF43926u);  // the CRC-32 catalogue's check value
  // RFC 2202 test case 2 (HMAC-SHA1) and RFC 4231 test case 2 (HMAC-SHA256).
  const auto sha1 = Ok(HmacSha1(Bytes("Jefe"), Bytes("what do ya want for nothing?")));
  CHECK(std::vector<uint8_t>(sha1.begin(), sha1.end()) ==
        Hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"));
  const auto sha256 = Ok(HmacSha256(Bytes("Jefe"), Bytes("what do ya want for nothing?")));
  CHECK(std::vector<uint8_t>(sha256.begin(), sha256.end()) ==
        Hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
}

// RFC 8489 Appendix B.1 as corrected by erratum 6268 (the published vector has a wrong length
// field and lacks PASSWORD-ALGORITHM): USERHASH and MESSAGE-INTEGRITY-SHA256 with the SHA-256
// long-term key. Same user, realm and (prepared) password as RFC 5769 2.4.
TEST_CASE("RFC 8489 B.1 (erratum 6268): request with USERHASH and MESSAGE-INTEGRITY-SHA256") {
  const std::vector<uint8_t> vector = Hex(R"(
    00 01 00 90  21 12 a4 42  78 ad 34 33  c6 ad 72 c0  29 da 41 2e
    00 1e 00 20  4a 3c f3 8f  ef 69 92 bd  a9 52 c6 78  04 17 da 0f
                 24 81 94 15  56 9e 60 b2  05 c4 6e 41  40 7f 17 04
    00 15 00 29  6f 62 4d 61  74 4a 6f 73  32 41 41 41  43 66 2f 2f  34 39 39 6b
                 39 35 34 64  36 4f 4c 33  34 6f 4c 39  46 53 54 76  79 36 34 73
                 41 00 00 00
    00 14 00 0b  65 78 61 6d  70 6c 65 2e  6f 72 67 00
    00 1d 00 04  00 02 00 00
    00 1c 00 20  b5 c7 bf 00  5b 6c 52 a2  1c 51 c5 e8  92 f8 19 24
                 13 62 96 cb  92 7c 43 14  93 09 27 8c  c6 51 8e 65)");
  const char* const nonce = "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA";
  CHECK(IsStunMessage(vector));
  const Message m = Ok(Parse(vector));
  CHECK(m.Is(Method::kBinding, Class::kRequest));
  CHECK(m.unknownRequired.empty());
  CHECK(m.hadMessageIntegritySha256);
  CHECK_FALSE(m.hadMessageIntegrity);
  const auto userhash = m.GetBytes(attr::kUserhash);
  REQUIRE(userhash);
  CHECK(std::vector<uint8_t>(userhash->data, userhash->data + userhash->size) ==
        Userhash(kMatrixUsername, "example.org"));
  CHECK(m.GetText(attr::kNonce) == nonce);
  CHECK(m.GetText(attr::kRealm) == "example.org");
  CHECK(m.GetBytes(attr::kPasswordAlgorithm).has_value());

  const Key key = LongTermKeySha256(kMatrixUsername, "example.org", "TheMatrIX");
  CHECK(CheckMessageIntegritySha256(vector, key).ok());
  CHECK(
      CheckMessageIntegritySha256(vector, LongTermKey(kMatrixUsername, "example.org", "TheMatrIX"))
          .code() == "ERR_STUN_INTEGRITY_MISMATCH");
  CHECK(CheckMessageIntegrity(vector, key).code() == "ERR_STUN_NO_INTEGRITY");

  Message rebuilt(Method::kBinding, Class::kRequest, m.transactionId);
  rebuilt.AddBytes(attr::kUserhash, Userhash(kMatrixUsername, "example.org"))
      .AddText(attr::kNonce, nonce)
      .AddText(attr::kRealm, "example.org")
      .AddBytes(attr::kPasswordAlgorithm, Hex("00 02 00 00"));
  EncodeOptions o;
  o.messageIntegritySha256 = true;
  o.key = key;
  CHECK(Ok(Serialize(rebuilt, o)) == vector);
}
