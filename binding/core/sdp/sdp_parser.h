// SDP text -> SessionDescription. Tolerant of what Chromium, Firefox and the KVS SDKs emit (CRLF
// or LF, trailing whitespace, blank lines, any attribute order), strict about structure: a
// malformed line is an ERR_SDP_MALFORMED whose message names the line, e.g.
//   line 7: "m=video abc UDP/TLS/RTP/SAVPF 96": port is not a number
#pragma once

#include <cstddef>
#include <string_view>

#include "common/status.h"
#include "sdp/session_description.h"

namespace kvs::sdp {

struct ParseLimits {
  size_t maxBytes = 64 * 1024;   // ERR_SDP_TOO_LARGE beyond this
  size_t maxMediaSections = 64;  // ERR_SDP_TOO_LARGE beyond this
};

Result<SessionDescription> ParseSessionDescription(std::string_view sdp,
                                                   const ParseLimits& limits = {});

}  // namespace kvs::sdp
