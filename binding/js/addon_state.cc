#include "js/addon_state.h"

#include <future>

#include "common/release_memory.h"
#include "js/errors.h"
#include "js/peer_connection_shared.h"

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
  // At the environment's teardown Node may free this before it finalizes the wraps still
  // alive: they must not reach back into it then (a use-after-free under ASan).
  for (auto& [id, weak] : wraps) {
    if (auto shared = std::static_pointer_cast<PeerConnectionWrap::Shared>(weak.lock())) {
      shared->state = nullptr;
    }
  }
  wraps.clear();
  if (sink) sink->Close();
  if (!loop) return;
  // Core objects are destroyed where they live, before their thread stops.
  std::promise<void> done;
  if (loop->Post([this, &done] {
        peerConnections.clear();
        releaser_.reset();
        done.set_value();
      })) {
    done.get_future().wait();
  }
  loop.reset();
}

void AddonState::DestroyPeerConnection(uint64_t id) {
  if (peerConnections.erase(id) == 0) return;
  NoteFreed();
}

void AddonState::NoteFreed() {
  if (!releaser_) {
    releaser_ = std::make_unique<loop::FreedMemoryReleaser>(*loop, [] { ReleaseFreedMemory(); });
  }
  releaser_->Freed();
}

}  // namespace kvs::js
