// The network thread: one libuv loop on a thread of its own, owning every socket, timer and
// protocol state machine. Other threads talk to it only through Post().
//
// The addon uses the libuv that Node exports (its own loop, never Node's); the C++ tests link
// Debian's libuv. libuv keeps its ABI within 1.x, and we use nothing newer than 1.44.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace kvs::loop {

class EventLoop {
  struct Key {};

 public:
  static Result<std::unique_ptr<EventLoop>> Start();
  explicit EventLoop(Key);
  // Runs the queued tasks, closes every handle still open and joins the thread.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs `task` on the loop thread. Safe from any thread; tasks run in order. After
  // shutdown has begun, tasks are dropped (returns false).
  bool Post(std::function<void()> task);
  bool InLoopThread() const { return std::this_thread::get_id() == threadId_.load(); }

  // Loop-thread only.
  uv_loop_t* uv() { return &loop_; }
  // Milliseconds of the loop's clock (monotonic, cached per iteration).
  uint64_t NowMs() { return uv_now(&loop_); }
  // One receive buffer for every UDP socket of this loop: a datagram is read into it and
  // handed to its callback before the next read, so one suffices (not 64 KiB per socket).
  std::vector<char>& udpReceiveBuffer() { return udpReceiveBuffer_; }

 private:
  void Run();
  void Drain();
  static void OnAsync(uv_async_t* handle);

  uv_loop_t loop_{};
  uv_async_t wakeup_{};
  std::mutex mutex_;
  std::deque<std::function<void()>> tasks_;
  std::vector<char> udpReceiveBuffer_ = std::vector<char>(64 * 1024);
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::thread::id> threadId_{};
};

}  // namespace kvs::loop
