// usrsctp is process-wide state. We run it without its own timer thread (the owners of
// associations drive its timers) and keep it for the life of the process: it cannot be
// re-initialised.
//
// Threading contract
// ------------------
// * Every call into usrsctp made by this module happens inside a UsrsctpCall scope, which
//   holds one process-wide mutex. usrsctp is therefore entered by one thread at a time, and
//   the callbacks it raises from inside a call (conn_output, the socket upcall) run on that
//   thread, under that mutex. Nothing else in the process may call usrsctp.
// * Those callbacks never run user code. They look the endpoint up by its token in a
//   registry guarded by the same mutex and append to its mailbox: packets to send, and
//   "readable"/"writable" flags. An endpoint is unregistered (under the mutex) before it is
//   freed, so a callback for an endpoint that is being or has been destroyed finds nothing
//   and is dropped.
// * Each endpoint (one Association) has an owner thread: the one that created it and makes
//   every call on it. When work for it is raised during another call (a timer that fired in
//   TickUsrsctp on thread B, for an association of thread A), the endpoint's wake function
//   is called, still under the mutex, and the owner later calls Association::Poll() on its
//   own thread, which drains the mailbox and runs user callbacks there. A wake function must
//   only signal (uv_async_send, set a flag): it must not call into SCTP.
// * usrsctp_init_nothreads still starts usrsctp's "iterator" thread. It only works for
//   wildcard-bound endpoints and ASCONF; we bind every socket to its own AF_CONN address and
//   disable ASCONF, so it never sends for us. Should it raise a callback anyway, the
//   callback is on a thread without the mutex and drops the packet (SCTP retransmits)
//   rather than touch shared state unlocked.
// * TickUsrsctp(nowMs) may be called from any thread. nowMs comes from one process-wide
//   monotonic millisecond clock (uv_hrtime() / 1e6 in production; the tests' fake clock is
//   process-wide too); a time at or before the last one seen advances nothing, so several
//   loops ticking the same clock do not make usrsctp's time run fast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "common/status.h"

struct socket;

namespace kvs::sctp {

Status EnsureUsrsctp();

// Creates and closes an AF_CONN socket: proves the linked library works in this process.
Status ProbeUsrsctpSocket();

// How often an owner with live associations should call TickUsrsctp. usrsctp has no call
// that says when its next timer is due, so the owner polls; 10 ms is below every timer we
// configure (the 20 ms SACK delay is the shortest) and costs one list walk per tick.
constexpr uint32_t kUsrsctpTickIntervalMs = 10;

// Runs usrsctp's timers up to nowMs (see the contract above).
void TickUsrsctp(uint64_t nowMs);

// Associations alive in the process. An owner loop whose own associations are all gone, or
// a process where this is 0, runs no SCTP timer.
size_t LiveUsrsctpEndpoints();

namespace internal {

// What usrsctp raised for one endpoint. Only touched under the runtime mutex.
struct Mailbox {
  std::vector<std::vector<uint8_t>> packets;  // SCTP packets to hand to DTLS, in order
  bool readable = false;                      // data or a notification may be waiting
  bool writable = false;                      // the send buffer has room again
  std::function<void()> wake;                 // see the contract; may be empty
  bool wakePending = false;                   // wake was called and Poll has not run since
};

// Holds the runtime mutex for its lifetime. `self` is the token of the endpoint the caller
// is acting for (it drains its own mailbox after the call, so it is not woken); every other
// endpoint that received work during the scope is woken before the mutex is released.
class UsrsctpCall {
 public:
  explicit UsrsctpCall(void* self = nullptr);
  ~UsrsctpCall();
  UsrsctpCall(const UsrsctpCall&) = delete;
  UsrsctpCall& operator=(const UsrsctpCall&) = delete;
};

// Both need a UsrsctpCall scope. Register returns the endpoint's token: a unique non-null
// value used as its AF_CONN address (never dereferenced) and as its upcall argument.
void* RegisterEndpoint(Mailbox* mailbox);
void UnregisterEndpoint(void* token);

// The socket upcall to install with usrsctp_set_upcall(sock, SocketUpcall, token).
void SocketUpcall(struct socket* sock, void* token, int flags);

// Global usrsctp settings that have no per-socket option. They apply to associations created
// afterwards. Exposed for the benchmark, which measures them; production keeps the defaults.
struct GlobalTuning {
  uint32_t initialCwndMtus = 10;
  uint32_t maxChunksOnQueue = 4096;
};
void SetGlobalTuning(const GlobalTuning& tuning);
GlobalTuning DefaultGlobalTuning();

// For tests: callbacks that were raised off the mutex and dropped (see the contract).
struct GlobalStats {
  uint64_t droppedForeignThread = 0;
};
GlobalStats ReadGlobalStats();

}  // namespace internal
}  // namespace kvs::sctp
