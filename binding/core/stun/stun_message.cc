#include "stun/stun_message.h"

#include <cstring>

namespace kvs::stun {
namespace {

constexpr uint8_t kFamilyIpv4 = 0x01;
constexpr uint8_t kFamilyIpv6 = 0x02;

Status Fail(const char* code, std::string message) {
  return Status::Fail(code, std::move(message));
}

Status ExpectLength(ByteSpan value, size_t expected) {
  if (value.size == expected) return Status::Ok();
  return Fail("ERR_STUN_ATTRIBUTE_LENGTH", "value is " + std::to_string(value.size) +
                                               " bytes, expected " + std::to_string(expected));
}

Status ExpectAtMost(ByteSpan value, size_t max) {
  if (value.size <= max) return Status::Ok();
  return Fail("ERR_STUN_ATTRIBUTE_LENGTH", "value is " + std::to_string(value.size) +
                                               " bytes, at most " + std::to_string(max) +
                                               " allowed");
}

// The cookie and transaction id as the 16-byte XOR mask of RFC 8489 §14.2.
std::array<uint8_t, 16> XorMask(const TransactionId& tid) {
  std::array<uint8_t, 16> mask{};
  mask[0] = static_cast<uint8_t>(kMagicCookie >> 24);
  mask[1] = static_cast<uint8_t>(kMagicCookie >> 16);
  mask[2] = static_cast<uint8_t>(kMagicCookie >> 8);
  mask[3] = static_cast<uint8_t>(kMagicCookie);
  std::memcpy(mask.data() + 4, tid.data(), tid.size());
  return mask;
}

net::Address Xored(const net::Address& a, const TransactionId& tid) {
  const auto mask = XorMask(tid);
  const auto port = static_cast<uint16_t>(a.port() ^ (kMagicCookie >> 16));
  if (a.isIpv4()) {
    std::array<uint8_t, 4> ip{};
    for (size_t i = 0; i < 4; ++i) ip[i] = static_cast<uint8_t>(a.ipBytes()[i] ^ mask[i]);
    return net::Address::Ipv4(ip, port);
  }
  std::array<uint8_t, 16> ip{};
  for (size_t i = 0; i < 16; ++i) ip[i] = static_cast<uint8_t>(a.ipBytes()[i] ^ mask[i]);
  return net::Address::Ipv6(ip, port);
}

Status CheckFamily(ByteSpan value) {
  ByteReader r(value);
  r.u8();
  const uint8_t family = r.u8();
  if (family != kFamilyIpv4 && family != kFamilyIpv6) {
    return Fail("ERR_STUN_ADDRESS_FAMILY", "unknown address family " + std::to_string(family));
  }
  return Status::Ok();
}

}  // namespace

const char* AttributeName(uint16_t type) {
  switch (type) {
    case attr::kMappedAddress:
      return "MAPPED-ADDRESS";
    case attr::kUsername:
      return "USERNAME";
    case attr::kMessageIntegrity:
      return "MESSAGE-INTEGRITY";
    case attr::kErrorCode:
      return "ERROR-CODE";
    case attr::kUnknownAttributes:
      return "UNKNOWN-ATTRIBUTES";
    case attr::kChannelNumber:
      return "CHANNEL-NUMBER";
    case attr::kLifetime:
      return "LIFETIME";
    case attr::kXorPeerAddress:
      return "XOR-PEER-ADDRESS";
    case attr::kData:
      return "DATA";
    case attr::kRealm:
      return "REALM";
    case attr::kNonce:
      return "NONCE";
    case attr::kXorRelayedAddress:
      return "XOR-RELAYED-ADDRESS";
    case attr::kRequestedAddressFamily:
      return "REQUESTED-ADDRESS-FAMILY";
    case attr::kEvenPort:
      return "EVEN-PORT";
    case attr::kRequestedTransport:
      return "REQUESTED-TRANSPORT";
    case attr::kDontFragment:
      return "DONT-FRAGMENT";
    case attr::kMessageIntegritySha256:
      return "MESSAGE-INTEGRITY-SHA256";
    case attr::kPasswordAlgorithm:
      return "PASSWORD-ALGORITHM";
    case attr::kUserhash:
      return "USERHASH";
    case attr::kPasswordAlgorithms:
      return "PASSWORD-ALGORITHMS";
    case attr::kAlternateDomain:
      return "ALTERNATE-DOMAIN";
    case attr::kXorMappedAddress:
      return "XOR-MAPPED-ADDRESS";
    case attr::kReservationToken:
      return "RESERVATION-TOKEN";
    case attr::kPriority:
      return "PRIORITY";
    case attr::kUseCandidate:
      return "USE-CANDIDATE";
    case attr::kSoftware:
      return "SOFTWARE";
    case attr::kAlternateServer:
      return "ALTERNATE-SERVER";
    case attr::kFingerprint:
      return "FINGERPRINT";
    case attr::kIceControlled:
      return "ICE-CONTROLLED";
    case attr::kIceControlling:
      return "ICE-CONTROLLING";
    default:
      return nullptr;
  }
}

const char* DefaultReason(uint16_t code) {
  switch (code) {
    case error::kTryAlternate:
      return "Try Alternate";
    case error::kBadRequest:
      return "Bad Request";
    case error::kUnauthorized:
      return "Unauthorized";
    case error::kForbidden:
      return "Forbidden";
    case error::kUnknownAttribute:
      return "Unknown Attribute";
    case error::kAllocationMismatch:
      return "Allocation Mismatch";
    case error::kStaleNonce:
      return "Stale Nonce";
    case error::kAddressFamilyNotSupported:
      return "Address Family not Supported";
    case error::kWrongCredentials:
      return "Wrong Credentials";
    case error::kUnsupportedTransportProtocol:
      return "Unsupported Transport Protocol";
    case error::kPeerAddressFamilyMismatch:
      return "Peer Address Family Mismatch";
    case error::kAllocationQuotaReached:
      return "Allocation Quota Reached";
    case error::kRoleConflict:
      return "Role Conflict";
    case error::kServerError:
      return "Server Error";
    case error::kInsufficientCapacity:
      return "Insufficient Capacity";
    default:
      return "";
  }
}

Result<net::Address> DecodeAddress(ByteSpan value) {
  if (value.size < 4) {
    return Fail("ERR_STUN_ATTRIBUTE_LENGTH",
                "address value is " + std::to_string(value.size) + " bytes, at least 4 needed");
  }
  Status family = CheckFamily(value);
  if (!family.ok()) return family;
  ByteReader r(value);
  r.u8();  // reserved: ignored on receipt
  const bool v4 = r.u8() == kFamilyIpv4;
  const uint16_t port = r.u16();
  Status length = ExpectLength(value, v4 ? 8 : 20);
  if (!length.ok()) {
    return Fail("ERR_STUN_ATTRIBUTE_LENGTH",
                std::string(v4 ? "IPv4" : "IPv6") + " address " + length.message());
  }
  if (v4) {
    std::array<uint8_t, 4> ip{};
    std::memcpy(ip.data(), r.bytes(4).data, 4);
    return net::Address::Ipv4(ip, port);
  }
  std::array<uint8_t, 16> ip{};
  std::memcpy(ip.data(), r.bytes(16).data, 16);
  return net::Address::Ipv6(ip, port);
}

Result<net::Address> DecodeXorAddress(ByteSpan value, const TransactionId& tid) {
  auto plain = DecodeAddress(value);
  if (!plain.ok()) return plain.status();
  return Xored(plain.value(), tid);
}

std::vector<uint8_t> EncodeAddress(const net::Address& address) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u8(0);
  w.u8(address.isIpv4() ? kFamilyIpv4 : kFamilyIpv6);
  w.u16(address.port());
  w.bytes(ByteSpan(address.ipBytes(), address.ipSize()));
  return out;
}

std::vector<uint8_t> EncodeXorAddress(const net::Address& address, const TransactionId& tid) {
  return EncodeAddress(Xored(address, tid));
}

Result<ErrorCode> DecodeErrorCode(ByteSpan value) {
  if (value.size < 4) {
    return Fail("ERR_STUN_ATTRIBUTE_LENGTH",
                "value is " + std::to_string(value.size) + " bytes, at least 4 needed");
  }
  Status text = ExpectAtMost(value.sub(4, value.size - 4), kMaxTextSize);
  if (!text.ok()) return Fail("ERR_STUN_ATTRIBUTE_LENGTH", "reason phrase " + text.message());
  ByteReader r(value);
  r.u16();  // reserved
  const uint8_t cls = r.u8() & 0x07;
  const uint8_t number = r.u8();
  if (cls < 3 || cls > 6 || number > 99) {
    return Fail("ERR_STUN_ATTRIBUTE_VALUE", "class " + std::to_string(cls) + " number " +
                                                std::to_string(number) +
                                                " is not an error code (300..699)");
  }
  ErrorCode ec;
  ec.code = static_cast<uint16_t>(cls * 100 + number);
  ec.reason = std::string(r.text(value.size - 4));
  return ec;
}

Status CheckAttributeValue(uint16_t type, ByteSpan value) {
  Status s;
  switch (type) {
    case attr::kMappedAddress:
    case attr::kAlternateServer:
    case attr::kXorMappedAddress:
    case attr::kXorPeerAddress:
    case attr::kXorRelayedAddress:
      s = DecodeAddress(value).status();
      break;
    case attr::kUsername:
      s = ExpectAtMost(value, kMaxUsernameSize);
      break;
    case attr::kRealm:
    case attr::kNonce:
    case attr::kSoftware:
      s = ExpectAtMost(value, kMaxTextSize);
      break;
    case attr::kErrorCode:
      s = DecodeErrorCode(value).status();
      break;
    case attr::kUnknownAttributes:
      if (value.size % 2 != 0) {
        s = Fail("ERR_STUN_ATTRIBUTE_LENGTH",
                 "value is " + std::to_string(value.size) + " bytes, not a list of 16-bit types");
      }
      break;
    case attr::kMessageIntegrity:
      s = ExpectLength(value, kMessageIntegritySize);
      break;
    case attr::kMessageIntegritySha256:
      if (value.size < kMessageIntegritySha256MinSize ||
          value.size > kMessageIntegritySha256MaxSize || value.size % 4 != 0) {
        s = Fail("ERR_STUN_ATTRIBUTE_LENGTH",
                 "value is " + std::to_string(value.size) + " bytes, expected 16..32 in fours");
      }
      break;
    case attr::kFingerprint:
      s = ExpectLength(value, kFingerprintSize);
      break;
    case attr::kUserhash:
      s = ExpectLength(value, 32);
      break;
    case attr::kPasswordAlgorithm: {
      // Algorithm, parameters length, parameters (padded to 4 inside the value).
      ByteReader r(value);
      r.u16();
      const size_t params = r.u16();
      if (!r.ok() || value.size != 4 + ((params + 3) & ~size_t{3})) {
        s = Fail("ERR_STUN_ATTRIBUTE_LENGTH", "value is " + std::to_string(value.size) +
                                                  " bytes, inconsistent with its parameters");
      }
      break;
    }
    case attr::kPriority:
    case attr::kLifetime:
    case attr::kChannelNumber:
    case attr::kRequestedTransport:
      s = ExpectLength(value, 4);
      break;
    case attr::kRequestedAddressFamily:
      s = ExpectLength(value, 4);
      if (s.ok() && value.data[0] != kFamilyIpv4 && value.data[0] != kFamilyIpv6) {
        s = Fail("ERR_STUN_ADDRESS_FAMILY",
                 "unknown address family " + std::to_string(value.data[0]));
      }
      break;
    case attr::kIceControlled:
    case attr::kIceControlling:
    case attr::kReservationToken:
      s = ExpectLength(value, 8);
      break;
    case attr::kUseCandidate:
    case attr::kDontFragment:
      s = ExpectLength(value, 0);
      break;
    case attr::kEvenPort:
      s = ExpectLength(value, 1);
      break;
    default:
      break;  // DATA and attributes we only carry: any length
  }
  if (s.ok()) return s;
  const char* name = AttributeName(type);
  return Status::Fail(s.code(), std::string(name ? name : "attribute") + ": " + s.message());
}

const RawAttribute* Message::Find(uint16_t t) const {
  for (const auto& a : attributes) {
    if (a.type == t) return &a;
  }
  return nullptr;
}

std::optional<net::Address> Message::GetAddress(uint16_t t) const {
  const RawAttribute* a = Find(t);
  if (!a) return std::nullopt;
  auto r = DecodeAddress(a->value);
  if (!r.ok()) return std::nullopt;
  return r.value();
}

std::optional<net::Address> Message::GetXorAddress(uint16_t t) const {
  const RawAttribute* a = Find(t);
  if (!a) return std::nullopt;
  auto r = DecodeXorAddress(a->value, transactionId);
  if (!r.ok()) return std::nullopt;
  return r.value();
}

std::vector<net::Address> Message::GetAllXorAddresses(uint16_t t) const {
  std::vector<net::Address> out;
  for (const auto& a : attributes) {
    if (a.type != t) continue;
    auto r = DecodeXorAddress(a.value, transactionId);
    if (r.ok()) out.push_back(r.value());
  }
  return out;
}

std::optional<std::string_view> Message::GetText(uint16_t t) const {
  const RawAttribute* a = Find(t);
  if (!a) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(a->value.data()), a->value.size());
}

std::optional<ByteSpan> Message::GetBytes(uint16_t t) const {
  const RawAttribute* a = Find(t);
  if (!a) return std::nullopt;
  return ByteSpan(a->value);
}

std::optional<uint32_t> Message::GetU32(uint16_t t) const {
  const RawAttribute* a = Find(t);
  if (!a || a->value.size() != 4) return std::nullopt;
  return ByteReader(a->value).u32();
}

std::optional<uint64_t> Message::GetU64(uint16_t t) const {
  const RawAttribute* a = Find(t);
  if (!a || a->value.size() != 8) return std::nullopt;
  return ByteReader(a->value).u64();
}

std::optional<ErrorCode> Message::GetErrorCode() const {
  const RawAttribute* a = Find(attr::kErrorCode);
  if (!a) return std::nullopt;
  auto r = DecodeErrorCode(a->value);
  if (!r.ok()) return std::nullopt;
  return r.take();
}

std::optional<std::vector<uint16_t>> Message::GetUnknownAttributes() const {
  const RawAttribute* a = Find(attr::kUnknownAttributes);
  if (!a || a->value.size() % 2 != 0) return std::nullopt;
  std::vector<uint16_t> out;
  ByteReader r(a->value);
  while (r.remaining() > 0) out.push_back(r.u16());
  return out;
}

std::optional<uint16_t> Message::GetChannelNumber() const {
  const RawAttribute* a = Find(attr::kChannelNumber);
  if (!a || a->value.size() != 4) return std::nullopt;
  return ByteReader(a->value).u16();
}

std::optional<uint8_t> Message::GetRequestedTransport() const {
  const RawAttribute* a = Find(attr::kRequestedTransport);
  if (!a || a->value.size() != 4) return std::nullopt;
  return a->value[0];
}

std::optional<net::Family> Message::GetRequestedAddressFamily() const {
  const RawAttribute* a = Find(attr::kRequestedAddressFamily);
  if (!a || a->value.size() != 4) return std::nullopt;
  if (a->value[0] == kFamilyIpv4) return net::Family::kIpv4;
  if (a->value[0] == kFamilyIpv6) return net::Family::kIpv6;
  return std::nullopt;
}

std::optional<bool> Message::GetEvenPort() const {
  const RawAttribute* a = Find(attr::kEvenPort);
  if (!a || a->value.size() != 1) return std::nullopt;
  return (a->value[0] & 0x80) != 0;
}

Message& Message::AddAddress(uint16_t t, const net::Address& address) {
  attributes.push_back({t, EncodeAddress(address)});
  return *this;
}

Message& Message::AddXorAddress(uint16_t t, const net::Address& address) {
  attributes.push_back({t, EncodeXorAddress(address, transactionId)});
  return *this;
}

Message& Message::AddText(uint16_t t, std::string_view text) {
  attributes.push_back({t, std::vector<uint8_t>(text.begin(), text.end())});
  return *this;
}

Message& Message::AddBytes(uint16_t t, ByteSpan bytes) {
  attributes.push_back({t, std::vector<uint8_t>(bytes.data, bytes.data + bytes.size)});
  return *this;
}

Message& Message::AddU32(uint16_t t, uint32_t value) {
  RawAttribute a{t, {}};
  ByteWriter(a.value).u32(value);
  attributes.push_back(std::move(a));
  return *this;
}

Message& Message::AddU64(uint16_t t, uint64_t value) {
  RawAttribute a{t, {}};
  ByteWriter(a.value).u64(value);
  attributes.push_back(std::move(a));
  return *this;
}

Message& Message::AddFlag(uint16_t t) {
  attributes.push_back({t, {}});
  return *this;
}

Message& Message::AddErrorCode(uint16_t code, std::string_view reason) {
  RawAttribute a{attr::kErrorCode, {}};
  ByteWriter w(a.value);
  w.u16(0);
  w.u8(static_cast<uint8_t>(code / 100));
  w.u8(static_cast<uint8_t>(code % 100));
  w.text(reason);
  attributes.push_back(std::move(a));
  return *this;
}

Message& Message::AddUnknownAttributes(const std::vector<uint16_t>& types) {
  RawAttribute a{attr::kUnknownAttributes, {}};
  ByteWriter w(a.value);
  for (uint16_t t : types) w.u16(t);
  attributes.push_back(std::move(a));
  return *this;
}

Message& Message::AddChannelNumber(uint16_t channel) {
  RawAttribute a{attr::kChannelNumber, {}};
  ByteWriter w(a.value);
  w.u16(channel);
  w.u16(0);  // RFFU
  attributes.push_back(std::move(a));
  return *this;
}

Message& Message::AddRequestedTransport(uint8_t protocol) {
  attributes.push_back({attr::kRequestedTransport, {protocol, 0, 0, 0}});
  return *this;
}

Message& Message::AddRequestedAddressFamily(net::Family family) {
  const uint8_t f = family == net::Family::kIpv4 ? kFamilyIpv4 : kFamilyIpv6;
  attributes.push_back({attr::kRequestedAddressFamily, {f, 0, 0, 0}});
  return *this;
}

Message& Message::AddEvenPort(bool reserveNext) {
  attributes.push_back({attr::kEvenPort, {static_cast<uint8_t>(reserveNext ? 0x80 : 0)}});
  return *this;
}

}  // namespace kvs::stun
