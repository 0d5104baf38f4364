#include "media/rtcp_input.h"

#include "rtp/rtcp_packet.h"

namespace kvs::media {

void ParsedRtcp::Clear() {
  senderReports.clear();
  receiverReports.clear();
  nacks.clear();
  plis.clear();
  firs.clear();
  rembs.clear();
  transportFeedback.clear();
  byes.clear();
  rejectedPackets = 0;
  ignoredPackets = 0;
}

bool ParsedRtcp::empty() const {
  return senderReports.empty() && receiverReports.empty() && nacks.empty() && plis.empty() &&
         firs.empty() && rembs.empty() && transportFeedback.empty() && byes.empty();
}

namespace {

template <typename T>
void Keep(Result<T> r, std::vector<T>& into, uint32_t& rejected) {
  if (r.ok()) {
    into.push_back(r.take());
  } else {
    ++rejected;
  }
}

}  // namespace

Status ParseRtcpCompound(ByteSpan compound, ParsedRtcp* out) {
  out->Clear();
  rtp::RtcpReader reader(compound);
  rtp::RtcpPacketView p;
  while (reader.Next(&p)) {
    switch (p.type) {
      case rtp::kRtcpSr:
        Keep(rtp::ParseSenderReport(p), out->senderReports, out->rejectedPackets);
        break;
      case rtp::kRtcpRr:
        Keep(rtp::ParseReceiverReport(p), out->receiverReports, out->rejectedPackets);
        break;
      case rtp::kRtcpBye:
        Keep(rtp::ParseBye(p), out->byes, out->rejectedPackets);
        break;
      case rtp::kRtcpRtpfb:
        if (p.count == rtp::kFmtNack) {
          Keep(rtp::ParseNack(p), out->nacks, out->rejectedPackets);
        } else if (p.count == rtp::kFmtTwcc) {
          Keep(rtp::ParseTransportFeedback(p), out->transportFeedback, out->rejectedPackets);
        } else {
          ++out->ignoredPackets;
        }
        break;
      case rtp::kRtcpPsfb:
        if (p.count == rtp::kFmtPli) {
          Keep(rtp::ParsePli(p), out->plis, out->rejectedPackets);
        } else if (p.count == rtp::kFmtFir) {
          Keep(rtp::ParseFir(p), out->firs, out->rejectedPackets);
        } else if (p.count == rtp::kFmtAfb && rtp::IsRemb(p)) {
          Keep(rtp::ParseRemb(p), out->rembs, out->rejectedPackets);
        } else {
          ++out->ignoredPackets;
        }
        break;
      default:  // SDES (CNAMEs are not needed here), APP, XR
        ++out->ignoredPackets;
        break;
    }
  }
  return reader.status();
}

}  // namespace kvs::media
