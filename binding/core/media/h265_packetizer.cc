#include "media/h265_packetizer.h"

#include <algorithm>

namespace kvs::media {
namespace {

constexpr unsigned kVps = 32, kSps = 33, kPps = 34, kAud = 35, kFiller = 38;
constexpr unsigned kAp = 48, kFu = 49;

// The 2-byte NAL unit header (H.265 §7.3.1.2): F(1) Type(6) LayerId(6) TID(3).
unsigned TypeOfHeader(const uint8_t* h) { return (h[0] >> 1) & 0x3Fu; }
unsigned LayerIdOf(const uint8_t* h) { return ((h[0] & 1u) << 5) | (h[1] >> 3); }
unsigned TidOf(const uint8_t* h) { return h[1] & 7u; }

}  // namespace

H265Packetizer::H265Packetizer(const NalPacketizerOptions& options)
    : NalPacketizer({"H.265", "ERR_H265_BAD_NAL", 2, 3, 3}, options) {}

unsigned H265Packetizer::TypeOf(const uint8_t* header) const { return TypeOfHeader(header); }
bool H265Packetizer::IsReservedForRtp(unsigned type) const { return type >= kAp; }
const char* H265Packetizer::HeaderFault(const uint8_t* header) const {
  return TidOf(header) == 0 ? "TID 0 (nuh_temporal_id_plus1 must not be 0)" : nullptr;
}
bool H265Packetizer::IsDropped(unsigned type) const { return type == kAud || type == kFiller; }
int H265Packetizer::ParameterSetSlot(unsigned type) const {
  return type >= kVps && type <= kPps ? static_cast<int>(type - kVps) : -1;
}
bool H265Packetizer::IsKeyPicture(unsigned type) const { return type >= 16 && type <= 21; }
bool H265Packetizer::IsVcl(unsigned type) const { return type <= 31; }

void H265Packetizer::AggregationHeader(const std::vector<const uint8_t*>& headers,
                                       uint8_t* out) const {
  // RFC 7798 §4.4.2: F is the OR of the aggregated F bits; LayerId and TID their minimum.
  unsigned f = 0, layer = 63, tid = 7;
  for (const uint8_t* h : headers) {
    f |= h[0] & 0x80u;
    layer = std::min(layer, LayerIdOf(h));
    tid = std::min(tid, TidOf(h));
  }
  out[0] = static_cast<uint8_t>(f | (kAp << 1) | (layer >> 5));
  out[1] = static_cast<uint8_t>(((layer & 0x1Fu) << 3) | tid);
}

void H265Packetizer::FragmentPrefix(const uint8_t* header, bool start, bool end,
                                    uint8_t* out) const {
  // RFC 7798 §4.4.3: the payload header is the NAL's with type 49, then the FU header
  // (S, E, FuType).
  out[0] = static_cast<uint8_t>((header[0] & 0x81u) | (kFu << 1));
  out[1] = header[1];
  out[2] = static_cast<uint8_t>((start ? 0x80u : 0u) | (end ? 0x40u : 0u) | TypeOfHeader(header));
}

bool H265ContainsKeyFrame(ByteSpan frame, NalFraming framing) {
  auto split = SplitNalUnits(frame, framing);
  if (!split.ok()) return false;
  return std::any_of(split.value().begin(), split.value().end(), [&](const NalUnit& u) {
    if (u.length < 2) return false;
    const unsigned type = TypeOfHeader(frame.data + u.offset);
    return type >= 16 && type <= 21;
  });
}

}  // namespace kvs::media
