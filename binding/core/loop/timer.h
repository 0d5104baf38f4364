// A one-shot or repeating timer on the loop thread. Destroying it cancels it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "loop/event_loop.h"
#include "loop/handle.h"

namespace kvs::loop {

class Timer {
 public:
  explicit Timer(EventLoop& loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Replaces any pending expiry. The callback may destroy the Timer.
  void Start(uint64_t timeoutMs, std::function<void()> callback);
  void StartRepeating(uint64_t intervalMs, std::function<void()> callback);
  void Stop();
  bool active() const;

 private:
  struct Block : HandleBlock {
    uv_timer_t timer{};
    std::function<void()> callback;
    uv_handle_t* handle() override { return reinterpret_cast<uv_handle_t*>(&timer); }
  };
  void Arm(uint64_t timeoutMs, uint64_t repeatMs, std::function<void()> callback);

  std::shared_ptr<Block> block_;
};

}  // namespace kvs::loop
