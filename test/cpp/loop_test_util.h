// Helpers for tests that drive the network thread.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <memory>

#include "loop/event_loop.h"

namespace kvs::testing {

inline std::unique_ptr<loop::EventLoop> NewLoop() {
  auto loop = loop::EventLoop::Start();
  REQUIRE_MESSAGE(loop.ok(), loop.status().message());
  return loop.take();
}

// Runs fn on the loop thread and waits for its result (10 s at most).
template <typename F>
auto OnLoop(loop::EventLoop& loop, F fn) -> decltype(fn()) {
  std::promise<decltype(fn())> p;
  auto f = p.get_future();
  loop.Post([&] { p.set_value(fn()); });
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  return f.get();
}

}  // namespace kvs::testing
