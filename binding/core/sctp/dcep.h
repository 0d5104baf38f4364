// The Data Channel Establishment Protocol (RFC 8832) and the SCTP payload protocol
// identifiers of WebRTC data channels (RFC 8831 §8, RFC 8832 §8.1). A pure codec: bytes in,
// values out, every read bounds-checked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace kvs::sctp {

// SCTP PPIDs (IANA "SCTP Payload Protocol Identifiers").
constexpr uint32_t kPpidDcep = 50;
constexpr uint32_t kPpidString = 51;
constexpr uint32_t kPpidBinaryPartial = 52;  // deprecated (RFC 8831 §8): fragments of binary
constexpr uint32_t kPpidBinary = 53;
constexpr uint32_t kPpidStringPartial = 54;  // deprecated (RFC 8831 §8): fragments of a string
constexpr uint32_t kPpidStringEmpty = 56;    // an empty string: one zero byte on the wire
constexpr uint32_t kPpidBinaryEmpty = 57;    // an empty binary message: one zero byte

// DCEP message types (RFC 8832 §8.2.1).
constexpr uint8_t kDcepAck = 0x02;
constexpr uint8_t kDcepOpen = 0x03;

// The size of DATA_CHANNEL_OPEN before its label and protocol (RFC 8832 §5.1).
constexpr size_t kDcepOpenHeaderSize = 12;

enum class Reliability : uint8_t {
  kReliable,  // full reliability
  kRexmit,    // PR-SCTP limited by a number of retransmissions
  kTimed,     // PR-SCTP limited by a lifetime in milliseconds
};

// The six channel types of RFC 8832 §8.2.2: the high bit says unordered, the low bits the
// reliability.
constexpr uint8_t kChannelReliable = 0x00;
constexpr uint8_t kChannelReliableUnordered = 0x80;
constexpr uint8_t kChannelPartialReliableRexmit = 0x01;
constexpr uint8_t kChannelPartialReliableRexmitUnordered = 0x81;
constexpr uint8_t kChannelPartialReliableTimed = 0x02;
constexpr uint8_t kChannelPartialReliableTimedUnordered = 0x82;

uint8_t ChannelTypeByte(Reliability reliability, bool ordered);

// Priorities of RFC 8831 §6.4 as the W3C maps them (any 16-bit value is accepted on input).
constexpr uint16_t kPriorityBelowNormal = 128;
constexpr uint16_t kPriorityNormal = 256;
constexpr uint16_t kPriorityHigh = 512;
constexpr uint16_t kPriorityExtraHigh = 1024;

struct DcepOpen {
  Reliability reliability = Reliability::kReliable;
  bool ordered = true;
  uint16_t priority = kPriorityNormal;
  // Retransmissions for kRexmit, milliseconds for kTimed; ignored (and sent as 0) when
  // reliable, as RFC 8832 §5.1 says.
  uint32_t reliabilityParameter = 0;
  std::string label;     // UTF-8
  std::string protocol;  // UTF-8

  bool operator==(const DcepOpen& o) const {
    return reliability == o.reliability && ordered == o.ordered && priority == o.priority &&
           reliabilityParameter == o.reliabilityParameter && label == o.label &&
           protocol == o.protocol;
  }
};

// The message type of a PPID-50 payload, or an error for an empty payload.
Result<uint8_t> PeekDcepType(ByteSpan payload);

// DATA_CHANNEL_OPEN. Errors: ERR_DCEP_TRUNCATED, ERR_DCEP_TYPE (not an OPEN),
// ERR_DCEP_CHANNEL_TYPE (not one of the six), ERR_DCEP_TRAILING (bytes after the protocol),
// ERR_DCEP_UTF8 (label or protocol not UTF-8).
Result<DcepOpen> ParseDcepOpen(ByteSpan payload);
// ERR_DCEP_TOO_LONG when the label or protocol does not fit its 16-bit length,
// ERR_DCEP_UTF8 when either is not UTF-8.
Result<std::vector<uint8_t>> BuildDcepOpen(const DcepOpen& open);

// DATA_CHANNEL_ACK: exactly one byte, 0x02.
Status ParseDcepAck(ByteSpan payload);
std::vector<uint8_t> BuildDcepAck();

// Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(ByteSpan bytes);

}  // namespace kvs::sctp
