#include "rtp/rtcp_nack.h"

#include <algorithm>
#include <string>

#include "rtp/rtp_errors.h"
#include "rtp/unwrap.h"

namespace kvs::rtp {

std::vector<NackItem> PackNack(ArrayView<uint16_t> sequenceNumbers) {
  std::vector<int64_t> unwrapped;
  unwrapped.reserve(sequenceNumbers.size());
  SeqUnwrapper unwrapper;
  for (uint16_t seq : sequenceNumbers) unwrapped.push_back(unwrapper.Unwrap(seq));
  std::sort(unwrapped.begin(), unwrapped.end());
  unwrapped.erase(std::unique(unwrapped.begin(), unwrapped.end()), unwrapped.end());
  // A list that wanders around the whole circle can unwrap one number to two values 65536
  // apart; keep only the first, so that each number is named once.
  if (!unwrapped.empty() && unwrapped.back() - unwrapped.front() >= 65536) {
    std::vector<bool> seen(65536);
    size_t kept = 0;
    for (int64_t v : unwrapped) {
      const auto low = static_cast<uint16_t>(v);
      if (seen[low]) continue;
      seen[low] = true;
      unwrapped[kept++] = v;
    }
    unwrapped.resize(kept);
  }

  std::vector<NackItem> items;
  for (size_t i = 0; i < unwrapped.size();) {
    const int64_t pid = unwrapped[i];
    NackItem item{static_cast<uint16_t>(pid), 0};
    ++i;
    for (; i < unwrapped.size() && unwrapped[i] <= pid + 16; ++i) {
      item.blp = static_cast<uint16_t>(item.blp | 1u << (unwrapped[i] - pid - 1));
    }
    items.push_back(item);
  }
  return items;
}

std::vector<uint16_t> UnpackNack(ArrayView<NackItem> items) {
  std::vector<uint16_t> out;
  for (const NackItem& item : items) {
    out.push_back(item.pid);
    for (unsigned bit = 0; bit < 16; ++bit) {
      if (item.blp & (1u << bit)) out.push_back(static_cast<uint16_t>(item.pid + bit + 1));
    }
  }
  return out;
}

Result<Nack> ParseNack(const RtcpPacketView& p) {
  if (p.type != kRtcpRtpfb || p.count != kFmtNack) {
    return Status::Fail(kErrRtcpWrongType, "not a generic NACK (type " + std::to_string(p.type) +
                                               ", FMT " + std::to_string(p.count) + ")");
  }
  auto header = ParseFeedbackHeader(p);
  if (!header.ok()) return header.status();
  const ByteSpan fci = header.value().fci;
  if (fci.size == 0 || fci.size % 4 != 0) {
    return Status::Fail(kErrRtcpMalformed,
                        "NACK FCI of " + std::to_string(fci.size) + " bytes, not whole items");
  }
  Nack nack;
  nack.senderSsrc = header.value().senderSsrc;
  nack.mediaSsrc = header.value().mediaSsrc;
  ByteReader r(fci);
  nack.items.resize(fci.size / 4);
  for (NackItem& item : nack.items) {
    item.pid = r.u16();
    item.blp = r.u16();
  }
  return nack;
}

Status WriteRtcp(const Nack& nack, ByteWriter& w) {
  const size_t size = kRtcpHeaderSize + 8 + 4 * nack.items.size();
  if (nack.items.empty() || size > kMaxRtcpPacketSize) {
    return Status::Fail(kErrRtcpInvalidArgument,
                        "NACK with " + std::to_string(nack.items.size()) + " items");
  }
  const size_t start = BeginRtcpPacket(w, kFmtNack, kRtcpRtpfb);
  w.u32(nack.senderSsrc);
  w.u32(nack.mediaSsrc);
  for (const NackItem& item : nack.items) {
    w.u16(item.pid);
    w.u16(item.blp);
  }
  EndRtcpPacket(w, start);
  return Status::Ok();
}

}  // namespace kvs::rtp
