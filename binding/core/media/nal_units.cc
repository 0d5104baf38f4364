#include "media/nal_units.h"

#include <cstring>

#include <limits>
#include <string>

namespace kvs::media {
namespace {

bool FitsU32(size_t n) { return n <= std::numeric_limits<uint32_t>::max(); }

Status TooLarge(size_t size) {
  return Status::Fail("ERR_MEDIA_FRAME_TOO_LARGE",
                      "frame of " + std::to_string(size) + " bytes is over 4 GiB");
}

// Position of the next 00 00 01 at or after `from`, or n if none.
// The first 00 00 01 at or after `from`. It looks for the 01 with memchr, which scans
// compressed data (where 01 is about one byte in 256) many bytes at a time, and then checks the
// two bytes before it: 4-5 times faster than a byte loop on 100 KB frames.
size_t FindStartCode(const uint8_t* d, size_t n, size_t from) {
  size_t i = from + 2;  // where the 01 of a start code at `from` would be
  while (i < n) {
    const void* hit = std::memchr(d + i, 1, n - i);
    if (hit == nullptr) return n;
    const size_t j = static_cast<size_t>(static_cast<const uint8_t*>(hit) - d);
    if (d[j - 1] == 0 && d[j - 2] == 0) return j - 2;
    i = j + 1;
  }
  return n;
}

void PushTrimmed(std::vector<NalUnit>& out, const uint8_t* d, size_t begin, size_t end) {
  while (end > begin && d[end - 1] == 0) --end;
  if (end > begin) {
    out.push_back({static_cast<uint32_t>(begin), static_cast<uint32_t>(end - begin)});
  }
}

// Zero or more zero bytes, then 00 00 01.
bool BeginsWithStartCode(ByteSpan frame) {
  size_t z = 0;
  while (z < frame.size && frame.data[z] == 0) ++z;
  return z >= 2 && z < frame.size && frame.data[z] == 1;
}

// True when 4-byte lengths chain from the first byte exactly to the end of the frame.
bool ChainsAsLength4(ByteSpan frame) {
  ByteReader r(frame);
  if (r.remaining() == 0) return false;
  while (r.remaining() > 0) {
    uint32_t len = r.u32();
    if (!r.ok() || len == 0 || !r.skip(len)) return false;
  }
  return r.ok();
}

}  // namespace

Result<std::vector<NalUnit>> SplitAnnexB(ByteSpan frame) {
  if (!FitsU32(frame.size)) return TooLarge(frame.size);
  const uint8_t* d = frame.data;
  const size_t n = frame.size;
  size_t sc = FindStartCode(d, n, 0);
  if (sc == n) {
    return Status::Fail("ERR_NAL_NO_START_CODE",
                        "no Annex-B start code in a frame of " + std::to_string(n) + " bytes");
  }
  for (size_t i = 0; i < sc; ++i) {
    if (d[i] != 0) {
      return Status::Fail("ERR_NAL_NO_START_CODE",
                          "byte " + std::to_string(i) + " comes before the first start code");
    }
  }
  std::vector<NalUnit> out;
  size_t begin = sc + 3;
  while (begin <= n) {
    size_t next = FindStartCode(d, n, begin);
    PushTrimmed(out, d, begin, next);
    if (next == n) break;
    begin = next + 3;
  }
  return out;
}

Result<std::vector<NalUnit>> SplitLengthPrefixed(ByteSpan frame, size_t lengthSize) {
  if (lengthSize != 1 && lengthSize != 2 && lengthSize != 4) {
    return Status::Fail("ERR_NAL_LENGTH_SIZE",
                        "NAL unit length size " + std::to_string(lengthSize) + " is not 1, 2 or 4");
  }
  if (!FitsU32(frame.size)) return TooLarge(frame.size);
  std::vector<NalUnit> out;
  ByteReader r(frame);
  while (r.remaining() > 0) {
    const size_t at = r.position();
    uint32_t len = lengthSize == 1 ? r.u8() : lengthSize == 2 ? r.u16() : r.u32();
    if (!r.ok()) {
      return Status::Fail("ERR_NAL_TRUNCATED", "partial " + std::to_string(lengthSize) +
                                                   "-byte NAL unit length at offset " +
                                                   std::to_string(at));
    }
    const size_t start = r.position();
    if (!r.skip(len)) {
      return Status::Fail("ERR_NAL_TRUNCATED", "NAL unit length " + std::to_string(len) +
                                                   " at offset " + std::to_string(at) +
                                                   " runs past the end of the " +
                                                   std::to_string(frame.size) + "-byte frame");
    }
    if (len != 0) out.push_back({static_cast<uint32_t>(start), len});
  }
  return out;
}

Result<std::vector<NalUnit>> SplitNalUnits(ByteSpan frame, NalFraming framing) {
  switch (framing) {
    case NalFraming::kAnnexB:
      return SplitAnnexB(frame);
    case NalFraming::kLengthPrefixed1:
      return SplitLengthPrefixed(frame, 1);
    case NalFraming::kLengthPrefixed2:
      return SplitLengthPrefixed(frame, 2);
    case NalFraming::kLengthPrefixed4:
      return SplitLengthPrefixed(frame, 4);
    case NalFraming::kAuto:
      break;
  }
  if (BeginsWithStartCode(frame) && !ChainsAsLength4(frame)) return SplitAnnexB(frame);
  return SplitLengthPrefixed(frame, 4);
}

void AppendAnnexB(std::vector<uint8_t>& out, ByteSpan nal) {
  static constexpr uint8_t kStartCode[4] = {0, 0, 0, 1};
  out.insert(out.end(), kStartCode, kStartCode + 4);
  if (nal.size != 0) out.insert(out.end(), nal.data, nal.data + nal.size);
}

}  // namespace kvs::media
