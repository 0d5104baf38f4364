// One received (decrypted) compound RTCP packet parsed once, then handed to every stream that
// may care: each SendStream picks the report blocks, NACKs, PLIs, FIRs and REMBs naming its
// SSRC; each ReceiveStream picks the SRs of its remote SSRC; the transport's
// TransportFeedbackSender takes the transport-cc feedback.
//
//   ParsedRtcp rtcp;                     // reuse it: Clear() keeps the vectors' capacity
//   Status s = ParseRtcpCompound(plain, &rtcp);  // s: the first bad packet (the rest is kept)
//   for (auto& send : sendStreams) send->OnRtcp(rtcp, nowUs, sendOut);
//   for (auto& recv : receiveStreams) recv->OnRtcp(rtcp, nowUs, recvOut);
//   for (auto& fb : rtcp.transportFeedback) twccSender.OnFeedback(fb, nowUs);
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "rtp/rtcp_bye.h"
#include "rtp/rtcp_nack.h"
#include "rtp/rtcp_psfb.h"
#include "rtp/rtcp_remb.h"
#include "rtp/rtcp_report.h"
#include "rtp/rtcp_twcc.h"

namespace kvs::media {

struct ParsedRtcp {
  std::vector<rtp::SenderReport> senderReports;  // their report blocks are about our streams
  std::vector<rtp::ReceiverReport> receiverReports;
  std::vector<rtp::Nack> nacks;
  std::vector<rtp::Pli> plis;
  std::vector<rtp::Fir> firs;
  std::vector<rtp::Remb> rembs;
  std::vector<rtp::TransportFeedback> transportFeedback;
  std::vector<rtp::Bye> byes;
  // Packets that framed correctly but whose typed parser refused them, or of types not handled
  // here (APP, XR, SDES, other feedback): skipped.
  uint32_t rejectedPackets = 0;
  uint32_t ignoredPackets = 0;

  void Clear();
  bool empty() const;
};

// Appends every packet of the compound to *out (which it clears first). A framing error stops
// the walk: the packets before it are kept and the error is returned (ERR_RTCP_*). A packet
// whose own parser fails is counted in rejectedPackets and skipped. Reduced-size (RFC 5506)
// packets are read the same way.
Status ParseRtcpCompound(ByteSpan compound, ParsedRtcp* out);

}  // namespace kvs::media
