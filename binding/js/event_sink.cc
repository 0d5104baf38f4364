#include "js/event_sink.h"

#include <optional>

namespace kvs::js {

EventSink::EventSink(Napi::Env env) : env_(env) {
  tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function(), "kvs-webrtc-events", 0, 1);
  tsfn_.Unref(env);  // nothing to wait for until a peer connection exists
}

EventSink::~EventSink() = default;

bool EventSink::Push(Event event) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    queue_.push_back(std::move(event));
    if (scheduled_) return true;
    scheduled_ = true;
  }
  const napi_status st = tsfn_.NonBlockingCall([this](Napi::Env env, Napi::Function) {
    if (static_cast<napi_env>(env) != nullptr) Drain(env);  // null while the env tears down
  });
  if (st != napi_ok) {
    std::lock_guard<std::mutex> lock(mutex_);
    scheduled_ = false;
    return false;
  }
  return true;
}

void EventSink::Drain(Napi::Env env) {
  std::vector<Event> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(queue_);
    scheduled_ = false;
  }
  // One listener throwing must not swallow the others' events: deliver all, then rethrow the
  // first error as Node would for any callback.
  std::optional<Napi::Error> first;
  for (auto& event : batch) {
    Napi::HandleScope scope(env);
    try {
      event(env);
    } catch (const Napi::Error& e) {
      if (!first) first = e;
    }
  }
  if (first) first->ThrowAsJavaScriptException();
}

void EventSink::Hold() {
  if (holds_++ == 0) tsfn_.Ref(env_);
}

void EventSink::Release() {
  if (holds_ > 0 && --holds_ == 0) tsfn_.Unref(env_);
}

void EventSink::Close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
    queue_.clear();
  }
  // Node releases the thread-safe function itself when the environment is torn down.
}

}  // namespace kvs::js
