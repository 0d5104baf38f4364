#include "media/h265_depacketizer.h"

#include <string>

#include "media/nal_units.h"

namespace kvs::media {
namespace {

constexpr unsigned kVps = 32, kPps = 34, kAud = 35, kPrefixSei = 39;
constexpr unsigned kAp = 48, kFu = 49;

unsigned TypeOf(const uint8_t* h) { return (h[0] >> 1) & 0x3Fu; }
bool IsIrap(unsigned type) { return type >= 16 && type <= 21; }
bool IsKeyType(unsigned type) { return IsIrap(type) || (type >= kVps && type <= kPps); }

Status Truncated(const std::string& what) { return Status::Fail("ERR_H265_TRUNCATED", what); }
Status FuSequence(const std::string& what) { return Status::Fail("ERR_H265_FU_SEQUENCE", what); }

// A 2-byte NAL unit header that may be sent as it is: TID not 0, type not an RTP packet type.
Status CheckNalHeader(const uint8_t* h, const char* where) {
  if ((h[1] & 7u) == 0) {
    return Status::Fail("ERR_H265_BAD_NAL", std::string("TID 0 in ") + where);
  }
  const unsigned type = TypeOf(h);
  if (type >= kAp) {
    return Status::Fail("ERR_H265_BAD_NAL",
                        "NAL unit type " + std::to_string(type) + " in " + where);
  }
  return Status::Ok();
}

Status CheckPayloadHeader(ByteSpan p) {
  if (p.size < 2) return Truncated("payload of " + std::to_string(p.size) + " byte");
  if ((p.data[1] & 7u) == 0) return Status::Fail("ERR_H265_BAD_NAL", "TID 0 in a payload header");
  const unsigned type = TypeOf(p.data);
  if (type > kFu) {
    return Status::Fail(
        "ERR_H265_UNSUPPORTED_PACKET",
        "RTP packet type " + std::to_string(type) + (type == 50 ? " (PACI)" : " (unspecified)"));
  }
  if (type == kFu && p.size < 3) return Truncated("FU without its FU header");
  return Status::Ok();
}

template <typename Fn>
Status ForEachAggregated(ByteSpan payload, Fn&& fn) {
  ByteReader r(payload.sub(2, payload.size - 2));
  size_t count = 0;
  while (r.remaining() > 0) {
    const size_t at = 2 + r.position();
    const uint16_t size = r.u16();
    ByteSpan nal = r.bytes(size);
    if (!r.ok()) {
      return Truncated("AP unit at offset " + std::to_string(at) + " runs past the " +
                       std::to_string(payload.size) + "-byte payload");
    }
    if (size < 2) {
      return Truncated("AP unit at offset " + std::to_string(at) + " is shorter than a header");
    }
    Status s = CheckNalHeader(nal.data, "an AP");
    if (!s.ok()) return s;
    fn(nal);
    ++count;
  }
  if (count == 0) return Truncated("AP without a NAL unit");
  return Status::Ok();
}

// first_slice_segment_in_pic_flag is the first bit after a VCL NAL unit's header.
bool StartsFrame(unsigned type, ByteSpan afterHeader) {
  if (type <= 31) return afterHeader.size > 0 && (afterHeader.data[0] & 0x80) != 0;
  return (type >= kVps && type <= kAud) || type == kPrefixSei;
}

}  // namespace

Result<Frame> H265Depacketizer::Depacketize(const std::vector<ByteSpan>& payloads) const {
  Frame frame;
  size_t total = 0;
  for (const ByteSpan& p : payloads) total += p.size + 4;
  frame.data.reserve(total);

  bool inFu = false;
  unsigned fuType = 0;
  for (size_t i = 0; i < payloads.size(); ++i) {
    const ByteSpan p = payloads[i];
    if (p.size == 0) continue;  // padding only
    Status s = CheckPayloadHeader(p);
    if (!s.ok()) return s;
    const unsigned type = TypeOf(p.data);
    if (inFu && type != kFu) {
      return FuSequence("packet " + std::to_string(i) + " (type " + std::to_string(type) +
                        ") interrupts a fragmented NAL unit");
    }
    if (type == kAp) {
      s = ForEachAggregated(p, [&](ByteSpan nal) {
        AppendAnnexB(frame.data, nal);
        if (IsIrap(TypeOf(nal.data))) frame.keyFrame = true;
      });
      if (!s.ok()) return s;
    } else if (type == kFu) {
      const uint8_t fu = p.data[2];
      const bool start = (fu & 0x80) != 0, end = (fu & 0x40) != 0;
      const unsigned nalType = fu & 0x3Fu;
      if (nalType >= kAp) {
        return Status::Fail("ERR_H265_BAD_NAL", "FU of NAL unit type " + std::to_string(nalType));
      }
      if (start) {
        if (inFu) {
          return FuSequence("FU start in packet " + std::to_string(i) +
                            " before the previous NAL unit ended");
        }
        // The NAL header: the payload header's F, LayerId and TID with the FU type.
        const uint8_t header[2] = {static_cast<uint8_t>((p.data[0] & 0x81u) | (nalType << 1)),
                                   p.data[1]};
        AppendAnnexB(frame.data, ByteSpan(header, 2));
        inFu = true;
        fuType = nalType;
        if (IsIrap(nalType)) frame.keyFrame = true;
      } else if (!inFu) {
        return FuSequence("FU fragment in packet " + std::to_string(i) + " without a start");
      } else if (nalType != fuType) {
        return FuSequence("FU fragment of type " + std::to_string(nalType) +
                          " continues one of type " + std::to_string(fuType));
      }
      frame.data.insert(frame.data.end(), p.data + 3, p.data + p.size);
      if (end) inFu = false;
    } else {
      AppendAnnexB(frame.data, p);
      if (IsIrap(type)) frame.keyFrame = true;
    }
  }
  if (inFu) return FuSequence("the last fragmented NAL unit has no end");
  if (frame.data.empty()) {
    return Status::Fail("ERR_MEDIA_EMPTY_FRAME", "no H.265 payload bytes in the frame");
  }
  return frame;
}

Result<PayloadInfo> H265Depacketizer::Inspect(ByteSpan p) const {
  PayloadInfo info;
  if (p.size == 0) {
    info.empty = true;
    return info;
  }
  Status s = CheckPayloadHeader(p);
  if (!s.ok()) return s;
  const unsigned type = TypeOf(p.data);
  if (type == kAp) {
    bool first = true;
    s = ForEachAggregated(p, [&](ByteSpan nal) {
      const unsigned t = TypeOf(nal.data);
      if (first) {
        info.startsFrame = StartsFrame(t, nal.sub(2, nal.size - 2));
        first = false;
      }
      if (IsKeyType(t)) info.keyFrame = true;
    });
    if (!s.ok()) return s;
    info.startsUnit = true;
  } else if (type == kFu) {
    const unsigned nalType = p.data[2] & 0x3Fu;
    if (nalType >= kAp) {
      return Status::Fail("ERR_H265_BAD_NAL", "FU of NAL unit type " + std::to_string(nalType));
    }
    info.startsUnit = (p.data[2] & 0x80) != 0;
    info.startsFrame = info.startsUnit && StartsFrame(nalType, p.sub(3, p.size - 3));
    info.keyFrame = IsKeyType(nalType);
  } else {
    info.startsUnit = true;
    info.startsFrame = StartsFrame(type, p.sub(2, p.size - 2));
    info.keyFrame = IsKeyType(type);
  }
  return info;
}

}  // namespace kvs::media
