#include "loop/event_loop.h"

#include <future>

#include "loop/handle.h"

namespace kvs::loop {

Result<std::unique_ptr<EventLoop>> EventLoop::Start() {
  auto loop = std::make_unique<EventLoop>(Key{});
  int rc = uv_loop_init(&loop->loop_);
  if (rc != 0) return Status::Fail("ERR_LOOP", std::string("uv_loop_init: ") + uv_strerror(rc));
  loop->loop_.data = loop.get();
  rc = uv_async_init(&loop->loop_, &loop->wakeup_, &EventLoop::OnAsync);
  if (rc != 0) {
    uv_loop_close(&loop->loop_);
    return Status::Fail("ERR_LOOP", std::string("uv_async_init: ") + uv_strerror(rc));
  }
  loop->wakeup_.data = loop.get();
  std::promise<void> started;
  auto ready = started.get_future();
  EventLoop* self = loop.get();
  loop->thread_ = std::thread([self, &started] {
    self->threadId_.store(std::this_thread::get_id());
    started.set_value();
    self->Run();
  });
  ready.wait();
  return loop;
}

EventLoop::EventLoop(Key) {}

EventLoop::~EventLoop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  uv_async_send(&wakeup_);
  if (thread_.joinable()) thread_.join();
}

bool EventLoop::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return false;
    tasks_.push_back(std::move(task));
  }
  // Coalesces: many posts before the loop wakes cost one wake-up.
  uv_async_send(&wakeup_);
  return true;
}

void EventLoop::OnAsync(uv_async_t* handle) { static_cast<EventLoop*>(handle->data)->Drain(); }

void EventLoop::Drain() {
  std::deque<std::function<void()>> batch;
  bool stopping = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(tasks_);
    stopping = stopping_;
  }
  for (auto& task : batch) task();
  if (!stopping) return;
  // Shutdown: close every handle still open (their owners may outlive the loop; see
  // handle.h), so uv_run returns once the close callbacks have run.
  uv_close(reinterpret_cast<uv_handle_t*>(&wakeup_), nullptr);
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) CloseHandle(*static_cast<HandleBlock*>(h->data));
      },
      nullptr);
}

void EventLoop::Run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

}  // namespace kvs::loop
