// Releases freed heap memory to the system once a burst of connection teardowns is over:
// each teardown restarts a short quiet period, and when it passes with no other teardown,
// ReleaseFreedMemory runs once (so a master whose viewers come and go returns to its
// baseline RSS, and a hundred connections closed together cost one release, not a hundred).
// Loop-thread only.
#pragma once

#include <cstdint>
#include <functional>

#include "loop/event_loop.h"
#include "loop/timer.h"

namespace kvs::loop {

class FreedMemoryReleaser {
 public:
  static constexpr uint64_t kQuietMs = 1000;

  // `release` is what runs (ReleaseFreedMemory in production; a counter in tests).
  FreedMemoryReleaser(EventLoop& loop, std::function<void()> release);

  // A connection (or anything large) was just freed.
  void Freed();
  uint64_t releases() const { return releases_; }

 private:
  Timer timer_;
  std::function<void()> release_;
  uint64_t releases_ = 0;
};

}  // namespace kvs::loop
