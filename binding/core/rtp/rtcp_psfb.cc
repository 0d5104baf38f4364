#include "rtp/rtcp_psfb.h"

#include <string>

#include "rtp/rtp_errors.h"

namespace kvs::rtp {

namespace {

Status CheckPsfb(const RtcpPacketView& p, uint8_t fmt, const char* name) {
  if (p.type == kRtcpPsfb && p.count == fmt) return Status::Ok();
  return Status::Fail(kErrRtcpWrongType, std::string("not a ") + name + " (type " +
                                             std::to_string(p.type) + ", FMT " +
                                             std::to_string(p.count) + ")");
}

}  // namespace

Result<Pli> ParsePli(const RtcpPacketView& p) {
  if (Status s = CheckPsfb(p, kFmtPli, "PLI"); !s.ok()) return s;
  auto header = ParseFeedbackHeader(p);
  if (!header.ok()) return header.status();
  return Pli{header.value().senderSsrc, header.value().mediaSsrc};
}

Result<Fir> ParseFir(const RtcpPacketView& p) {
  if (Status s = CheckPsfb(p, kFmtFir, "FIR"); !s.ok()) return s;
  auto header = ParseFeedbackHeader(p);
  if (!header.ok()) return header.status();
  const ByteSpan fci = header.value().fci;
  if (fci.size == 0 || fci.size % 8 != 0) {
    return Status::Fail(kErrRtcpMalformed,
                        "FIR FCI of " + std::to_string(fci.size) + " bytes, not whole entries");
  }
  Fir fir;
  fir.senderSsrc = header.value().senderSsrc;
  fir.entries.resize(fci.size / 8);
  ByteReader r(fci);
  for (FirEntry& e : fir.entries) {
    e.ssrc = r.u32();
    e.sequenceNumber = r.u8();
    (void)r.u24();  // reserved
  }
  return fir;
}

Status WriteRtcp(const Pli& pli, ByteWriter& w) {
  const size_t start = BeginRtcpPacket(w, kFmtPli, kRtcpPsfb);
  w.u32(pli.senderSsrc);
  w.u32(pli.mediaSsrc);
  EndRtcpPacket(w, start);
  return Status::Ok();
}

Status WriteRtcp(const Fir& fir, ByteWriter& w) {
  const size_t size = kRtcpHeaderSize + 8 + 8 * fir.entries.size();
  if (fir.entries.empty() || size > kMaxRtcpPacketSize) {
    return Status::Fail(kErrRtcpInvalidArgument,
                        "FIR with " + std::to_string(fir.entries.size()) + " entries");
  }
  const size_t start = BeginRtcpPacket(w, kFmtFir, kRtcpPsfb);
  w.u32(fir.senderSsrc);
  w.u32(0);  // media source: unused
  for (const FirEntry& e : fir.entries) {
    w.u32(e.ssrc);
    w.u8(e.sequenceNumber);
    w.u24(0);
  }
  EndRtcpPacket(w, start);
  return Status::Ok();
}

}  // namespace kvs::rtp
