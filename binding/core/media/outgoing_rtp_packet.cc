#include "media/outgoing_rtp_packet.h"

#include <cstring>

#include "rtp/rtp_extension_codecs.h"

namespace kvs::media {

void OutgoingRtpPacket::WriteTo(uint8_t* out) const {
  std::memcpy(out, header.data(), headerSize);
  payload.WriteTo(out + headerSize);
}

void OutgoingRtpPacket::SetAbsSendTime(int64_t sendUs) {
  if (absSendTimeOffset == 0) return;
  const auto v = rtp::EncodeAbsSendTime(rtp::AbsSendTimeFromMicros(sendUs));
  std::memcpy(header.data() + absSendTimeOffset, v.data(), v.size());
}

}  // namespace kvs::media
