#include "media/h264_depacketizer.h"

#include <string>

#include "media/nal_units.h"

namespace kvs::media {
namespace {

constexpr unsigned kIdr = 5, kSps = 7, kPps = 8;
constexpr unsigned kStapA = 24, kStapB = 25, kMtap16 = 26, kMtap24 = 27, kFuA = 28, kFuB = 29;

unsigned TypeOf(uint8_t header) { return header & 0x1Fu; }

Status Truncated(const std::string& what) { return Status::Fail("ERR_H264_TRUNCATED", what); }
Status FuSequence(const std::string& what) { return Status::Fail("ERR_H264_FU_SEQUENCE", what); }

// What a payload may carry: types 1-23 in single NAL packets, aggregation units and FUs.
Status CheckNalType(unsigned type, const char* where) {
  if (type >= 1 && type <= 23) return Status::Ok();
  return Status::Fail("ERR_H264_BAD_NAL", "NAL unit type " + std::to_string(type) + " in " + where);
}

Status CheckPacketType(unsigned type) {
  switch (type) {
    case kStapB:
    case kMtap16:
    case kMtap24:
    case kFuB:
      return Status::Fail("ERR_H264_UNSUPPORTED_PACKET",
                          "RTP packet type " + std::to_string(type) +
                              " (STAP-B, MTAP or FU-B) needs packetization-mode 2");
    case kStapA:
    case kFuA:
      return Status::Ok();
    default:
      return CheckNalType(type, "a single NAL unit packet");
  }
}

// Walks the aggregation units of a STAP-A, calling fn(nal) for each.
template <typename Fn>
Status ForEachAggregated(ByteSpan payload, Fn&& fn) {
  ByteReader r(payload.sub(1, payload.size - 1));
  size_t count = 0;
  while (r.remaining() > 0) {
    const size_t at = 1 + r.position();
    const uint16_t size = r.u16();
    ByteSpan nal = r.bytes(size);
    if (!r.ok()) {
      return Truncated("STAP-A unit at offset " + std::to_string(at) + " runs past the " +
                       std::to_string(payload.size) + "-byte payload");
    }
    if (size == 0) return Truncated("empty STAP-A unit at offset " + std::to_string(at));
    Status s = CheckNalType(TypeOf(nal.data[0]), "a STAP-A");
    if (!s.ok()) return s;
    fn(nal);
    ++count;
  }
  if (count == 0) return Truncated("STAP-A without a NAL unit");
  return Status::Ok();
}

// A slice (types 1, 2, 5) whose first_mb_in_slice, the first ue(v) of the slice header, is 0:
// its first bit is 1.
bool FirstSliceOfPicture(unsigned type, ByteSpan afterHeader) {
  return (type == 1 || type == 2 || type == kIdr) && afterHeader.size > 0 &&
         (afterHeader.data[0] & 0x80) != 0;
}

// Types that precede a picture's first slice in an access unit: SEI, SPS, PPS, AUD.
bool StartsAccessUnit(unsigned type) { return type >= 6 && type <= 9; }

bool IsKeyType(unsigned type) { return type == kIdr || type == kSps || type == kPps; }

}  // namespace

Result<Frame> H264Depacketizer::Depacketize(const std::vector<ByteSpan>& payloads) const {
  Frame frame;
  size_t total = 0;
  for (const ByteSpan& p : payloads) total += p.size + 4;
  frame.data.reserve(total);

  bool inFu = false;
  unsigned fuType = 0;
  for (size_t i = 0; i < payloads.size(); ++i) {
    const ByteSpan p = payloads[i];
    if (p.size == 0) continue;  // padding only
    const unsigned type = TypeOf(p.data[0]);
    Status s = CheckPacketType(type);
    if (!s.ok()) return s;
    if (inFu && type != kFuA) {
      return FuSequence("packet " + std::to_string(i) + " (type " + std::to_string(type) +
                        ") interrupts a fragmented NAL unit");
    }
    if (type == kStapA) {
      s = ForEachAggregated(p, [&](ByteSpan nal) {
        AppendAnnexB(frame.data, nal);
        if (TypeOf(nal.data[0]) == kIdr) frame.keyFrame = true;
      });
      if (!s.ok()) return s;
    } else if (type == kFuA) {
      if (p.size < 2) return Truncated("FU-A of " + std::to_string(p.size) + " byte");
      const uint8_t fu = p.data[1];
      const bool start = (fu & 0x80) != 0, end = (fu & 0x40) != 0;
      const unsigned nalType = TypeOf(fu);
      s = CheckNalType(nalType, "an FU-A");
      if (!s.ok()) return s;
      if (start) {
        if (inFu) {
          return FuSequence("FU-A start in packet " + std::to_string(i) +
                            " before the previous NAL unit ended");
        }
        // The NAL header comes back from the FU indicator's F and NRI and the FU type. S and E
        // together are against RFC 6184 §5.8 but unambiguous: a whole NAL unit.
        const uint8_t header = static_cast<uint8_t>((p.data[0] & 0xE0u) | nalType);
        AppendAnnexB(frame.data, ByteSpan(&header, 1));
        inFu = true;
        fuType = nalType;
        if (nalType == kIdr) frame.keyFrame = true;
      } else if (!inFu) {
        return FuSequence("FU-A fragment in packet " + std::to_string(i) + " without a start");
      } else if (nalType != fuType) {
        return FuSequence("FU-A fragment of type " + std::to_string(nalType) +
                          " continues one of type " + std::to_string(fuType));
      }
      frame.data.insert(frame.data.end(), p.data + 2, p.data + p.size);
      if (end) inFu = false;
    } else {
      AppendAnnexB(frame.data, p);
      if (type == kIdr) frame.keyFrame = true;
    }
  }
  if (inFu) return FuSequence("the last fragmented NAL unit has no end");
  if (frame.data.empty()) {
    return Status::Fail("ERR_MEDIA_EMPTY_FRAME", "no H.264 payload bytes in the frame");
  }
  return frame;
}

Result<PayloadInfo> H264Depacketizer::Inspect(ByteSpan p) const {
  PayloadInfo info;
  if (p.size == 0) {
    info.empty = true;
    return info;
  }
  const unsigned type = TypeOf(p.data[0]);
  Status s = CheckPacketType(type);
  if (!s.ok()) return s;
  if (type == kStapA) {
    bool first = true;
    s = ForEachAggregated(p, [&](ByteSpan nal) {
      const unsigned t = TypeOf(nal.data[0]);
      if (first) {
        info.startsFrame = StartsAccessUnit(t) || FirstSliceOfPicture(t, nal.sub(1, nal.size - 1));
        first = false;
      }
      if (IsKeyType(t)) info.keyFrame = true;
    });
    if (!s.ok()) return s;
    info.startsUnit = true;
  } else if (type == kFuA) {
    if (p.size < 2) return Truncated("FU-A of " + std::to_string(p.size) + " byte");
    const unsigned nalType = TypeOf(p.data[1]);
    s = CheckNalType(nalType, "an FU-A");
    if (!s.ok()) return s;
    info.startsUnit = (p.data[1] & 0x80) != 0;
    info.startsFrame = info.startsUnit && (StartsAccessUnit(nalType) ||
                                           FirstSliceOfPicture(nalType, p.sub(2, p.size - 2)));
    info.keyFrame = IsKeyType(nalType);
  } else {
    info.startsUnit = true;
    info.startsFrame = StartsAccessUnit(type) || FirstSliceOfPicture(type, p.sub(1, p.size - 1));
    info.keyFrame = IsKeyType(type);
  }
  return info;
}

}  // namespace kvs::media
