// H.264 over RTP, RFC 6184 packetization-mode 1 (non-interleaved): single NAL unit packets,
// STAP-A for runs of small NAL units (SPS+PPS+SEI before an IDR, typically), FU-A for NAL units
// larger than the payload size. Input frames are Annex-B or length-prefixed access units.
//
// What it changes on the way:
// - AUD (type 9) and filler data (type 12) are dropped: they cost packets and mean nothing to
//   a WebRTC receiver.
// - The last SPS (7) and PPS (8) seen are cached; an IDR (5) access unit that lacks one gets
//   the cached one right before its first slice, in the same STAP-A as its SEI when they fit
//   (media-facts.md: Chromium discards an IDR whose SPS/PPS it has not seen, and apps forget to
//   repeat them). One of each is cached: streams that switch between several SPS or PPS ids
//   must send theirs in-band.
// - NAL unit types 0 and 24-31 are refused (ERR_H264_BAD_NAL): RTP uses them for its own
//   packets, so a receiver would misread them.
#pragma once

#include "media/nal_packetizer.h"

namespace kvs::media {

class H264Packetizer final : public NalPacketizer {
 public:
  explicit H264Packetizer(const NalPacketizerOptions& options = {});

 private:
  unsigned TypeOf(const uint8_t* header) const override;
  bool IsReservedForRtp(unsigned type) const override;
  bool IsDropped(unsigned type) const override;
  int ParameterSetSlot(unsigned type) const override;
  bool IsKeyPicture(unsigned type) const override;
  bool IsVcl(unsigned type) const override;
  void AggregationHeader(const std::vector<const uint8_t*>& headers, uint8_t* out) const override;
  void FragmentPrefix(const uint8_t* header, bool start, bool end, uint8_t* out) const override;
};

// True when the access unit (Annex-B or length-prefixed, told apart as NalFraming::kAuto does)
// holds an IDR NAL unit. False for one that cannot be split.
bool H264ContainsKeyFrame(ByteSpan frame, NalFraming framing = NalFraming::kAuto);

}  // namespace kvs::media
