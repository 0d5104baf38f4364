#include "sctp/dcep.h"

#include <limits>
#include <string_view>

namespace kvs::sctp {
namespace {

Status Fail(const char* code, std::string message) {
  return Status::Fail(code, std::move(message));
}

bool DecodeChannelType(uint8_t type, Reliability* reliability, bool* ordered) {
  switch (type) {
    case kChannelReliable:
    case kChannelReliableUnordered:
      *reliability = Reliability::kReliable;
      break;
    case kChannelPartialReliableRexmit:
    case kChannelPartialReliableRexmitUnordered:
      *reliability = Reliability::kRexmit;
      break;
    case kChannelPartialReliableTimed:
    case kChannelPartialReliableTimedUnordered:
      *reliability = Reliability::kTimed;
      break;
    default:
      return false;
  }
  *ordered = (type & 0x80) == 0;
  return true;
}

ByteSpan SpanOf(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

uint8_t ChannelTypeByte(Reliability reliability, bool ordered) {
  uint8_t low = 0;
  switch (reliability) {
    case Reliability::kReliable:
      low = kChannelReliable;
      break;
    case Reliability::kRexmit:
      low = kChannelPartialReliableRexmit;
      break;
    case Reliability::kTimed:
      low = kChannelPartialReliableTimed;
      break;
  }
  return static_cast<uint8_t>(ordered ? low : (low | 0x80));
}

bool IsValidUtf8(ByteSpan bytes) {
  size_t i = 0;
  while (i < bytes.size) {
    const uint8_t b = bytes.data[i];
    size_t extra = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      extra = 1;
      cp = b & 0x1Fu;
    } else if ((b & 0xF0) == 0xE0) {
      extra = 2;
      cp = b & 0x0Fu;
    } else if ((b & 0xF8) == 0xF0) {
      extra = 3;
      cp = b & 0x07u;
    } else {
      return false;  // a continuation byte or 0xF8..0xFF where a sequence must start
    }
    if (extra > bytes.size - i - 1) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const uint8_t c = bytes.data[i + k];
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[extra]) return false;     // overlong
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // UTF-16 surrogate
    if (cp > 0x10FFFF) return false;
    i += extra + 1;
  }
  return true;
}

Result<uint8_t> PeekDcepType(ByteSpan payload) {
  if (payload.size == 0) return Fail("ERR_DCEP_TRUNCATED", "empty DCEP message");
  return payload.data[0];
}

Result<DcepOpen> ParseDcepOpen(ByteSpan payload) {
  ByteReader r(payload);
  const uint8_t messageType = r.u8();
  const uint8_t channelType = r.u8();
  const uint16_t priority = r.u16();
  const uint32_t reliabilityParameter = r.u32();
  const uint16_t labelLength = r.u16();
  const uint16_t protocolLength = r.u16();
  if (!r.ok()) {
    return Fail("ERR_DCEP_TRUNCATED", "DATA_CHANNEL_OPEN of " + std::to_string(payload.size) +
                                          " bytes is shorter than its 12-byte header");
  }
  if (messageType != kDcepOpen) {
    return Fail("ERR_DCEP_TYPE", "DCEP message type " + std::to_string(messageType) +
                                     " is not DATA_CHANNEL_OPEN (3)");
  }
  DcepOpen open;
  if (!DecodeChannelType(channelType, &open.reliability, &open.ordered)) {
    return Fail("ERR_DCEP_CHANNEL_TYPE",
                "unknown DCEP channel type " + std::to_string(channelType));
  }
  open.priority = priority;
  open.reliabilityParameter = open.reliability == Reliability::kReliable ? 0 : reliabilityParameter;
  const std::string_view label = r.text(labelLength);
  const std::string_view protocol = r.text(protocolLength);
  if (!r.ok()) {
    return Fail("ERR_DCEP_TRUNCATED",
                "DATA_CHANNEL_OPEN declares a " + std::to_string(labelLength) +
                    "-byte label and a " + std::to_string(protocolLength) +
                    "-byte protocol but carries " +
                    std::to_string(payload.size - kDcepOpenHeaderSize) + " bytes");
  }
  if (r.remaining() != 0) {
    return Fail("ERR_DCEP_TRAILING",
                std::to_string(r.remaining()) + " bytes follow the protocol of DATA_CHANNEL_OPEN");
  }
  if (!IsValidUtf8(SpanOf(label)) || !IsValidUtf8(SpanOf(protocol))) {
    return Fail("ERR_DCEP_UTF8", "DATA_CHANNEL_OPEN label or protocol is not UTF-8");
  }
  open.label.assign(label);
  open.protocol.assign(protocol);
  return open;
}

Result<std::vector<uint8_t>> BuildDcepOpen(const DcepOpen& open) {
  constexpr size_t kMax = std::numeric_limits<uint16_t>::max();
  if (open.label.size() > kMax || open.protocol.size() > kMax) {
    return Fail("ERR_DCEP_TOO_LONG",
                "a data channel label or protocol is limited to 65535 "
                "bytes");
  }
  if (!IsValidUtf8(SpanOf(open.label)) || !IsValidUtf8(SpanOf(open.protocol))) {
    return Fail("ERR_DCEP_UTF8", "a data channel label or protocol must be UTF-8");
  }
  std::vector<uint8_t> out;
  out.reserve(kDcepOpenHeaderSize + open.label.size() + open.protocol.size());
  ByteWriter w(out);
  w.u8(kDcepOpen);
  w.u8(ChannelTypeByte(open.reliability, open.ordered));
  w.u16(open.priority);
  w.u32(open.reliability == Reliability::kReliable ? 0 : open.reliabilityParameter);
  w.u16(static_cast<uint16_t>(open.label.size()));
  w.u16(static_cast<uint16_t>(open.protocol.size()));
  w.text(open.label);
  w.text(open.protocol);
  return out;
}

Status ParseDcepAck(ByteSpan payload) {
  if (payload.size == 0) return Fail("ERR_DCEP_TRUNCATED", "empty DCEP message");
  if (payload.data[0] != kDcepAck) {
    return Fail("ERR_DCEP_TYPE", "DCEP message type " + std::to_string(payload.data[0]) +
                                     " is not DATA_CHANNEL_ACK (2)");
  }
  if (payload.size != 1) {
    return Fail("ERR_DCEP_TRAILING",
                std::to_string(payload.size - 1) + " bytes follow DATA_CHANNEL_ACK");
  }
  return Status::Ok();
}

std::vector<uint8_t> BuildDcepAck() { return {kDcepAck}; }

}  // namespace kvs::sctp
