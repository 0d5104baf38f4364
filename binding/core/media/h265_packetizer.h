// H.265 over RTP, RFC 7798 without DONL (sprop-max-don-diff=0): single NAL unit packets,
// aggregation packets (AP, type 48) for runs of small NAL units, fragmentation units (FU,
// type 49) for NAL units larger than the payload size. Input frames are Annex-B or
// length-prefixed access units.
//
// What it changes on the way:
// - AUD (type 35) and filler data (type 38) are dropped.
// - The last VPS (32), SPS (33) and PPS (34) seen are cached; an IRAP access unit (types
//   16-21) that lacks one gets the cached one right before its first slice, aggregated in one
//   AP when they fit (Safari needs them with every key frame, media-facts.md).
// - NAL unit types 48-63 are refused (ERR_H265_BAD_NAL): RTP uses 48-50 for its own packets and
//   51-63 are unspecified. So is a TID of 0 (nuh_temporal_id_plus1 = 0 is forbidden).
#pragma once

#include "media/nal_packetizer.h"

namespace kvs::media {

class H265Packetizer final : public NalPacketizer {
 public:
  explicit H265Packetizer(const NalPacketizerOptions& options = {});

 private:
  unsigned TypeOf(const uint8_t* header) const override;
  bool IsReservedForRtp(unsigned type) const override;
  const char* HeaderFault(const uint8_t* header) const override;
  bool IsDropped(unsigned type) const override;
  int ParameterSetSlot(unsigned type) const override;
  bool IsKeyPicture(unsigned type) const override;
  bool IsVcl(unsigned type) const override;
  void AggregationHeader(const std::vector<const uint8_t*>& headers, uint8_t* out) const override;
  void FragmentPrefix(const uint8_t* header, bool start, bool end, uint8_t* out) const override;
};

// True when the access unit holds an IRAP NAL unit (types 16-21). False for one that cannot be
// split.
bool H265ContainsKeyFrame(ByteSpan frame, NalFraming framing = NalFraming::kAuto);

}  // namespace kvs::media
