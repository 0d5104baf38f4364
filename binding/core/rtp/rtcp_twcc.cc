#include "rtp/rtcp_twcc.h"

#include <algorithm>
#include <string>

#include "rtp/rtp_errors.h"

namespace kvs::rtp {

namespace {

// Status symbols.
constexpr uint8_t kNotReceived = 0;
constexpr uint8_t kSmallDelta = 1;
constexpr uint8_t kLargeDelta = 2;
constexpr uint8_t kReserved = 3;

constexpr size_t kFixedFci = 8;  // base, count, reference time, feedback count
constexpr size_t kMaxRunLength = 0x1FFF;
constexpr size_t kOneBitSymbols = 14;
constexpr size_t kTwoBitSymbols = 7;

Status Twcc(const std::string& what) { return Status::Fail(kErrRtcpTwcc, what); }

// Calls onSymbol(symbol) for each of the first `count` symbols of the chunks at the front of
// `chunks`, validating them, and sets *used to the bytes of chunk the count took.
template <typename F>
Status ForEachSymbol(ByteSpan chunks, size_t count, size_t* used, F&& onSymbol) {
  size_t seen = 0;
  size_t pos = 0;
  while (seen < count) {
    if (pos + 2 > chunks.size) {
      return Twcc("chunks end after " + std::to_string(seen) + " of " + std::to_string(count) +
                  " packet statuses");
    }
    const unsigned chunk = unsigned{chunks.data[pos]} << 8 | chunks.data[pos + 1];
    pos += 2;
    if ((chunk & 0x8000) == 0) {
      const auto symbol = static_cast<uint8_t>((chunk >> 13) & 3);
      const size_t run = chunk & kMaxRunLength;
      if (run == 0) return Twcc("run-length chunk of length 0");
      if (symbol == kReserved) return Twcc("run of the reserved status symbol");
      const size_t take = std::min(run, count - seen);
      for (size_t i = 0; i < take; ++i) onSymbol(symbol);
      seen += take;
    } else if ((chunk & 0x4000) == 0) {
      const size_t take = std::min(kOneBitSymbols, count - seen);
      for (size_t i = 0; i < take; ++i) onSymbol(static_cast<uint8_t>((chunk >> (13 - i)) & 1));
      seen += take;
    } else {
      const size_t take = std::min(kTwoBitSymbols, count - seen);
      for (size_t i = 0; i < take; ++i) {
        const auto symbol = static_cast<uint8_t>((chunk >> (12 - 2 * i)) & 3);
        if (symbol == kReserved) return Twcc("the reserved status symbol in a vector chunk");
        onSymbol(symbol);
      }
      seen += take;
    }
  }
  *used = pos;
  return Status::Ok();
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Encodes the symbols as chunks (see the header for the choice).
void WriteChunks(const std::vector<uint8_t>& symbols, ByteWriter& w) {
  const size_t n = symbols.size();
  size_t i = 0;
  while (i < n) {
    const size_t rest = n - i;
    size_t run = 1;
    while (i + run < n && run < kMaxRunLength && symbols[i + run] == symbols[i]) ++run;
    const size_t oneBit = std::min(kOneBitSymbols, rest);
    const size_t twoBit = std::min(kTwoBitSymbols, rest);
    const uint8_t* next = symbols.data() + i;
    const bool fitsOneBit =
        std::all_of(next, next + oneBit, [](uint8_t s) { return s <= kSmallDelta; });
    if (run >= oneBit || (!fitsOneBit && run >= twoBit)) {
      w.u16(static_cast<uint16_t>(size_t{symbols[i]} << 13 | run));
      i += run;
    } else if (fitsOneBit) {
      unsigned chunk = 0x8000;
      for (size_t j = 0; j < oneBit; ++j) chunk |= unsigned{symbols[i + j]} << (13 - j);
      w.u16(static_cast<uint16_t>(chunk));
      i += oneBit;
    } else {
      unsigned chunk = 0xC000;
      for (size_t j = 0; j < twoBit; ++j) chunk |= unsigned{symbols[i + j]} << (12 - 2 * j);
      w.u16(static_cast<uint16_t>(chunk));
      i += twoBit;
    }
  }
}

}  // namespace

Result<TransportFeedback> ParseTransportFeedback(const RtcpPacketView& p) {
  if (p.type != kRtcpRtpfb || p.count != kFmtTwcc) {
    return Status::Fail(kErrRtcpWrongType, "not transport-wide CC feedback (type " +
                                               std::to_string(p.type) + ", FMT " +
                                               std::to_string(p.count) + ")");
  }
  auto header = ParseFeedbackHeader(p);
  if (!header.ok()) return header.status();
  const ByteSpan fci = header.value().fci;
  ByteReader r(fci);
  TransportFeedback fb;
  fb.senderSsrc = header.value().senderSsrc;
  fb.mediaSsrc = header.value().mediaSsrc;
  fb.baseSequence = r.u16();
  const size_t count = r.u16();
  fb.referenceTime = static_cast<int32_t>(r.u24() ^ 0x800000u) - 0x800000;
  fb.feedbackCount = r.u8();
  if (!r.ok()) {
    return Status::Fail(kErrRtcpTruncated, "TWCC FCI of " + std::to_string(fci.size) +
                                               " bytes, less than its 8 fixed bytes");
  }
  if (count == 0) return Twcc("packet status count 0");

  // First pass: validate the chunks and find where the deltas start.
  const ByteSpan chunks = fci.sub(kFixedFci, fci.size - kFixedFci);
  size_t chunkBytes = 0;
  if (Status s = ForEachSymbol(chunks, count, &chunkBytes, [](uint8_t) {}); !s.ok()) return s;

  // Second pass: one status per symbol, reading the deltas in step.
  ByteReader deltas(chunks.sub(chunkBytes, chunks.size - chunkBytes));
  fb.packets.reserve(count);
  int64_t arrivalUs = 0;
  uint16_t seq = fb.baseSequence;
  size_t ignored = 0;
  const Status s = ForEachSymbol(chunks, count, &ignored, [&](uint8_t symbol) {
    TwccPacketStatus status;
    status.sequenceNumber = seq++;
    if (symbol != kNotReceived) {
      const int64_t delta = symbol == kSmallDelta ? int64_t{deltas.u8()}
                                                  : int64_t{static_cast<int16_t>(deltas.u16())};
      arrivalUs += delta * kTwccDeltaUnitUs;
      status.received = true;
      status.arrivalUs = arrivalUs;
    }
    fb.packets.push_back(status);
  });
  (void)s;  // the first pass accepted these same chunks
  if (!deltas.ok()) return Twcc("receive deltas end before the last received packet");
  return fb;
}

Status WriteRtcp(const TransportFeedback& fb, ByteWriter& w) {
  const size_t n = fb.packets.size();
  if (n == 0 || n > kTwccMaxPacketStatusCount) {
    return Status::Fail(kErrRtcpInvalidArgument,
                        "TWCC feedback for " + std::to_string(n) + " packets (1-65535)");
  }
  if (fb.referenceTime < kTwccMinReferenceTime || fb.referenceTime > kTwccMaxReferenceTime) {
    return Status::Fail(
        kErrRtcpInvalidArgument,
        "TWCC reference time " + std::to_string(fb.referenceTime) + " beyond 24 bits");
  }
  std::vector<uint8_t> symbols(n);
  std::vector<int32_t> deltas;
  deltas.reserve(n);
  int64_t previousTick = 0;
  for (size_t i = 0; i < n; ++i) {
    const TwccPacketStatus& p = fb.packets[i];
    if (p.sequenceNumber != static_cast<uint16_t>(fb.baseSequence + i)) {
      return Status::Fail(kErrRtcpInvalidArgument, "TWCC packet " + std::to_string(i) +
                                                       " has sequence number " +
                                                       std::to_string(p.sequenceNumber) +
                                                       ", not base + " + std::to_string(i));
    }
    if (!p.received) continue;  // kNotReceived
    const int64_t tick = FloorDiv(p.arrivalUs + kTwccDeltaUnitUs / 2, kTwccDeltaUnitUs);
    const int64_t delta = tick - previousTick;
    previousTick = tick;
    if (delta >= 0 && delta <= 0xFF) {
      symbols[i] = kSmallDelta;
    } else if (delta >= INT16_MIN && delta <= INT16_MAX) {
      symbols[i] = kLargeDelta;
    } else {
      return Status::Fail(kErrRtcpInvalidArgument, "TWCC delta of " +
                                                       std::to_string(delta * kTwccDeltaUnitUs) +
                                                       " us before packet " + std::to_string(i));
    }
    deltas.push_back(static_cast<int32_t>(delta));
  }

  const size_t start = BeginRtcpPacket(w, kFmtTwcc, kRtcpRtpfb);
  w.u32(fb.senderSsrc);
  w.u32(fb.mediaSsrc);
  w.u16(fb.baseSequence);
  w.u16(static_cast<uint16_t>(n));
  w.u24(static_cast<uint32_t>(fb.referenceTime) & 0xFFFFFFu);
  w.u8(fb.feedbackCount);
  WriteChunks(symbols, w);
  for (int32_t delta : deltas) {
    if (delta >= 0 && delta <= 0xFF) {
      w.u8(static_cast<uint8_t>(delta));
    } else {
      w.u16(static_cast<uint16_t>(delta));
    }
  }
  // At most 65535 packets: 2 bytes of chunk per 7 and 2 of delta each stay far below the
  // 256 KiB an RTCP length can describe, so no size check is needed. Zero padding to 32 bits
  // as the draft draws it (no P bit).
  EndRtcpPacket(w, start);
  return Status::Ok();
}

}  // namespace kvs::rtp
