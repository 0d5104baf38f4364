#include "rtp/rtcp_bye.h"

#include <string>

#include "rtp/rtp_errors.h"

namespace kvs::rtp {

Result<Bye> ParseBye(const RtcpPacketView& p) {
  if (p.type != kRtcpBye) {
    return Status::Fail(kErrRtcpWrongType, "packet type " + std::to_string(p.type) + " is not BYE");
  }
  ByteReader r(p.body);
  Bye bye;
  bye.ssrcs.reserve(p.count);
  for (size_t i = 0; i < p.count; ++i) bye.ssrcs.push_back(r.u32());
  if (!r.ok()) {
    return Status::Fail(kErrRtcpTruncated, "BYE with " + std::to_string(p.count) +
                                               " SSRCs in a body of " +
                                               std::to_string(p.body.size) + " bytes");
  }
  if (r.remaining() > 0) {
    const uint8_t length = r.u8();
    const std::string_view text = r.text(length);
    if (!r.ok()) {
      return Status::Fail(kErrRtcpTruncated,
                          "BYE reason of " + std::to_string(length) + " bytes runs past the body");
    }
    bye.reason = std::string(text);
  }
  return bye;
}

Status WriteRtcp(const Bye& bye, ByteWriter& w) {
  if (bye.ssrcs.size() > kMaxRtcpCount) {
    return Status::Fail(kErrRtcpInvalidArgument,
                        std::to_string(bye.ssrcs.size()) + " SSRCs in a BYE (at most 31)");
  }
  if (bye.reason && bye.reason->size() > 255) {
    return Status::Fail(kErrRtcpInvalidArgument,
                        "BYE reason of " + std::to_string(bye.reason->size()) + " bytes");
  }
  const size_t start = BeginRtcpPacket(w, static_cast<uint8_t>(bye.ssrcs.size()), kRtcpBye);
  for (uint32_t ssrc : bye.ssrcs) w.u32(ssrc);
  if (bye.reason) {
    w.u8(static_cast<uint8_t>(bye.reason->size()));
    w.text(*bye.reason);
  }
  EndRtcpPacket(w, start);  // zero padding to 32 bits, as §6.6 asks
  return Status::Ok();
}

}  // namespace kvs::rtp
