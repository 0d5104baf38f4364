// What the H.264 (RFC 6184, packetization-mode 1) and H.265 (RFC 7798, no DONL) packetizers
// share: split the access unit into NAL units, drop the ones not worth sending, put the cached
// parameter sets in front of a key picture that lacks them, aggregate runs of small NAL units
// (STAP-A / AP), fragment large ones (FU-A / FU), and mark the last payload. The codec
// subclasses supply the header rules.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "media/nal_units.h"
#include "media/rtp_payload.h"

namespace kvs::media {

struct NalPacketizerOptions {
  NalFraming framing = NalFraming::kAuto;
  // Send runs of small NAL units in one aggregation packet. Off: one packet per NAL unit (the
  // C SDK's behaviour).
  bool aggregate = true;
  // Put the last parameter sets seen in front of every key picture that lacks them. Chromium
  // asks for a key frame (and shows nothing) when an IDR arrives whose SPS/PPS it has not seen.
  bool repeatParameterSets = true;
};

class NalPacketizer : public Packetizer {
 public:
  Status Packetize(const SharedBytes& frame, size_t maxPayload, std::vector<RtpPayload>& out) final;

  // Key pictures that got cached parameter sets put in front of them.
  uint64_t parameterSetsInserted() const { return parameterSetsInserted_; }
  // Key pictures sent without all their parameter sets: neither in the frame nor cached (none
  // seen yet), or repetition is off. A receiver that has not seen them cannot decode them.
  uint64_t keyPicturesWithoutParameterSets() const { return keyPicturesWithout_; }
  // Whether the last frame Packetize accepted held a key picture (IDR / IRAP), so that a
  // caller learns it without splitting the frame a second time.
  bool lastFrameWasKeyPicture() const { return lastKeyPicture_; }
  // The parameter set cached in `slot` (H.264: 0 SPS, 1 PPS; H.265: 0 VPS, 1 SPS, 2 PPS), or
  // null. The pointer changes exactly when the cached bytes do.
  const SharedBytes& parameterSet(size_t slot) const { return parameterSets_[slot]; }

 protected:
  static constexpr size_t kMaxParameterSets = 3;  // VPS, SPS, PPS

  struct Rules {
    const char* codec;         // "H.264", for messages
    const char* badNalCode;    // error code for a NAL unit that cannot be sent
    size_t headerSize;         // NAL unit header bytes: 1 or 2
    size_t fuPrefixSize;       // bytes a fragmentation unit adds before the fragment
    size_t parameterSetCount;  // kinds of parameter set cached: 2 (SPS, PPS) or 3 (+VPS)
  };

  NalPacketizer(const Rules& rules, const NalPacketizerOptions& options);

  virtual unsigned TypeOf(const uint8_t* header) const = 0;
  // Types the RTP format reserves for its own packets (STAP, FU...), which a frame may not hold.
  virtual bool IsReservedForRtp(unsigned type) const = 0;
  // Why a NAL unit header is one no receiver would accept (nullptr: it is fine).
  virtual const char* HeaderFault(const uint8_t* /*header*/) const { return nullptr; }
  // Types not sent at all (access unit delimiters, filler data).
  virtual bool IsDropped(unsigned type) const = 0;
  // The cache slot of a parameter set type, in the order they must be sent; -1 for others.
  virtual int ParameterSetSlot(unsigned type) const = 0;
  virtual bool IsKeyPicture(unsigned type) const = 0;  // IDR, IRAP
  virtual bool IsVcl(unsigned type) const = 0;         // coded slice data
  // The aggregation packet's header (headerSize bytes) for NAL units with these headers.
  virtual void AggregationHeader(const std::vector<const uint8_t*>& headers,
                                 uint8_t* out) const = 0;
  // The fuPrefixSize bytes before a fragment of the NAL unit with this header.
  virtual void FragmentPrefix(const uint8_t* header, bool start, bool end, uint8_t* out) const = 0;

 private:
  struct Ref {
    const SharedBytes* source;
    uint32_t offset;
    uint32_t length;
    const uint8_t* data() const { return (*source)->data() + offset; }
  };

  void EmitAggregate(const std::vector<Ref>& nals, size_t from, size_t to,
                     std::vector<RtpPayload>& out) const;
  void EmitFragments(const Ref& nal, size_t maxPayload, std::vector<RtpPayload>& out) const;

  Rules rules_;
  NalPacketizerOptions options_;
  std::array<SharedBytes, kMaxParameterSets> parameterSets_;
  uint64_t parameterSetsInserted_ = 0;
  uint64_t keyPicturesWithout_ = 0;
  bool lastKeyPicture_ = false;
};

}  // namespace kvs::media
