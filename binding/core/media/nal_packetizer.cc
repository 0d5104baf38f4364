#include "media/nal_packetizer.h"

#include <algorithm>
#include <string>

namespace kvs::media {
namespace {
// An aggregation unit's size field is 16 bits (RFC 6184 §5.7.1, RFC 7798 §4.4.2).
constexpr size_t kMaxAggregated = 0xFFFF;
}  // namespace

NalPacketizer::NalPacketizer(const Rules& rules, const NalPacketizerOptions& options)
    : rules_(rules), options_(options) {}

Status NalPacketizer::Packetize(const SharedBytes& frame, size_t maxPayload,
                                std::vector<RtpPayload>& out) {
  if (!frame || frame->empty()) {
    return Status::Fail("ERR_MEDIA_EMPTY_FRAME", std::string(rules_.codec) + " frame is empty");
  }
  // A fragment must carry at least one byte after the FU prefix.
  if (maxPayload < rules_.fuPrefixSize + 1) {
    return Status::Fail("ERR_MEDIA_MAX_PAYLOAD", std::string(rules_.codec) +
                                                     " needs a payload size of at least " +
                                                     std::to_string(rules_.fuPrefixSize + 1) +
                                                     " bytes, got " + std::to_string(maxPayload));
  }
  auto split = SplitNalUnits(*frame, options_.framing);
  if (!split.ok()) return split.status();

  // The NAL units to send, and what the frame holds.
  std::vector<Ref> nals;
  nals.reserve(split.value().size() + kMaxParameterSets);
  std::array<bool, kMaxParameterSets> has{};
  std::array<const NalUnit*, kMaxParameterSets> lastOf{};
  bool keyPicture = false;
  size_t firstVcl = SIZE_MAX;
  for (const NalUnit& u : split.value()) {
    if (u.length < rules_.headerSize) {
      return Status::Fail(rules_.badNalCode,
                          std::string(rules_.codec) + " NAL unit at offset " +
                              std::to_string(u.offset) + " is shorter than its " +
                              std::to_string(rules_.headerSize) + "-byte header");
    }
    const unsigned type = TypeOf(frame->data() + u.offset);
    if (IsReservedForRtp(type)) {
      return Status::Fail(rules_.badNalCode, std::string(rules_.codec) + " NAL unit type " +
                                                 std::to_string(type) + " at offset " +
                                                 std::to_string(u.offset) +
                                                 " is reserved for RTP packets, not a frame");
    }
    if (const char* fault = HeaderFault(frame->data() + u.offset)) {
      return Status::Fail(rules_.badNalCode, std::string(rules_.codec) + " NAL unit at offset " +
                                                 std::to_string(u.offset) + ": " + fault);
    }
    if (IsDropped(type)) continue;
    const int slot = ParameterSetSlot(type);
    if (slot >= 0) {
      has[static_cast<size_t>(slot)] = true;
      lastOf[static_cast<size_t>(slot)] = &u;
    }
    if (IsKeyPicture(type)) keyPicture = true;
    if (firstVcl == SIZE_MAX && IsVcl(type)) firstVcl = nals.size();
    nals.push_back({&frame, u.offset, u.length});
  }
  if (nals.empty()) {  // only delimiters or filler: nothing to send
    lastKeyPicture_ = false;
    return Status::Ok();
  }

  // Parameter sets missing from a key picture go right before its first slice, in slot order
  // (VPS, SPS, PPS), so that each follows what it refers to.
  if (keyPicture && options_.repeatParameterSets && firstVcl != SIZE_MAX) {
    std::vector<Ref> inserted;
    bool lacking = false;
    for (size_t s = 0; s < rules_.parameterSetCount; ++s) {
      if (has[s]) continue;
      if (parameterSets_[s]) {
        inserted.push_back(
            {&parameterSets_[s], 0, static_cast<uint32_t>(parameterSets_[s]->size())});
      } else {
        lacking = true;
      }
    }
    if (lacking) ++keyPicturesWithout_;
    if (!inserted.empty()) {
      nals.insert(nals.begin() + static_cast<std::ptrdiff_t>(firstVcl), inserted.begin(),
                  inserted.end());
      ++parameterSetsInserted_;
    }
  } else if (keyPicture) {
    for (size_t s = 0; s < rules_.parameterSetCount; ++s) {
      if (!has[s]) {
        ++keyPicturesWithout_;
        break;
      }
    }
  }

  const size_t before = out.size();
  size_t i = 0;
  while (i < nals.size()) {
    if (options_.aggregate && nals[i].length <= kMaxAggregated) {
      // Greedy: the longest run from i whose aggregation packet still fits.
      size_t total = rules_.headerSize + 2 + nals[i].length;
      size_t j = i + 1;
      while (j < nals.size() && nals[j].length <= kMaxAggregated &&
             total + 2 + nals[j].length <= maxPayload) {
        total += 2 + nals[j].length;
        ++j;
      }
      if (j - i >= 2) {
        EmitAggregate(nals, i, j, out);
        i = j;
        continue;
      }
    }
    if (nals[i].length <= maxPayload) {
      RtpPayload p;
      p.source = *nals[i].source;
      p.offset = nals[i].offset;
      p.length = nals[i].length;
      out.push_back(std::move(p));
    } else {
      EmitFragments(nals[i], maxPayload, out);
    }
    ++i;
  }
  if (out.size() > before) out.back().marker = true;

  // Remember the frame's own parameter sets (the last of each kind) for later key pictures.
  for (size_t s = 0; s < rules_.parameterSetCount; ++s) {
    if (lastOf[s] == nullptr) continue;
    const uint8_t* p = frame->data() + lastOf[s]->offset;
    const size_t n = lastOf[s]->length;
    SharedBytes& cached = parameterSets_[s];
    if (!cached || cached->size() != n || !std::equal(cached->begin(), cached->end(), p)) {
      cached = MakeShared(std::vector<uint8_t>(p, p + n));
    }
  }
  lastKeyPicture_ = keyPicture;
  return Status::Ok();
}

void NalPacketizer::EmitAggregate(const std::vector<Ref>& nals, size_t from, size_t to,
                                  std::vector<RtpPayload>& out) const {
  std::vector<const uint8_t*> headers;
  size_t total = rules_.headerSize;
  for (size_t k = from; k < to; ++k) {
    headers.push_back(nals[k].data());
    total += 2 + nals[k].length;
  }
  std::vector<uint8_t> buf(rules_.headerSize);
  buf.reserve(total);
  AggregationHeader(headers, buf.data());
  ByteWriter w(buf);
  for (size_t k = from; k < to; ++k) {
    w.u16(static_cast<uint16_t>(nals[k].length));  // at most kMaxAggregated
    w.bytes(ByteSpan(nals[k].data(), nals[k].length));
  }
  RtpPayload p;
  p.length = static_cast<uint32_t>(buf.size());
  p.source = MakeShared(std::move(buf));
  out.push_back(std::move(p));
}

void NalPacketizer::EmitFragments(const Ref& nal, size_t maxPayload,
                                  std::vector<RtpPayload>& out) const {
  // The NAL header travels in the FU prefix; the rest is split as evenly as possible, so the
  // last packet is not a runt.
  const size_t body = nal.length - rules_.headerSize;
  const size_t room = maxPayload - rules_.fuPrefixSize;
  const size_t count = (body + room - 1) / room;
  const size_t base = body / count, extra = body % count;
  size_t at = nal.offset + rules_.headerSize;
  for (size_t k = 0; k < count; ++k) {
    const size_t len = base + (k < extra ? 1 : 0);
    RtpPayload p;
    p.source = *nal.source;
    p.offset = static_cast<uint32_t>(at);
    p.length = static_cast<uint32_t>(len);
    p.prefixSize = static_cast<uint8_t>(rules_.fuPrefixSize);
    FragmentPrefix(nal.data(), k == 0, k + 1 == count, p.prefix.data());
    out.push_back(std::move(p));
    at += len;
  }
}

}  // namespace kvs::media
