// Generic NACK (RFC 4585 §6.2.1), RTPFB FMT 1: lost packets as PID + BLP pairs, where PID is
// a lost sequence number and bit i of BLP means PID + i + 1 is lost too.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "rtp/array_view.h"
#include "rtp/rtcp_packet.h"

namespace kvs::rtp {

struct NackItem {
  uint16_t pid = 0;
  uint16_t blp = 0;

  bool operator==(const NackItem& o) const { return pid == o.pid && blp == o.blp; }
};

struct Nack {
  uint32_t senderSsrc = 0;
  uint32_t mediaSsrc = 0;  // the stream whose packets are missing
  std::vector<NackItem> items;

  bool operator==(const Nack& o) const {
    return senderSsrc == o.senderSsrc && mediaSsrc == o.mediaSsrc && items == o.items;
  }
};

// Compresses any list of sequence numbers (any order, repeats allowed, across the 16-bit wrap)
// into the fewest items. Each number is unwrapped next to the one before it (unwrap.h), so a
// list such as {65534, 1, 65535, 0} packs as one run; the items come out in that order. Each
// number is named once even when the list spreads over more than half the space (where no
// order is meaningful).
std::vector<NackItem> PackNack(ArrayView<uint16_t> sequenceNumbers);
// Every sequence number the items name, item by item and in bit order. A well-formed NACK
// names each once; this does not remove repeats between overlapping items.
std::vector<uint16_t> UnpackNack(ArrayView<NackItem> items);

// ERR_RTCP_WRONG_TYPE unless RTPFB FMT 1; ERR_RTCP_TRUNCATED under the feedback header;
// ERR_RTCP_MALFORMED when the FCI is empty or not whole 4-byte items.
Result<Nack> ParseNack(const RtcpPacketView& p);

// ERR_RTCP_INVALID_ARGUMENT with no items or more than fit one RTCP packet. A NACK of many
// scattered losses can exceed the MTU: split the items over several packets.
Status WriteRtcp(const Nack& nack, ByteWriter& w);

}  // namespace kvs::rtp
