// TURN ChannelData messages (RFC 8656 §12.4): channel number, length, application data, and
// over TCP/TLS padding to a multiple of 4. The first byte, 0x40..0x4F, is what RFC 7983
// demultiplexing sees.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace kvs::stun {

constexpr size_t kChannelDataHeaderSize = 4;

struct ChannelData {
  uint16_t channel = 0;
  ByteSpan data;  // points into the parsed buffer
};

// True when the first byte is in the ChannelData range (channel numbers 0x4000..0x4FFF).
bool IsChannelData(ByteSpan packet);

// Parses one ChannelData message. The data may be followed by its padding to 4 (required over
// TCP, optional over UDP) and by nothing else.
//   ERR_TURN_CHANNEL_DATA_TRUNCATED  shorter than the header or than the declared length
//   ERR_TURN_CHANNEL_NUMBER          the channel number is outside 0x4000..0x4FFF
//   ERR_TURN_CHANNEL_DATA_LENGTH     anything but the padding follows the data
Result<ChannelData> ParseChannelData(ByteSpan packet);

// Serializes a ChannelData message; padded to 4 when padToFour (always over TCP/TLS).
//   ERR_TURN_CHANNEL_NUMBER, ERR_TURN_CHANNEL_DATA_LENGTH (over 65535 bytes of data)
Result<std::vector<uint8_t>> SerializeChannelData(uint16_t channel, ByteSpan data, bool padToFour);

}  // namespace kvs::stun
