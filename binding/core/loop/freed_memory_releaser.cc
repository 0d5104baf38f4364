#include "loop/freed_memory_releaser.h"

#include <utility>

namespace kvs::loop {

FreedMemoryReleaser::FreedMemoryReleaser(EventLoop& loop, std::function<void()> release)
    : timer_(loop), release_(std::move(release)) {}

void FreedMemoryReleaser::Freed() {
  // Start replaces a pending expiry: the release waits for the burst to end.
  timer_.Start(kQuietMs, [this] {
    ++releases_;
    release_();
  });
}

}  // namespace kvs::loop
