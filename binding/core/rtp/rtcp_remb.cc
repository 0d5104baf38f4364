#include "rtp/rtcp_remb.h"

#include <string>

#include "rtp/rtp_errors.h"

namespace kvs::rtp {

namespace {

constexpr uint32_t kRembIdentifier = 0x52454D42;  // "REMB"
constexpr uint32_t kMantissaLimit = 1u << 18;

}  // namespace

bool IsRemb(const RtcpPacketView& p) {
  if (p.type != kRtcpPsfb || p.count != kFmtAfb || p.body.size < 12) return false;
  ByteReader r(p.body.sub(8, 4));
  return r.u32() == kRembIdentifier;
}

RembBitrate EncodeRembBitrate(uint64_t bps) {
  RembBitrate b;
  while ((bps >> b.exponent) >= kMantissaLimit) ++b.exponent;  // at most 46 for 64 bits
  b.mantissa = static_cast<uint32_t>(bps >> b.exponent);
  return b;
}

Result<Remb> ParseRemb(const RtcpPacketView& p) {
  if (p.type != kRtcpPsfb || p.count != kFmtAfb) {
    return Status::Fail(kErrRtcpWrongType, "not application layer feedback (type " +
                                               std::to_string(p.type) + ", FMT " +
                                               std::to_string(p.count) + ")");
  }
  auto header = ParseFeedbackHeader(p);
  if (!header.ok()) return header.status();
  ByteReader r(header.value().fci);
  const uint32_t identifier = r.u32();
  const uint8_t count = r.u8();
  const uint32_t packed = r.u24();
  if (!r.ok() || identifier != kRembIdentifier) {
    return Status::Fail(kErrRtcpRemb, "application layer feedback that is not REMB");
  }
  if (r.remaining() != 4 * size_t{count}) {
    return Status::Fail(kErrRtcpRemb, "REMB with " + std::to_string(count) + " SSRCs in " +
                                          std::to_string(r.remaining()) + " bytes");
  }
  const unsigned exponent = packed >> 18;
  const uint64_t mantissa = packed & (kMantissaLimit - 1);
  if (exponent > 46 && (mantissa >> (64 - exponent)) != 0) {
    return Status::Fail(kErrRtcpRemb, "REMB bitrate overflows 64 bits");
  }
  Remb remb;
  remb.senderSsrc = header.value().senderSsrc;
  remb.bitrateBps = mantissa << exponent;
  remb.ssrcs.resize(count);
  for (uint32_t& ssrc : remb.ssrcs) ssrc = r.u32();
  return remb;
}

Status WriteRtcp(const Remb& remb, ByteWriter& w) {
  if (remb.ssrcs.size() > 255) {
    return Status::Fail(kErrRtcpInvalidArgument,
                        "REMB with " + std::to_string(remb.ssrcs.size()) + " SSRCs");
  }
  const RembBitrate b = EncodeRembBitrate(remb.bitrateBps);
  const size_t start = BeginRtcpPacket(w, kFmtAfb, kRtcpPsfb);
  w.u32(remb.senderSsrc);
  w.u32(0);  // media source: unused
  w.u32(kRembIdentifier);
  w.u8(static_cast<uint8_t>(remb.ssrcs.size()));
  w.u24(static_cast<uint32_t>(b.exponent) << 18 | b.mantissa);
  for (uint32_t ssrc : remb.ssrcs) w.u32(ssrc);
  EndRtcpPacket(w, start);
  return Status::Ok();
}

}  // namespace kvs::rtp
