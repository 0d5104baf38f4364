// STUN message parsing and serialization (RFC 8489 §5, §14), and the quick test RFC 7983
// demultiplexing needs. Pure functions over bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "stun/stun_message.h"

namespace kvs::stun {

// True when a datagram is a STUN message by its header: first two bits zero, the magic
// cookie, a length that is a multiple of 4 and matches the datagram. Cheap; no allocation.
bool IsStunMessage(ByteSpan datagram);

// Why a datagram is not a well-formed STUN header, or Ok.
//   ERR_STUN_TRUNCATED     fewer than 20 bytes
//   ERR_STUN_NOT_STUN      the first two bits are not zero
//   ERR_STUN_BAD_COOKIE    no magic cookie (RFC 3489 messages are not supported)
//   ERR_STUN_BAD_LENGTH    length not a multiple of 4, or not the datagram's size less 20
Status CheckHeader(ByteSpan datagram);

// Walks the attribute TLVs of a message whose header CheckHeader() accepted.
class AttributeWalker {
 public:
  explicit AttributeWalker(ByteSpan message);
  // Steps to the next attribute. False at the end (status() ok) or on a malformed TLV:
  //   ERR_STUN_ATTRIBUTE_TRUNCATED  an attribute header or its padded value runs past the end
  bool Next();
  uint16_t type() const { return type_; }
  ByteSpan value() const { return value_; }
  size_t offset() const { return offset_; }  // of the attribute's header, from the message start
  size_t end() const { return next_; }       // just past its padding
  const Status& status() const { return status_; }

 private:
  ByteSpan message_;
  size_t next_ = kHeaderSize;
  size_t offset_ = 0;
  uint16_t type_ = 0;
  ByteSpan value_;
  Status status_;
};

// Parses a STUN datagram (or one de-framed from a stream). Beyond CheckHeader() and the
// walker's codes:
//   ERR_STUN_ATTRIBUTE_LENGTH     a known attribute's value has the wrong size
//   ERR_STUN_ADDRESS_FAMILY       an address attribute's family is neither IPv4 nor IPv6
//   ERR_STUN_ATTRIBUTE_VALUE      a field out of range (ERROR-CODE class or number)
//   ERR_STUN_FINGERPRINT_NOT_LAST an attribute follows FINGERPRINT
// Attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT,
// and after MESSAGE-INTEGRITY-SHA256 other than FINGERPRINT, are ignored (RFC 8489 §14.5-6).
// Unknown comprehension-optional attributes are kept; unknown comprehension-required ones
// are kept and listed in unknownRequired. Parsing never checks the integrity or the
// fingerprint: do that on the same bytes with stun_integrity.h.
Result<Message> Parse(ByteSpan datagram);

struct EncodeOptions {
  // Appends MESSAGE-INTEGRITY and/or MESSAGE-INTEGRITY-SHA256 computed with this key.
  bool messageIntegrity = false;
  bool messageIntegritySha256 = false;
  ByteSpan key;
  bool fingerprint = false;
  // RFC 8489 pads with zeros. RFC 5389 let a sender pad with any value and the RFC 5769
  // vectors pad with 0x20; this exists only to reproduce such messages byte for byte.
  uint8_t paddingByte = 0;
};

// Serializes a message, computing the integrity attributes and FINGERPRINT last.
//   ERR_STUN_TOO_LARGE  an attribute value or the whole message exceeds 16-bit lengths
//   ERR_STUN_EMPTY_KEY  integrity asked for with an empty key
Result<std::vector<uint8_t>> Serialize(const Message& message, const EncodeOptions& options);
// No integrity, no fingerprint.
Result<std::vector<uint8_t>> Serialize(const Message& message);
// MESSAGE-INTEGRITY with key, then FINGERPRINT (what ICE checks and TURN requests carry).
Result<std::vector<uint8_t>> SerializeWithIntegrity(const Message& message, ByteSpan key,
                                                    bool fingerprint = true);

}  // namespace kvs::stun
