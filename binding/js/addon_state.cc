#include "js/addon_state.h"

#include <future>

#include "js/errors.h"

namespace kvs::js {

AddonState& AddonState::Of(Napi::Env env) {
  AddonState* state = env.GetInstanceData<AddonState>();
  if (state == nullptr) {
    auto created = std::make_unique<AddonState>();
    env.SetInstanceData<AddonState>(created.get());
    state = created.release();  // owned by the environment, freed at its teardown
  }
  if (!state->loop) {
    auto loop = loop::EventLoop::Start();
    if (!loop.ok()) throw ToJsError(env, loop.status());
    state->loop = loop.take();
    state->sink = std::make_shared<EventSink>(env);
  }
  return *state;
}

AddonState::~AddonState() {
  if (sink) sink->Close();
  if (!loop) return;
  // Core objects are destroyed where they live, before their thread stops.
  std::promise<void> done;
  if (loop->Post([this, &done] {
        peerConnections.clear();
        done.set_value();
      })) {
    done.get_future().wait();
  }
  loop.reset();
}

}  // namespace kvs::js
