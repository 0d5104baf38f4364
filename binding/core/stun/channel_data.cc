#include "stun/channel_data.h"

#include <string>

#include "stun/stun_constants.h"

namespace kvs::stun {

bool IsChannelData(ByteSpan packet) {
  return packet.size >= 1 && packet.data[0] >= 0x40 && packet.data[0] <= 0x4F;
}

Result<ChannelData> ParseChannelData(ByteSpan packet) {
  ByteReader r(packet);
  const uint16_t channel = r.u16();
  const uint16_t length = r.u16();
  if (!r.ok()) {
    return Status::Fail("ERR_TURN_CHANNEL_DATA_TRUNCATED",
                        "ChannelData header needs 4 bytes, got " + std::to_string(packet.size));
  }
  if (!IsValidChannelNumber(channel)) {
    return Status::Fail("ERR_TURN_CHANNEL_NUMBER",
                        "channel number " + std::to_string(channel) + " is outside 0x4000..0x4FFF");
  }
  ByteSpan data = r.bytes(length);
  if (!r.ok()) {
    return Status::Fail("ERR_TURN_CHANNEL_DATA_TRUNCATED",
                        "ChannelData declares " + std::to_string(length) + " bytes; " +
                            std::to_string(packet.size - kChannelDataHeaderSize) + " present");
  }
  const size_t padding = (4 - length % 4) % 4;
  if (r.remaining() != 0 && r.remaining() != padding) {
    return Status::Fail("ERR_TURN_CHANNEL_DATA_LENGTH",
                        std::to_string(r.remaining()) + " bytes follow the ChannelData data");
  }
  return ChannelData{channel, data};
}

Result<std::vector<uint8_t>> SerializeChannelData(uint16_t channel, ByteSpan data, bool padToFour) {
  if (!IsValidChannelNumber(channel)) {
    return Status::Fail("ERR_TURN_CHANNEL_NUMBER",
                        "channel number " + std::to_string(channel) + " is outside 0x4000..0x4FFF");
  }
  if (data.size > 0xFFFF) {
    return Status::Fail("ERR_TURN_CHANNEL_DATA_LENGTH",
                        std::to_string(data.size) + " bytes do not fit a ChannelData message");
  }
  std::vector<uint8_t> out;
  out.reserve(kChannelDataHeaderSize + data.size + 3);
  ByteWriter w(out);
  w.u16(channel);
  w.u16(static_cast<uint16_t>(data.size));
  w.bytes(data);
  if (padToFour) w.zeros((4 - data.size % 4) % 4);
  return out;
}

}  // namespace kvs::stun
