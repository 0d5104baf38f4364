#include "loop/timer.h"

namespace kvs::loop {

Timer::Timer(EventLoop& loop) : block_(NewHandleBlock<Block>()) {
  uv_timer_init(loop.uv(), &block_->timer);
}

Timer::~Timer() { CloseHandle(*block_); }

void Timer::Start(uint64_t timeoutMs, std::function<void()> callback) {
  Arm(timeoutMs, 0, std::move(callback));
}

void Timer::StartRepeating(uint64_t intervalMs, std::function<void()> callback) {
  Arm(intervalMs, intervalMs, std::move(callback));
}

void Timer::Arm(uint64_t timeoutMs, uint64_t repeatMs, std::function<void()> callback) {
  if (block_->closed) return;
  block_->callback = std::move(callback);
  uv_timer_start(
      &block_->timer,
      [](uv_timer_t* t) {
        // Keep the block (and the callback) alive even if the callback destroys the Timer.
        std::shared_ptr<HandleBlock> keep = static_cast<HandleBlock*>(t->data)->self;
        auto* b = static_cast<Block*>(static_cast<HandleBlock*>(t->data));
        if (!keep || b->closed) return;
        auto cb = b->callback;
        if (cb) cb();
      },
      timeoutMs, repeatMs);
}

void Timer::Stop() {
  if (!block_->closed) uv_timer_stop(&block_->timer);
}

bool Timer::active() const {
  return !block_->closed && uv_is_active(reinterpret_cast<const uv_handle_t*>(&block_->timer));
}

}  // namespace kvs::loop
