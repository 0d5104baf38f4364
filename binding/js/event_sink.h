// The one path from the network thread to JavaScript: events queue here and are delivered in
// batches through a single ThreadSafeFunction call, however many arrive before JS runs.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace kvs::js {

class EventSink {
 public:
  using Event = std::function<void(Napi::Env)>;

  explicit EventSink(Napi::Env env);
  ~EventSink();

  // Any thread. Returns false once the sink is closed (the environment is going away).
  bool Push(Event event);
  // JS thread: while any peer connection lives, pending events keep Node running.
  void Hold();
  void Release();
  // JS thread, at environment teardown.
  void Close();

 private:
  void Drain(Napi::Env env);

  Napi::Env env_;
  Napi::ThreadSafeFunction tsfn_;
  std::mutex mutex_;
  std::vector<Event> queue_;
  bool scheduled_ = false;
  bool closed_ = false;
  int holds_ = 0;
};

}  // namespace kvs::js
