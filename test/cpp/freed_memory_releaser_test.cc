#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <vector>

#include "common/release_memory.h"
#include "loop/freed_memory_releaser.h"
#include "loop_test_util.h"

using kvs::loop::FreedMemoryReleaser;
using kvs::testing::NewLoop;
using kvs::testing::OnLoop;

TEST_CASE("freed-memory releaser: a burst of teardowns costs one release, a later one another") {
  auto loop = NewLoop();
  std::unique_ptr<FreedMemoryReleaser> releaser;
  std::promise<void> first, second;
  int releases = 0;
  OnLoop(*loop, [&] {
    releaser = std::make_unique<FreedMemoryReleaser>(*loop, [&] {
      if (++releases == 1)
        first.set_value();
      else if (releases == 2)
        second.set_value();
    });
    for (int i = 0; i < 100; i++) releaser->Freed();  // one burst, in one task
    return true;
  });
  REQUIRE(first.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  CHECK(OnLoop(*loop, [&] { return releases; }) == 1);
  OnLoop(*loop, [&] {
    releaser->Freed();
    return true;
  });
  REQUIRE(second.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  CHECK(OnLoop(*loop, [&] { return releaser->releases(); }) == 2);
  OnLoop(*loop, [&] {
    releaser.reset();  // a timer belongs to its loop thread
    return true;
  });
}

#if !defined(__SANITIZE_ADDRESS__) && defined(__GLIBC__)
namespace {
long ResidentKiB() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * 4;  // pages of 4 KiB on the targets built here
}
}  // namespace
#endif

TEST_CASE("ReleaseFreedMemory hands back freed heap pages that malloc kept") {
#if defined(__SANITIZE_ADDRESS__) || !defined(__GLIBC__)
  MESSAGE("skipped: glibc's malloc only (the sanitizers bring their own allocator)");
#else
  // 48 MiB in small blocks (below the mmap threshold: from the arena), all touched, then all
  // freed but the last, which keeps the arena's top in place so free() alone trims nothing.
  std::vector<void*> blocks;
  for (int i = 0; i < 12 * 1024; i++) {
    void* p = std::malloc(4096);
    REQUIRE(p != nullptr);
    static_cast<volatile char*>(p)[0] = 1;
    static_cast<volatile char*>(p)[4095] = 1;
    blocks.push_back(p);
  }
  for (size_t i = 0; i + 1 < blocks.size(); i++) std::free(blocks[i]);
  const long before = ResidentKiB();
  kvs::ReleaseFreedMemory();
  const long after = ResidentKiB();
  std::free(blocks.back());
  MESSAGE("RSS " << before << " KiB -> " << after << " KiB");
  CHECK(before - after > 24 * 1024);
#endif
}
