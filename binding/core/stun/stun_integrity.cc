#include "stun/stun_integrity.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "crypto/openssl.h"
#include "stun/stun_codec.h"
#include "stun/stun_constants.h"

namespace kvs::stun {
namespace {

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

Key DigestOf(const EVP_MD* md, const std::string& text) {
  crypto::EnsureOpenSslInitialised();
  Key out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  if (EVP_Digest(text.data(), text.size(), out.data(), &n, md, nullptr) != 1) n = 0;
  out.resize(n);
  return out;
}

Key Digest(const EVP_MD* md, std::string_view u, std::string_view r, std::string_view p) {
  std::string text;
  text.reserve(u.size() + r.size() + p.size() + 2);
  text.append(u).append(":").append(r).append(":").append(p);
  return DigestOf(md, text);
}

template <size_t N>
Result<std::array<uint8_t, N>> Hmac(const EVP_MD* md, ByteSpan key, ByteSpan data) {
  crypto::EnsureOpenSslInitialised();
  std::array<uint8_t, N> out{};
  unsigned int n = 0;
  // HMAC() with a null key pointer would refuse; an empty key is legal HMAC input.
  static const uint8_t kEmpty = 0;
  // A failure must never leave a zero MAC that an attacker's zero attribute would match.
  if (HMAC(md, key.size ? key.data : &kEmpty, static_cast<int>(key.size),
           data.size ? data.data : &kEmpty, data.size, out.data(), &n) == nullptr ||
      n != N) {
    return Status::Fail("ERR_STUN_CRYPTO", "HMAC failed: " + crypto::TakeOpenSslErrors());
  }
  return out;
}

// Finds the first attribute of a type the way a receiver sees the message: a valid header,
// well-formed TLVs up to it.
Status FindAttribute(ByteSpan message, uint16_t type, AttributeWalker& walker) {
  Status header = CheckHeader(message);
  if (!header.ok()) return header;
  while (walker.Next()) {
    if (walker.type() == type) return Status::Ok();
  }
  if (!walker.status().ok()) return walker.status();
  return Status::Fail("ERR_STUN_NOT_FOUND", "");
}

// The hashed text of an integrity attribute: the message before it, with the length field
// counting up to the end of the attribute.
std::vector<uint8_t> HashedPrefix(ByteSpan message, const AttributeWalker& at) {
  std::vector<uint8_t> text(message.data, message.data + at.offset());
  const size_t length = at.end() - kHeaderSize;
  text[2] = static_cast<uint8_t>(length >> 8);
  text[3] = static_cast<uint8_t>(length);
  return text;
}

}  // namespace

Status EmptyKey() {
  return Status::Fail("ERR_STUN_EMPTY_KEY", "no key: an empty password or a failed derivation");
}

Key ShortTermKey(std::string_view password) { return Key(password.begin(), password.end()); }

Key LongTermKey(std::string_view username, std::string_view realm, std::string_view password) {
  return Digest(EVP_md5(), username, realm, password);
}

Key LongTermKeySha256(std::string_view username, std::string_view realm,
                      std::string_view password) {
  return Digest(EVP_sha256(), username, realm, password);
}

std::vector<uint8_t> Userhash(std::string_view username, std::string_view realm) {
  std::string text;
  text.reserve(username.size() + realm.size() + 1);
  text.append(username).append(":").append(realm);
  return DigestOf(EVP_sha256(), text);
}

uint32_t Crc32(ByteSpan data) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < data.size; ++i) c = kCrcTable[(c ^ data.data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

Result<std::array<uint8_t, 20>> HmacSha1(ByteSpan key, ByteSpan data) {
  return Hmac<20>(EVP_sha1(), key, data);
}

Result<std::array<uint8_t, 32>> HmacSha256(ByteSpan key, ByteSpan data) {
  return Hmac<32>(EVP_sha256(), key, data);
}

Status CheckMessageIntegrity(ByteSpan message, ByteSpan key) {
  if (key.size == 0) return EmptyKey();
  AttributeWalker at(message);
  Status found = FindAttribute(message, attr::kMessageIntegrity, at);
  if (found.code() == "ERR_STUN_NOT_FOUND") {
    return Status::Fail("ERR_STUN_NO_INTEGRITY", "no MESSAGE-INTEGRITY attribute");
  }
  if (!found.ok()) return found;
  if (at.value().size != kMessageIntegritySize) {
    return Status::Fail(
        "ERR_STUN_ATTRIBUTE_LENGTH",
        "MESSAGE-INTEGRITY is " + std::to_string(at.value().size) + " bytes, expected 20");
  }
  const auto mac = HmacSha1(key, HashedPrefix(message, at));
  if (!mac.ok()) return mac.status();
  if (CRYPTO_memcmp(mac.value().data(), at.value().data, mac.value().size()) != 0) {
    return Status::Fail("ERR_STUN_INTEGRITY_MISMATCH", "MESSAGE-INTEGRITY does not match");
  }
  return Status::Ok();
}

Status CheckMessageIntegritySha256(ByteSpan message, ByteSpan key) {
  if (key.size == 0) return EmptyKey();
  AttributeWalker at(message);
  Status found = FindAttribute(message, attr::kMessageIntegritySha256, at);
  if (found.code() == "ERR_STUN_NOT_FOUND") {
    return Status::Fail("ERR_STUN_NO_INTEGRITY", "no MESSAGE-INTEGRITY-SHA256 attribute");
  }
  if (!found.ok()) return found;
  const size_t n = at.value().size;
  if (n < kMessageIntegritySha256MinSize || n > kMessageIntegritySha256MaxSize || n % 4 != 0) {
    return Status::Fail("ERR_STUN_ATTRIBUTE_LENGTH",
                        "MESSAGE-INTEGRITY-SHA256 is " + std::to_string(n) + " bytes");
  }
  const auto mac = HmacSha256(key, HashedPrefix(message, at));
  if (!mac.ok()) return mac.status();
  if (CRYPTO_memcmp(mac.value().data(), at.value().data, n) != 0) {
    return Status::Fail("ERR_STUN_INTEGRITY_MISMATCH", "MESSAGE-INTEGRITY-SHA256 does not match");
  }
  return Status::Ok();
}

Status CheckFingerprint(ByteSpan message) {
  AttributeWalker at(message);
  Status found = FindAttribute(message, attr::kFingerprint, at);
  if (found.code() == "ERR_STUN_NOT_FOUND") {
    return Status::Fail("ERR_STUN_NO_FINGERPRINT", "no FINGERPRINT attribute");
  }
  if (!found.ok()) return found;
  if (at.end() != message.size) {
    return Status::Fail("ERR_STUN_FINGERPRINT_NOT_LAST", "an attribute follows FINGERPRINT");
  }
  if (at.value().size != kFingerprintSize) {
    return Status::Fail("ERR_STUN_ATTRIBUTE_LENGTH",
                        "FINGERPRINT is " + std::to_string(at.value().size) + " bytes, expected 4");
  }
  // FINGERPRINT is last, so the length field already counts it as the CRC requires.
  const uint32_t expected = Crc32(ByteSpan(message.data, at.offset())) ^ kFingerprintXor;
  if (ByteReader(at.value()).u32() != expected) {
    return Status::Fail("ERR_STUN_FINGERPRINT_MISMATCH", "FINGERPRINT does not match");
  }
  return Status::Ok();
}

}  // namespace kvs::stun
