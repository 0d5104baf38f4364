// Structural checks on an inbound SCTP packet before usrsctp sees it. usrsctp 0.9.5 walks the
// parameters of some chunks without checking that each advances: an INIT whose parameter has
// length 0, arriving on an established association, spins forever in
// sctp_are_there_new_addresses() (found by test/fuzz/sctp_fuzz.cc). That walk runs to the end
// of the packet, not of the chunk, so the bytes after an INIT's last whole parameter count
// too: an INIT of 25 bytes whose body ends in one stray byte, padded with 01 00 00, makes the
// bogus parameter 00 01 00 00 and the same hang. Any peer past DTLS could
// freeze the network thread with one packet. We drop packets whose chunks or
// TLV-parameter lists are not well formed (RFC 4960 §3.2, §3.2.1); everything valid passes.
// Pure: no state, no I/O.
#pragma once

#include "common/bytes.h"
#include "common/status.h"

namespace kvs::sctp {

// ERR_SCTP_PACKET_TRUNCATED: shorter than the common header and one chunk header.
// ERR_SCTP_CHUNK_LENGTH: a chunk length below 4, past the packet, or below the fixed part of
//   an INIT or INIT ACK.
// ERR_SCTP_PARAM_LENGTH: in a chunk made of parameters or error causes (INIT, INIT ACK,
//   HEARTBEAT, HEARTBEAT ACK, ABORT, ERROR, RE-CONFIG), one with a length below 4 or past
//   the chunk, or bytes after the last one that are not a whole parameter.
Status CheckInboundPacket(ByteSpan packet);

}  // namespace kvs::sctp
