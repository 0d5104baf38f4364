// Building compound RTCP packets (RFC 3550 §6.1) and checking what one holds.
//
//   RtcpCompoundBuilder b(RtcpMode::kCompound);
//   (void)b.Add(rr) ... b.Add(Sdes::Cname(ssrc, cname)) ... b.Add(nack)  // check each Status
//   auto bytes = b.Finish();  // ERR_RTCP_COMPOUND if the RFC 3550 rules are broken
//
// With RtcpMode::kReducedSize (RFC 5506, when a=rtcp-rsize was negotiated) a feedback
// message may go alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "rtp/rtcp_packet.h"

namespace kvs::rtp {

enum class RtcpMode : uint8_t {
  kCompound,     // RFC 3550 §6.1: first an SR or RR, and an SDES chunk with a CNAME
  kReducedSize,  // RFC 5506: any packets in any order, e.g. one feedback message alone
};

// Every packet framed correctly (ParseRtcpPacket) and the input not empty; for kCompound also
// the first packet an SR or RR and some SDES chunk with a CNAME item (ERR_RTCP_COMPOUND). For
// received packets the framing is what matters: peers may use reduced size.
Status ValidateRtcpCompound(ByteSpan compound, RtcpMode mode);

// Appends packets into one buffer. Add() takes any packet type with a
// `Status WriteRtcp(const P&, ByteWriter&)` (SR, RR, SDES, BYE, NACK, TWCC, PLI, FIR, REMB);
// on error nothing of that packet remains.
class RtcpCompoundBuilder {
 public:
  explicit RtcpCompoundBuilder(RtcpMode mode = RtcpMode::kCompound) : mode_(mode) {}

  template <typename P>
  Status Add(const P& packet) {
    const size_t before = buffer_.size();
    ByteWriter w(buffer_);
    Status s = WriteRtcp(packet, w);
    if (!s.ok()) buffer_.resize(before);
    return s;
  }
  // A packet serialized elsewhere (APP, XR...): must be exactly one well-framed packet.
  Status AddRaw(ByteSpan packet);

  size_t size() const { return buffer_.size(); }
  bool empty() const { return buffer_.empty(); }
  // Checks the mode's rules and hands the bytes over; the builder is empty afterwards (also
  // on error, when the packets are dropped).
  Result<std::vector<uint8_t>> Finish();

 private:
  RtcpMode mode_;
  std::vector<uint8_t> buffer_;
};

}  // namespace kvs::rtp
