#include "js/event_sink.h"

namespace kvs::js {

EventSink::EventSink(Napi::Env env, Limits limits) : env_(env), limits_(limits) {
  napi_value name = Napi::String::New(env, "kvs-webrtc-events");
  const napi_status st = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr,
                                                         nullptr, this, CallJs, &tsfn_);
  if (st != napi_ok) {
    tsfn_ = nullptr;
    closed_ = true;
    return;
  }
  (void)napi_unref_threadsafe_function(env, tsfn_);  // nothing to wait for yet
}

EventSink::~EventSink() = default;

bool EventSink::Push(Event event, size_t bytes, bool droppable) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    if (droppable && (queue_.size() >= limits_.maxEvents ||
                      queuedBytes_.load(std::memory_order_relaxed) + bytes > limits_.maxBytes)) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queue_.push_back({std::move(event), bytes});
    queuedBytes_.fetch_add(bytes, std::memory_order_relaxed);
    if (scheduled_) return true;
    scheduled_ = true;
  }
  if (napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking) != napi_ok) {
    // The function is closing: the environment is going away and nothing will be read.
    std::lock_guard<std::mutex> lock(mutex_);
    scheduled_ = false;
    return false;
  }
  return true;
}

void EventSink::CallJs(napi_env env, napi_value /*jsCallback*/, void* context, void* /*data*/) {
  auto* self = static_cast<EventSink*>(context);
  // A null env means the environment is tearing down: no JS can run.
  if (env == nullptr || self == nullptr) return;
  try {
    self->Drain(env);
  } catch (...) {
    // Nothing may escape into Node; Drain already reported what JS should see.
  }
}

void EventSink::Drain(napi_env rawEnv) {
  Napi::Env env(rawEnv);
  std::vector<Queued> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(queue_);
    scheduled_ = false;
    if (closed_) batch.clear();
  }
  std::vector<Napi::Error> thrown;
  size_t bytes = 0;
  for (auto& q : batch) {
    bytes += q.bytes;
    try {
      Napi::HandleScope scope(env);
      q.event(env);
    } catch (const Napi::Error& e) {
      thrown.push_back(e);
    } catch (...) {
      // A failure of N-API itself (the environment is stopping): nothing to report to.
    }
  }
  queuedBytes_.fetch_sub(bytes, std::memory_order_relaxed);
  // Listeners that threw become uncaught exceptions, as they would from any Node callback.
  for (auto& e : thrown) {
    try {
      Napi::HandleScope scope(env);
      (void)napi_fatal_exception(env, e.Value());
    } catch (...) {
    }
  }
}

void EventSink::Hold() {
  if (holds_++ == 0 && tsfn_ != nullptr) (void)napi_ref_threadsafe_function(env_, tsfn_);
}

void EventSink::Release() {
  if (holds_ > 0 && --holds_ == 0 && tsfn_ != nullptr) {
    (void)napi_unref_threadsafe_function(env_, tsfn_);
  }
}

void EventSink::Close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  closed_ = true;
  queue_.clear();
  queuedBytes_.store(0, std::memory_order_relaxed);
  // Node releases the thread-safe function itself when the environment is torn down.
}

}  // namespace kvs::js
