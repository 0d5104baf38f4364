#include "rtp/rtcp_report.h"

#include <algorithm>
#include <string>

#include "rtp/rtp_errors.h"

namespace kvs::rtp {

namespace {

constexpr size_t kSenderInfoSize = 20;

Status CheckType(const RtcpPacketView& p, uint8_t type, const char* name) {
  if (p.type == type) return Status::Ok();
  return Status::Fail(kErrRtcpWrongType,
                      "packet type " + std::to_string(p.type) + " is not " + name);
}

// Reads `count` blocks; the caller checked that the reader holds them.
std::vector<ReportBlock> ReadBlocks(ByteReader& r, size_t count) {
  std::vector<ReportBlock> blocks(count);
  for (ReportBlock& b : blocks) {
    b.ssrc = r.u32();
    b.fractionLost = r.u8();
    const uint32_t lost = r.u24();
    // Sign-extend the 24-bit two's complement value.
    b.cumulativeLost = static_cast<int32_t>(lost ^ 0x800000u) - 0x800000;
    b.extendedHighestSeq = r.u32();
    b.jitter = r.u32();
    b.lastSr = r.u32();
    b.delaySinceLastSr = r.u32();
  }
  return blocks;
}

void WriteBlocks(ByteWriter& w, const std::vector<ReportBlock>& blocks) {
  for (const ReportBlock& b : blocks) {
    w.u32(b.ssrc);
    w.u8(b.fractionLost);
    const int32_t lost = std::clamp(b.cumulativeLost, kMinCumulativeLost, kMaxCumulativeLost);
    w.u24(static_cast<uint32_t>(lost) & 0xFFFFFFu);
    w.u32(b.extendedHighestSeq);
    w.u32(b.jitter);
    w.u32(b.lastSr);
    w.u32(b.delaySinceLastSr);
  }
}

Status CheckBlocks(const std::vector<ReportBlock>& blocks) {
  if (blocks.size() <= kMaxReportBlocks) return Status::Ok();
  return Status::Fail(kErrRtcpInvalidArgument,
                      std::to_string(blocks.size()) + " report blocks (at most 31)");
}

Status Short(const char* name, size_t need, size_t have) {
  return Status::Fail(kErrRtcpTruncated, std::string(name) + " needs " + std::to_string(need) +
                                             " bytes of body, has " + std::to_string(have));
}

}  // namespace

Result<SenderReport> ParseSenderReport(const RtcpPacketView& p) {
  if (Status s = CheckType(p, kRtcpSr, "SR"); !s.ok()) return s;
  const size_t need = 4 + kSenderInfoSize + kReportBlockSize * p.count;
  if (p.body.size < need) return Short("SR", need, p.body.size);
  ByteReader r(p.body);
  SenderReport sr;
  sr.ssrc = r.u32();
  sr.info.ntpTimestamp = r.u64();
  sr.info.rtpTimestamp = r.u32();
  sr.info.packetCount = r.u32();
  sr.info.octetCount = r.u32();
  sr.reportBlocks = ReadBlocks(r, p.count);
  return sr;
}

Result<ReceiverReport> ParseReceiverReport(const RtcpPacketView& p) {
  if (Status s = CheckType(p, kRtcpRr, "RR"); !s.ok()) return s;
  const size_t need = 4 + kReportBlockSize * p.count;
  if (p.body.size < need) return Short("RR", need, p.body.size);
  ByteReader r(p.body);
  ReceiverReport rr;
  rr.ssrc = r.u32();
  rr.reportBlocks = ReadBlocks(r, p.count);
  return rr;
}

Status WriteRtcp(const SenderReport& sr, ByteWriter& w) {
  if (Status s = CheckBlocks(sr.reportBlocks); !s.ok()) return s;
  const size_t start = BeginRtcpPacket(w, static_cast<uint8_t>(sr.reportBlocks.size()), kRtcpSr);
  w.u32(sr.ssrc);
  w.u64(sr.info.ntpTimestamp);
  w.u32(sr.info.rtpTimestamp);
  w.u32(sr.info.packetCount);
  w.u32(sr.info.octetCount);
  WriteBlocks(w, sr.reportBlocks);
  EndRtcpPacket(w, start);
  return Status::Ok();
}

Status WriteRtcp(const ReceiverReport& rr, ByteWriter& w) {
  if (Status s = CheckBlocks(rr.reportBlocks); !s.ok()) return s;
  const size_t start = BeginRtcpPacket(w, static_cast<uint8_t>(rr.reportBlocks.size()), kRtcpRr);
  w.u32(rr.ssrc);
  WriteBlocks(w, rr.reportBlocks);
  EndRtcpPacket(w, start);
  return Status::Ok();
}

}  // namespace kvs::rtp
