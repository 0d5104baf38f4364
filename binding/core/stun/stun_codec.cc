#include "stun/stun_codec.h"

#include <algorithm>
#include <string>

#include "stun/stun_integrity.h"

namespace kvs::stun {
namespace {

uint32_t ReadU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

size_t Padded(size_t n) { return (n + 3) & ~size_t{3}; }

void AppendAttribute(ByteWriter& w, uint16_t type, ByteSpan value, uint8_t paddingByte) {
  w.u16(type);
  w.u16(static_cast<uint16_t>(value.size));
  w.bytes(value);
  for (size_t i = value.size; i < Padded(value.size); ++i) w.u8(paddingByte);
}

}  // namespace

bool IsStunMessage(ByteSpan d) {
  if (d.size < kHeaderSize || (d.data[0] & 0xC0) != 0) return false;
  const size_t length = (size_t{d.data[2]} << 8) | d.data[3];
  return ReadU32(d.data + 4) == kMagicCookie && length % 4 == 0 && length + kHeaderSize == d.size;
}

Status CheckHeader(ByteSpan d) {
  if (d.size < kHeaderSize) {
    return Status::Fail("ERR_STUN_TRUNCATED",
                        "STUN header needs 20 bytes, got " + std::to_string(d.size));
  }
  if ((d.data[0] & 0xC0) != 0) {
    return Status::Fail("ERR_STUN_NOT_STUN", "the first two bits of a STUN message are zero");
  }
  if (ReadU32(d.data + 4) != kMagicCookie) {
    return Status::Fail("ERR_STUN_BAD_COOKIE", "no STUN magic cookie");
  }
  const size_t length = (size_t{d.data[2]} << 8) | d.data[3];
  if (length % 4 != 0) {
    return Status::Fail("ERR_STUN_BAD_LENGTH",
                        "message length " + std::to_string(length) + " is not a multiple of 4");
  }
  if (length + kHeaderSize != d.size) {
    return Status::Fail("ERR_STUN_BAD_LENGTH", "message length " + std::to_string(length) +
                                                   " does not match the " + std::to_string(d.size) +
                                                   "-byte datagram");
  }
  return Status::Ok();
}

AttributeWalker::AttributeWalker(ByteSpan message) : message_(message) {}

bool AttributeWalker::Next() {
  if (!status_.ok() || next_ >= message_.size) return false;
  ByteReader r(message_.sub(next_, message_.size - next_));
  const uint16_t type = r.u16();
  const uint16_t length = r.u16();
  if (!r.ok()) {
    status_ = Status::Fail("ERR_STUN_ATTRIBUTE_TRUNCATED",
                           "attribute header at offset " + std::to_string(next_) + " is cut short");
    return false;
  }
  if (Padded(length) > r.remaining()) {
    const char* name = AttributeName(type);
    status_ = Status::Fail("ERR_STUN_ATTRIBUTE_TRUNCATED",
                           std::string(name ? name : "attribute") + " at offset " +
                               std::to_string(next_) + " declares " + std::to_string(length) +
                               " bytes; only " + std::to_string(r.remaining()) + " remain");
    return false;
  }
  offset_ = next_;
  type_ = type;
  value_ = message_.sub(next_ + kAttributeHeaderSize, length);
  next_ += kAttributeHeaderSize + Padded(length);
  return true;
}

Result<Message> Parse(ByteSpan d) {
  Status header = CheckHeader(d);
  if (!header.ok()) return header;
  ByteReader r(d);
  const uint16_t type = r.u16();
  Message m;
  m.method = static_cast<Method>(MethodBitsOf(type));
  m.cls = ClassOf(type);
  r.skip(6);  // length and cookie, checked above
  ByteSpan tid = r.bytes(kTransactionIdSize);
  std::copy(tid.data, tid.data + tid.size, m.transactionId.begin());

  AttributeWalker walker(d);
  while (walker.Next()) {
    const uint16_t t = walker.type();
    if (m.hadFingerprint) {
      const char* name = AttributeName(t);
      return Status::Fail("ERR_STUN_FINGERPRINT_NOT_LAST",
                          std::string(name ? name : "an attribute") + " follows FINGERPRINT");
    }
    // Ignored attributes are skipped unchecked; the ones that count are checked first.
    const bool counts =
        t == attr::kFingerprint || (!m.hadMessageIntegritySha256 &&
                                    (t == attr::kMessageIntegritySha256 || !m.hadMessageIntegrity));
    if (!counts) continue;
    Status value = CheckAttributeValue(t, walker.value());
    if (!value.ok()) return value;
    if (t == attr::kFingerprint) {
      m.hadFingerprint = true;
      continue;
    }
    if (t == attr::kMessageIntegritySha256) {
      m.hadMessageIntegritySha256 = true;
      continue;
    }
    if (t == attr::kMessageIntegrity) {
      m.hadMessageIntegrity = true;
      continue;
    }
    if (IsComprehensionRequired(t) && AttributeName(t) == nullptr) m.unknownRequired.push_back(t);
    m.attributes.push_back(
        {t, std::vector<uint8_t>(walker.value().data, walker.value().data + walker.value().size)});
  }
  if (!walker.status().ok()) return walker.status();
  return m;
}

Result<std::vector<uint8_t>> Serialize(const Message& m, const EncodeOptions& o) {
  std::vector<uint8_t> out;
  out.reserve(256);
  ByteWriter w(out);
  w.u16(m.type());
  w.u16(0);  // patched below
  w.u32(kMagicCookie);
  w.bytes(ByteSpan(m.transactionId.data(), m.transactionId.size()));
  for (const auto& a : m.attributes) {
    if (a.value.size() > 0xFFFF) {
      const char* name = AttributeName(a.type);
      return Status::Fail("ERR_STUN_TOO_LARGE", std::string(name ? name : "attribute") +
                                                    " value of " + std::to_string(a.value.size()) +
                                                    " bytes");
    }
    AppendAttribute(w, a.type, a.value, o.paddingByte);
  }
  // Each integrity attribute covers the message up to itself, with the length field counting
  // the message up to and including it (RFC 8489 §14.5): patch, then hash.
  auto lengthUpTo = [&](size_t extra) { return out.size() + extra - kHeaderSize; };
  const size_t final = lengthUpTo((o.messageIntegrity ? 24 : 0) +
                                  (o.messageIntegritySha256 ? 36 : 0) + (o.fingerprint ? 8 : 0));
  if (final > 0xFFFF) {
    return Status::Fail("ERR_STUN_TOO_LARGE",
                        "message of " + std::to_string(final) + " bytes after the header");
  }
  if ((o.messageIntegrity || o.messageIntegritySha256) && o.key.size == 0) return EmptyKey();
  if (o.messageIntegrity) {
    w.PatchU16(2, static_cast<uint16_t>(lengthUpTo(24)));
    const auto mac = HmacSha1(o.key, out);
    if (!mac.ok()) return mac.status();
    AppendAttribute(w, attr::kMessageIntegrity, ByteSpan(mac.value().data(), mac.value().size()),
                    0);
  }
  if (o.messageIntegritySha256) {
    w.PatchU16(2, static_cast<uint16_t>(lengthUpTo(36)));
    const auto mac = HmacSha256(o.key, out);
    if (!mac.ok()) return mac.status();
    AppendAttribute(w, attr::kMessageIntegritySha256,
                    ByteSpan(mac.value().data(), mac.value().size()), 0);
  }
  w.PatchU16(2, static_cast<uint16_t>(final));
  if (o.fingerprint) {
    const uint32_t crc = Crc32(out) ^ kFingerprintXor;
    w.u16(attr::kFingerprint);
    w.u16(4);
    w.u32(crc);
  }
  return out;
}

Result<std::vector<uint8_t>> Serialize(const Message& m) { return Serialize(m, EncodeOptions{}); }

Result<std::vector<uint8_t>> SerializeWithIntegrity(const Message& m, ByteSpan key,
                                                    bool fingerprint) {
  EncodeOptions o;
  o.messageIntegrity = true;
  o.key = key;
  o.fingerprint = fingerprint;
  return Serialize(m, o);
}

}  // namespace kvs::stun
