// Rebuilds H.264 access units from RFC 6184 payloads: single NAL unit packets (types 1-23),
// STAP-A (24) and FU-A (28). The output is Annex-B with 4-byte start codes.
//
// Refused with ERR_H264_UNSUPPORTED_PACKET: STAP-B (25), MTAP16 (26), MTAP24 (27) and FU-B (29),
// which only the interleaved mode (2) uses and which no WebRTC peer negotiates. Malformed input
// (ERR_H264_TRUNCATED, ERR_H264_BAD_NAL, ERR_H264_FU_SEQUENCE) is an error for the whole frame,
// since a decoder given a NAL unit with a hole in it shows garbage.
#pragma once

#include "media/rtp_payload.h"

namespace kvs::media {

class H264Depacketizer final : public Depacketizer {
 public:
  Result<Frame> Depacketize(const std::vector<ByteSpan>& payloadsInSeqOrder) const override;
  Result<PayloadInfo> Inspect(ByteSpan payload) const override;
};

}  // namespace kvs::media
