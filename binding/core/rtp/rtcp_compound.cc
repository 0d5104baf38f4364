#include "rtp/rtcp_compound.h"

#include <string>
#include <utility>

#include "rtp/rtcp_sdes.h"
#include "rtp/rtp_errors.h"

namespace kvs::rtp {

namespace {

bool HasCname(const RtcpPacketView& p) {
  auto sdes = ParseSdes(p);
  if (!sdes.ok()) return false;
  for (const SdesChunk& chunk : sdes.value().chunks) {
    if (chunk.cname() != nullptr) return true;
  }
  return false;
}

}  // namespace

Status ValidateRtcpCompound(ByteSpan compound, RtcpMode mode) {
  if (compound.size == 0) return Status::Fail(kErrRtcpTruncated, "empty RTCP packet");
  RtcpReader reader(compound);
  RtcpPacketView p;
  bool first = true;
  bool cname = false;
  while (reader.Next(&p)) {
    if (first && mode == RtcpMode::kCompound && p.type != kRtcpSr && p.type != kRtcpRr) {
      return Status::Fail(kErrRtcpCompound, "compound RTCP starting with packet type " +
                                                std::to_string(p.type) + ", not SR or RR");
    }
    first = false;
    if (!cname && p.type == kRtcpSdes) cname = HasCname(p);
  }
  if (!reader.status().ok()) return reader.status();
  if (mode == RtcpMode::kCompound && !cname) {
    return Status::Fail(kErrRtcpCompound, "compound RTCP without an SDES CNAME");
  }
  return Status::Ok();
}

Status RtcpCompoundBuilder::AddRaw(ByteSpan packet) {
  auto p = ParseRtcpPacket(packet);
  if (!p.ok()) return p.status();
  if (p.value().packet.size != packet.size) {
    return Status::Fail(
        kErrRtcpInvalidArgument,
        "AddRaw takes one packet; " + std::to_string(packet.size) + " bytes hold more");
  }
  ByteWriter w(buffer_);
  w.bytes(packet);
  return Status::Ok();
}

Result<std::vector<uint8_t>> RtcpCompoundBuilder::Finish() {
  std::vector<uint8_t> out = std::move(buffer_);
  buffer_.clear();
  if (Status s = ValidateRtcpCompound(out, mode_); !s.ok()) return s;
  return out;
}

}  // namespace kvs::rtp
