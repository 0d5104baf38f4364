// The STUN message model: header fields and the attributes in wire order. Attribute values
// are kept as bytes; the typed accessors decode and the Add* methods encode them.
// MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are not attributes of the
// model: the serializer computes them (stun_codec.h) and the checks verify them on the raw
// received bytes (stun_integrity.h).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "net/address.h"
#include "stun/stun_constants.h"

namespace kvs::stun {

using TransactionId = std::array<uint8_t, kTransactionIdSize>;

struct RawAttribute {
  uint16_t type = 0;
  std::vector<uint8_t> value;  // without padding
};

struct ErrorCode {
  uint16_t code = 0;  // 300..699
  std::string reason;
};

class Message {
 public:
  Message() = default;
  Message(Method m, Class c, const TransactionId& tid) : method(m), cls(c), transactionId(tid) {}

  Method method = Method::kBinding;
  Class cls = Class::kRequest;
  TransactionId transactionId{};
  std::vector<RawAttribute> attributes;

  // Set by Parse(): which trailing security attributes were on the wire (check them with
  // stun_integrity.h on the raw bytes), and the comprehension-required attribute types this
  // codec does not understand (a request carrying any deserves a 420 naming them).
  bool hadMessageIntegrity = false;
  bool hadMessageIntegritySha256 = false;
  bool hadFingerprint = false;
  std::vector<uint16_t> unknownRequired;

  uint16_t type() const { return MessageType(method, cls); }
  bool Is(Method m, Class c) const { return method == m && cls == c; }

  // The first attribute of a type (RFC 8489 §14: later duplicates are not processed).
  const RawAttribute* Find(uint16_t type) const;
  bool Has(uint16_t type) const { return Find(type) != nullptr; }

  // Typed reads: nullopt when absent or malformed (Parse() rejects malformed known ones).
  // Text and byte views point into this message.
  std::optional<net::Address> GetAddress(uint16_t type) const;  // MAPPED-ADDRESS, ALTERNATE-SERVER
  std::optional<net::Address> GetXorAddress(uint16_t type) const;  // XOR-*-ADDRESS
  std::vector<net::Address> GetAllXorAddresses(uint16_t type) const;
  std::optional<std::string_view> GetText(uint16_t type) const;  // USERNAME, REALM, NONCE...
  std::optional<ByteSpan> GetBytes(uint16_t type) const;         // DATA, RESERVATION-TOKEN...
  std::optional<uint32_t> GetU32(uint16_t type) const;           // PRIORITY, LIFETIME
  std::optional<uint64_t> GetU64(uint16_t type) const;           // ICE-CONTROLL(ED|ING)
  std::optional<ErrorCode> GetErrorCode() const;
  std::optional<std::vector<uint16_t>> GetUnknownAttributes() const;
  std::optional<uint16_t> GetChannelNumber() const;
  std::optional<uint8_t> GetRequestedTransport() const;
  std::optional<net::Family> GetRequestedAddressFamily() const;
  std::optional<bool> GetEvenPort() const;  // the R (reserve next port) bit

  // Typed writes, appended in call order.
  Message& AddAddress(uint16_t type, const net::Address& address);
  Message& AddXorAddress(uint16_t type, const net::Address& address);
  Message& AddText(uint16_t type, std::string_view text);
  Message& AddBytes(uint16_t type, ByteSpan bytes);
  Message& AddU32(uint16_t type, uint32_t value);
  Message& AddU64(uint16_t type, uint64_t value);
  Message& AddFlag(uint16_t type);  // empty value: USE-CANDIDATE, DONT-FRAGMENT
  Message& AddErrorCode(uint16_t code, std::string_view reason);  // code 300..699
  Message& AddUnknownAttributes(const std::vector<uint16_t>& types);
  Message& AddChannelNumber(uint16_t channel);
  Message& AddRequestedTransport(uint8_t protocol);
  Message& AddRequestedAddressFamily(net::Family family);
  Message& AddEvenPort(bool reserveNext);
};

// Attribute value codecs, shared by Message and Parse(). Each Decode* checks the value's
// length and fields and names what is wrong.
Status CheckAttributeValue(uint16_t type, ByteSpan value);
Result<net::Address> DecodeAddress(ByteSpan value);
Result<net::Address> DecodeXorAddress(ByteSpan value, const TransactionId& tid);
std::vector<uint8_t> EncodeAddress(const net::Address& address);
std::vector<uint8_t> EncodeXorAddress(const net::Address& address, const TransactionId& tid);
Result<ErrorCode> DecodeErrorCode(ByteSpan value);

// The reason phrase RFC 8489/8656 suggest for a code ("Unauthorized"); "" if none.
const char* DefaultReason(uint16_t code);

}  // namespace kvs::stun
