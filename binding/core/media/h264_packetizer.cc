#include "media/h264_packetizer.h"

#include <algorithm>

namespace kvs::media {
namespace {

constexpr unsigned kIdr = 5, kSps = 7, kPps = 8, kAud = 9, kFiller = 12;
constexpr unsigned kStapA = 24, kFuA = 28;

}  // namespace

H264Packetizer::H264Packetizer(const NalPacketizerOptions& options)
    : NalPacketizer({"H.264", "ERR_H264_BAD_NAL", 1, 2, 2}, options) {}

unsigned H264Packetizer::TypeOf(const uint8_t* header) const { return header[0] & 0x1Fu; }
bool H264Packetizer::IsReservedForRtp(unsigned type) const { return type == 0 || type >= 24; }
bool H264Packetizer::IsDropped(unsigned type) const { return type == kAud || type == kFiller; }
int H264Packetizer::ParameterSetSlot(unsigned type) const {
  return type == kSps ? 0 : type == kPps ? 1 : -1;
}
bool H264Packetizer::IsKeyPicture(unsigned type) const { return type == kIdr; }
bool H264Packetizer::IsVcl(unsigned type) const { return type >= 1 && type <= 5; }

void H264Packetizer::AggregationHeader(const std::vector<const uint8_t*>& headers,
                                       uint8_t* out) const {
  // RFC 6184 §5.7.1: F is the OR of the aggregated F bits, NRI their maximum.
  unsigned f = 0, nri = 0;
  for (const uint8_t* h : headers) {
    f |= h[0] & 0x80u;
    nri = std::max(nri, h[0] & 0x60u);
  }
  out[0] = static_cast<uint8_t>(f | nri | kStapA);
}

void H264Packetizer::FragmentPrefix(const uint8_t* header, bool start, bool end,
                                    uint8_t* out) const {
  // RFC 6184 §5.8: FU indicator (the NAL's F and NRI, type 28), FU header (S, E, R=0, type).
  out[0] = static_cast<uint8_t>((header[0] & 0xE0u) | kFuA);
  out[1] = static_cast<uint8_t>((start ? 0x80u : 0u) | (end ? 0x40u : 0u) | (header[0] & 0x1Fu));
}

bool H264ContainsKeyFrame(ByteSpan frame, NalFraming framing) {
  auto split = SplitNalUnits(frame, framing);
  if (!split.ok()) return false;
  return std::any_of(split.value().begin(), split.value().end(),
                     [&](const NalUnit& u) { return (frame.data[u.offset] & 0x1F) == kIdr; });
}

}  // namespace kvs::media
