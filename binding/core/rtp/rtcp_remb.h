// Receiver Estimated Maximum Bitrate (draft-alvestrand-rmcat-remb-03), an application layer
// feedback message (PSFB FMT 15) whose FCI starts with "REMB": an SSRC count, the bitrate as
// a 6-bit exponent and an 18-bit mantissa, and the SSRCs it applies to.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "rtp/rtcp_packet.h"

namespace kvs::rtp {

// The header's media SSRC is unused and written as 0.
struct Remb {
  uint32_t senderSsrc = 0;
  // Bits per second. The wire keeps 18 significant bits, so writing rounds down to
  // mantissa << exponent; parsed values always write back exactly.
  uint64_t bitrateBps = 0;
  std::vector<uint32_t> ssrcs;  // at most 255

  bool operator==(const Remb& o) const {
    return senderSsrc == o.senderSsrc && bitrateBps == o.bitrateBps && ssrcs == o.ssrcs;
  }
};

// Is this PSFB FMT 15 packet a REMB (its FCI starts with "REMB")? Other AFB messages exist.
bool IsRemb(const RtcpPacketView& p);

// ERR_RTCP_WRONG_TYPE unless PSFB FMT 15; ERR_RTCP_TRUNCATED under the feedback header;
// ERR_RTCP_REMB when the identifier is not "REMB", the FCI length does not match the SSRC
// count, or mantissa << exponent does not fit 64 bits.
Result<Remb> ParseRemb(const RtcpPacketView& p);

// ERR_RTCP_INVALID_ARGUMENT with more than 255 SSRCs.
Status WriteRtcp(const Remb& remb, ByteWriter& w);

// The (exponent, mantissa) pair WriteRtcp uses: the smallest exponent whose mantissa fits.
struct RembBitrate {
  uint8_t exponent = 0;   // 6 bits
  uint32_t mantissa = 0;  // 18 bits
};
RembBitrate EncodeRembBitrate(uint64_t bps);

}  // namespace kvs::rtp
