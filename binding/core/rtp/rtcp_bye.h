// Goodbye (RFC 3550 §6.6), BYE (203): the SSRCs (and CSRCs) leaving, and an optional reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "rtp/rtcp_packet.h"

namespace kvs::rtp {

struct Bye {
  std::vector<uint32_t> ssrcs;        // at most 31; none is valid if useless
  std::optional<std::string> reason;  // at most 255 bytes; absent is not the same as empty

  bool operator==(const Bye& o) const { return ssrcs == o.ssrcs && reason == o.reason; }
};

// ERR_RTCP_WRONG_TYPE; ERR_RTCP_TRUNCATED when the SC SSRCs or the reason's text run past the
// body. Any byte after the SSRCs starts a reason (its length octet).
Result<Bye> ParseBye(const RtcpPacketView& p);

// ERR_RTCP_INVALID_ARGUMENT for more than 31 SSRCs or a reason over 255 bytes.
Status WriteRtcp(const Bye& bye, ByteWriter& w);

}  // namespace kvs::rtp
