// STUN (RFC 8489), ICE (RFC 8445) and TURN (RFC 8656) wire constants.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kvs::stun {

constexpr uint32_t kMagicCookie = 0x2112A442;
constexpr uint32_t kFingerprintXor = 0x5354554E;
constexpr size_t kHeaderSize = 20;
constexpr size_t kTransactionIdSize = 12;
constexpr size_t kAttributeHeaderSize = 4;
constexpr size_t kMessageIntegritySize = 20;  // HMAC-SHA1
constexpr size_t kMessageIntegritySha256MinSize = 16;
constexpr size_t kMessageIntegritySha256MaxSize = 32;
constexpr size_t kFingerprintSize = 4;
// RFC 8489 §14: USERNAME < 513 bytes; REALM, NONCE, SOFTWARE and the reason phrase < 763.
constexpr size_t kMaxUsernameSize = 513;
constexpr size_t kMaxTextSize = 763;

enum class Method : uint16_t {
  kBinding = 0x001,
  kAllocate = 0x003,
  kRefresh = 0x004,
  kSend = 0x006,
  kData = 0x007,
  kCreatePermission = 0x008,
  kChannelBind = 0x009,
};

enum class Class : uint8_t {
  kRequest = 0,
  kIndication = 1,
  kSuccessResponse = 2,
  kErrorResponse = 3,
};

// Attribute types. Below 0x8000 comprehension-required, from 0x8000 comprehension-optional.
namespace attr {
constexpr uint16_t kMappedAddress = 0x0001;
constexpr uint16_t kUsername = 0x0006;
constexpr uint16_t kMessageIntegrity = 0x0008;
constexpr uint16_t kErrorCode = 0x0009;
constexpr uint16_t kUnknownAttributes = 0x000A;
constexpr uint16_t kChannelNumber = 0x000C;
constexpr uint16_t kLifetime = 0x000D;
constexpr uint16_t kXorPeerAddress = 0x0012;
constexpr uint16_t kData = 0x0013;
constexpr uint16_t kRealm = 0x0014;
constexpr uint16_t kNonce = 0x0015;
constexpr uint16_t kXorRelayedAddress = 0x0016;
constexpr uint16_t kRequestedAddressFamily = 0x0017;
constexpr uint16_t kEvenPort = 0x0018;
constexpr uint16_t kRequestedTransport = 0x0019;
constexpr uint16_t kDontFragment = 0x001A;
constexpr uint16_t kMessageIntegritySha256 = 0x001C;
constexpr uint16_t kPasswordAlgorithm = 0x001D;
constexpr uint16_t kUserhash = 0x001E;
constexpr uint16_t kXorMappedAddress = 0x0020;
constexpr uint16_t kReservationToken = 0x0022;
constexpr uint16_t kPriority = 0x0024;
constexpr uint16_t kUseCandidate = 0x0025;
constexpr uint16_t kPasswordAlgorithms = 0x8002;
constexpr uint16_t kAlternateDomain = 0x8003;
constexpr uint16_t kSoftware = 0x8022;
constexpr uint16_t kAlternateServer = 0x8023;
constexpr uint16_t kFingerprint = 0x8028;
constexpr uint16_t kIceControlled = 0x8029;
constexpr uint16_t kIceControlling = 0x802A;
}  // namespace attr

constexpr bool IsComprehensionRequired(uint16_t type) { return type < 0x8000; }

// The attribute's name for error messages ("0x1234" for types we do not know).
const char* AttributeName(uint16_t type);

// Error response codes used by STUN, ICE and TURN.
namespace error {
constexpr uint16_t kTryAlternate = 300;
constexpr uint16_t kBadRequest = 400;
constexpr uint16_t kUnauthorized = 401;
constexpr uint16_t kForbidden = 403;
constexpr uint16_t kUnknownAttribute = 420;
constexpr uint16_t kAllocationMismatch = 437;
constexpr uint16_t kStaleNonce = 438;
constexpr uint16_t kAddressFamilyNotSupported = 440;
constexpr uint16_t kWrongCredentials = 441;
constexpr uint16_t kUnsupportedTransportProtocol = 442;
constexpr uint16_t kPeerAddressFamilyMismatch = 443;
constexpr uint16_t kAllocationQuotaReached = 486;
constexpr uint16_t kRoleConflict = 487;
constexpr uint16_t kServerError = 500;
constexpr uint16_t kInsufficientCapacity = 508;
}  // namespace error

// PASSWORD-ALGORITHM values (RFC 8489 §18.5).
constexpr uint16_t kPasswordAlgorithmMd5 = 0x0001;
constexpr uint16_t kPasswordAlgorithmSha256 = 0x0002;

// REQUESTED-TRANSPORT protocol numbers (IANA).
constexpr uint8_t kTransportUdp = 17;
constexpr uint8_t kTransportTcp = 6;

// TURN channel numbers (RFC 8656 §12).
constexpr uint16_t kMinChannelNumber = 0x4000;
constexpr uint16_t kMaxChannelNumber = 0x4FFF;
constexpr bool IsValidChannelNumber(uint16_t n) {
  return n >= kMinChannelNumber && n <= kMaxChannelNumber;
}

// Message type = method and class interleaved (RFC 8489 §5):
// M11..M7 C1 M6..M4 C0 M3..M0.
constexpr uint16_t MessageType(Method method, Class cls) {
  const auto m = static_cast<uint16_t>(method);
  const auto c = static_cast<uint16_t>(cls);
  return static_cast<uint16_t>(((m & 0xF80) << 2) | ((m & 0x070) << 1) | (m & 0x00F) |
                               ((c & 0x2) << 7) | ((c & 0x1) << 4));
}
constexpr uint16_t MethodBitsOf(uint16_t type) {
  return static_cast<uint16_t>(((type >> 2) & 0xF80) | ((type >> 1) & 0x070) | (type & 0x00F));
}
constexpr Class ClassOf(uint16_t type) {
  return static_cast<Class>(((type >> 7) & 0x2) | ((type >> 4) & 0x1));
}

}  // namespace kvs::stun
