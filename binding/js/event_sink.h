// The one path from the network thread to JavaScript: events queue here and are delivered in
// batches through a single thread-safe function call, however many arrive before JS runs.
//
// Guarantees:
// - No C++ exception ever leaves a delivery: a listener that throws is re-raised as an
//   uncaught JS exception (napi_fatal_exception), as a throwing EventEmitter listener would
//   be, after the rest of the batch is delivered; failures while the environment tears down
//   are dropped.
// - The queue is bounded. Events marked droppable (media frames) are refused past the bound
//   and counted; the others (promise settlements, state changes, reliable messages) always
//   queue, and their producers apply back-pressure by reading queuedBytes().
#pragma once

#include <napi.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace kvs::js {

class EventSink {
 public:
  using Event = std::function<void(Napi::Env)>;

  struct Limits {
    size_t maxEvents;
    size_t maxBytes;
  };
  static constexpr Limits kDefaultLimits{20000, 64 * 1024 * 1024};

  explicit EventSink(Napi::Env env, Limits limits = kDefaultLimits);
  ~EventSink();
  EventSink(const EventSink&) = delete;
  EventSink& operator=(const EventSink&) = delete;

  // Any thread. `bytes` is what the event carries (for the bound and for back-pressure).
  // Returns false if the event was not queued: the sink is closed, or a droppable event
  // met a full queue (counted in dropped()).
  bool Push(Event event, size_t bytes = 0, bool droppable = false);

  // JS thread: while anything holds the sink (a live peer connection, a pending call),
  // Node keeps running until the events reach JS.
  void Hold();
  void Release();
  // JS thread, at environment teardown: nothing is delivered afterwards.
  void Close();

  size_t queuedBytes() const { return queuedBytes_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Queued {
    Event event;
    size_t bytes;
  };
  static void CallJs(napi_env env, napi_value jsCallback, void* context, void* data);
  void Drain(napi_env env);

  napi_env env_;
  napi_threadsafe_function tsfn_ = nullptr;
  Limits limits_;
  std::mutex mutex_;
  std::vector<Queued> queue_;
  bool scheduled_ = false;
  bool closed_ = false;
  std::atomic<size_t> queuedBytes_{0};
  std::atomic<uint64_t> dropped_{0};
  int holds_ = 0;  // JS thread only
};

}  // namespace kvs::js
