#include "rtp/rtp_packet.h"

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "rtp/rtp_errors.h"

namespace kvs::rtp {

namespace {

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Get32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

Status Truncated(const char* what, size_t need, size_t have) {
  return Status::Fail(kErrRtpTruncated, std::string(what) + " needs " + std::to_string(need) +
                                            " bytes, the datagram has " + std::to_string(have));
}

// Validates `h` and returns the header size and the resolved extension form.
Status Measure(const RtpHeader& h, size_t* size, ExtensionForm* form) {
  if (h.payloadType > kMaxPayloadType) {
    return Status::Fail(kErrRtpInvalidArgument,
                        "payload type " + std::to_string(h.payloadType) + " above 127");
  }
  if (h.csrcs.size() > kMaxCsrcs) {
    return Status::Fail(kErrRtpInvalidArgument,
                        std::to_string(h.csrcs.size()) + " CSRCs (at most 15)");
  }
  auto resolved = ResolveExtensionForm(h.extensions, h.extensionForm);
  if (!resolved.ok()) return resolved.status();
  *form = resolved.value();
  *size = kRtpFixedHeaderSize + 4 * h.csrcs.size() + HeaderExtensionBlockSize(h.extensions, *form);
  return Status::Ok();
}

// Writes a header Measure() accepted into `out` (size bytes).
void Emit(const RtpHeader& h, ExtensionForm form, uint8_t* out) {
  const bool extension = !h.extensions.empty();
  out[0] = static_cast<uint8_t>(kRtpVersion << 6 | (h.paddingSize != 0 ? 0x20 : 0) |
                                (extension ? 0x10 : 0) | h.csrcs.size());
  out[1] = static_cast<uint8_t>((h.marker ? 0x80 : 0) | h.payloadType);
  Put16(out + 2, h.sequenceNumber);
  Put32(out + 4, h.timestamp);
  Put32(out + 8, h.ssrc);
  uint8_t* p = out + kRtpFixedHeaderSize;
  for (uint32_t csrc : h.csrcs) {
    Put32(p, csrc);
    p += 4;
  }
  if (extension) (void)WriteHeaderExtensionBlock(h.extensions, form, p);  // size known
}

}  // namespace

Status ParseRtp(ByteSpan datagram, RtpPacketView* out) {
  const uint8_t* d = datagram.data;
  const size_t size = datagram.size;
  if (size < kRtpFixedHeaderSize) return Truncated("the fixed header", kRtpFixedHeaderSize, size);
  if ((d[0] >> 6) != kRtpVersion) {
    return Status::Fail(kErrRtpVersion, "version " + std::to_string(d[0] >> 6) + ", not 2");
  }
  RtpPacketView& v = *out;  // every field is assigned below: the view may be reused
  v.packet = datagram;
  const bool padding = (d[0] & 0x20) != 0;
  v.hasExtension = (d[0] & 0x10) != 0;
  v.csrcCount = d[0] & 0x0F;
  v.marker = (d[1] & 0x80) != 0;
  v.payloadType = d[1] & 0x7F;
  v.sequenceNumber = Get16(d + 2);
  v.timestamp = Get32(d + 4);
  v.ssrc = Get32(d + 8);

  size_t pos = kRtpFixedHeaderSize + 4 * size_t{v.csrcCount};
  if (pos > size) return Truncated("the CSRC list", pos, size);
  v.csrcBytes = ByteSpan(d + kRtpFixedHeaderSize, 4 * size_t{v.csrcCount});

  if (v.hasExtension) {
    if (pos + 4 > size) return Truncated("the extension header", pos + 4, size);
    v.extensionProfile = Get16(d + pos);
    const size_t bodySize = 4 * size_t{Get16(d + pos + 2)};
    pos += 4;
    if (bodySize > size - pos) return Truncated("the extension block", pos + bodySize, size);
    v.extensionBody = ByteSpan(d + pos, bodySize);
    pos += bodySize;
    if (Status s = HeaderExtensions::Parse(v.extensionProfile, v.extensionBody, &v.extensions);
        !s.ok()) {
      return s;
    }
  } else {
    v.extensionProfile = 0;
    v.extensionBody = ByteSpan();
    v.extensions.Clear();
  }
  v.headerSize = pos;

  size_t end = size;
  v.paddingSize = 0;
  if (padding) {
    const uint8_t pad = d[size - 1];
    if (pad == 0 || pad > size - pos) {
      return Status::Fail(kErrRtpPadding, "pad count " + std::to_string(pad) + " with " +
                                              std::to_string(size - pos) +
                                              " bytes after the header");
    }
    v.paddingSize = pad;
    end -= pad;
  }
  v.payload = ByteSpan(d + pos, end - pos);
  return Status::Ok();
}

Result<RtpPacketView> ParseRtp(ByteSpan datagram) {
  RtpPacketView v;
  Status s = ParseRtp(datagram, &v);
  if (!s.ok()) return s;
  return v;
}

Result<size_t> RtpHeaderSize(const RtpHeader& h) {
  size_t size = 0;
  ExtensionForm form = ExtensionForm::kAuto;
  Status s = Measure(h, &size, &form);
  if (!s.ok()) return s;
  return size;
}

Result<size_t> WriteRtpHeader(const RtpHeader& h, uint8_t* out, size_t capacity) {
  size_t size = 0;
  ExtensionForm form = ExtensionForm::kAuto;
  Status s = Measure(h, &size, &form);
  if (!s.ok()) return s;
  if (size > capacity) {
    return Status::Fail(kErrRtpBufferTooSmall, "the header needs " + std::to_string(size) +
                                                   " bytes, the buffer has " +
                                                   std::to_string(capacity));
  }
  Emit(h, form, out);
  return size;
}

Status WriteRtpHeader(const RtpHeader& h, ByteWriter& w) {
  size_t size = 0;
  ExtensionForm form = ExtensionForm::kAuto;
  Status s = Measure(h, &size, &form);
  if (!s.ok()) return s;
  // ByteWriter only appends: build in a stack buffer (every realistic header fits), or on the
  // heap for a huge extension block.
  std::array<uint8_t, 512> small;
  std::vector<uint8_t> large;
  uint8_t* buf = small.data();
  if (size > small.size()) {
    large.resize(size);
    buf = large.data();
  }
  Emit(h, form, buf);
  w.bytes(ByteSpan(buf, size));
  return Status::Ok();
}

Result<size_t> WriteRtpPacket(const RtpHeader& h, ByteSpan payload, uint8_t* out, size_t capacity) {
  size_t header = 0;
  ExtensionForm form = ExtensionForm::kAuto;
  Status s = Measure(h, &header, &form);
  if (!s.ok()) return s;
  const size_t total = header + payload.size + h.paddingSize;
  if (total > capacity) {
    return Status::Fail(kErrRtpBufferTooSmall, "the packet needs " + std::to_string(total) +
                                                   " bytes, the buffer has " +
                                                   std::to_string(capacity));
  }
  Emit(h, form, out);
  if (payload.size != 0) std::memcpy(out + header, payload.data, payload.size);
  WriteRtpPadding(h.paddingSize, out + header + payload.size);
  return total;
}

Status WriteRtpPacket(const RtpHeader& h, ByteSpan payload, ByteWriter& w) {
  Status s = WriteRtpHeader(h, w);
  if (!s.ok()) return s;
  w.bytes(payload);
  if (h.paddingSize != 0) {
    w.zeros(h.paddingSize - 1u);
    w.u8(h.paddingSize);
  }
  return Status::Ok();
}

void WriteRtpPadding(uint8_t size, uint8_t* out) {
  if (size == 0) return;
  std::memset(out, 0, size - 1u);
  out[size - 1u] = size;
}

}  // namespace kvs::rtp
