// SessionDescription -> SDP text: CRLF line endings and a fixed order (RFC 8866 line order, then
// attributes in the order browsers emit them), so equal models give byte-equal text.
#pragma once

#include <string>

#include "sdp/session_description.h"

namespace kvs::sdp {

std::string SerializeSessionDescription(const SessionDescription& sd);

}  // namespace kvs::sdp
