// usrsctp is process-wide state. We run it without its own threads (our network loop will
// drive its timers) and keep it for the life of the process: it cannot be re-initialised.
#pragma once

#include "common/status.h"

namespace kvs::sctp {

Status EnsureUsrsctp();

// Creates and closes an AF_CONN socket: proves the linked library works in this process.
Status ProbeUsrsctpSocket();

}  // namespace kvs::sctp
