#include "media/rtp_payload.h"

#include <cstring>

namespace kvs::media {

SharedBytes MakeShared(std::vector<uint8_t> bytes) {
  return std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
}

ByteSpan RtpPayload::Slice() const {
  if (!source) return {};
  return ByteSpan(*source).sub(offset, length);
}

void RtpPayload::WriteTo(uint8_t* out) const {
  if (prefixSize != 0) std::memcpy(out, prefix.data(), prefixSize);
  ByteSpan slice = Slice();
  if (slice.size != 0) std::memcpy(out + prefixSize, slice.data, slice.size);
}

std::vector<uint8_t> RtpPayload::ToBytes() const {
  std::vector<uint8_t> bytes(size());
  if (!bytes.empty()) WriteTo(bytes.data());
  return bytes;
}

}  // namespace kvs::media
