// Rebuilds H.265 access units from RFC 7798 payloads without DONL (sprop-max-don-diff=0):
// single NAL unit packets (types 0-47), aggregation packets (48) and fragmentation units (49).
// The output is Annex-B with 4-byte start codes.
//
// Refused: PACI (50) and the unspecified types 51-63 (ERR_H265_UNSUPPORTED_PACKET); a payload
// header with F=1 is kept, one with TID 0 (forbidden by H.265 §7.4.2.2) is ERR_H265_BAD_NAL.
// Malformed input (ERR_H265_TRUNCATED, ERR_H265_BAD_NAL, ERR_H265_FU_SEQUENCE) is an error for
// the whole frame.
#pragma once

#include "media/rtp_payload.h"

namespace kvs::media {

class H265Depacketizer final : public Depacketizer {
 public:
  Result<Frame> Depacketize(const std::vector<ByteSpan>& payloadsInSeqOrder) const override;
  Result<PayloadInfo> Inspect(ByteSpan payload) const override;
};

}  // namespace kvs::media
