// usrsctp reads the wall clock (gettimeofday) beside the timer ticks we give it: RTT samples,
// and the T3 rule that a chunk must have been outstanding for an RTO before it is marked for
// retransmission. A fake clock that only drove the ticks would fire T3 timers that then
// retransmit nothing, since no wall time passed. So in the test binary gettimeofday is the
// real time plus however far the fake clock was advanced: real time keeps flowing for every
// other test, and usrsctp sees both of its clocks move together. This definition in the
// executable takes precedence over libc's for the statically linked usrsctp (and for
// everything else in the process, which only ever sees time jump forward).
#include <sys/time.h>
#include <time.h>

#include <atomic>

#include "sctp_test_link.h"

namespace {

uint64_t RealMicros() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

extern "C" int gettimeofday(struct timeval* tv, void* /*tz*/) noexcept {
  using kvs::testing::FakeClock;
  // Pure mode (see FakeClock::SetPureFakeTime): the real part is frozen at its value when
  // pure mode was first seen; it only grows, so time never goes back when it ends.
  static std::atomic<uint64_t> frozenReal{0};
  uint64_t real = RealMicros();
  if (FakeClock::PureFakeTime()) {
    uint64_t expected = 0;
    frozenReal.compare_exchange_strong(expected, real);
    real = frozenReal.load();
  } else {
    frozenReal.store(0);
  }
  const uint64_t usec = real + FakeClock::ElapsedMs() * 1000u;
  tv->tv_sec = static_cast<time_t>(usec / 1000000u);
  tv->tv_usec = static_cast<suseconds_t>(usec % 1000000u);
  return 0;
}
