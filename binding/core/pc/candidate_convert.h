// Between the SDP text model of a candidate and the agent's resolved one.
#pragma once

#include "common/status.h"
#include "ice/ice_candidate.h"
#include "sdp/candidate.h"

namespace kvs::pc {

// ERR_ICE_UNSUPPORTED_CANDIDATE for what the agent cannot use as it stands (mDNS names, which
// the transport resolves first; other hostnames; TCP without tcptype or with tcptype so;
// transports other than UDP and TCP), with the reason: the caller logs and skips it, it is
// never an error for the peer.
Result<ice::Candidate> FromSdp(const sdp::Candidate& c);
sdp::Candidate ToSdp(const ice::Candidate& c);

}  // namespace kvs::pc
