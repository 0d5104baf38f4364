// What the PeerConnection glue's translation units share: the per-object state, the call
// helper that runs work on the network thread and settles a promise, and the event emitter.
// Marshalling only.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "js/addon_state.h"
#include "js/errors.h"
#include "js/peer_connection_wrap.h"

namespace kvs::js {

// Bytes of frames a transceiver's writeFrame handed to the network thread and it has not
// taken yet: what `bufferedAmount` reports, and the bound writeFrame keeps.
struct TransceiverQueue {
  std::atomic<int64_t> bytes{0};
  std::atomic<uint64_t> framesRefused{0};  // writeFrame past the bound: not queued
};

// A data channel's bytes not yet on their way: sent from JS and not yet handed to SCTP
// (inFlight), and what SCTP holds that usrsctp has not taken (queued, mirrored by the network
// thread). bufferedAmount is their sum. Shared by both threads through the registry.
// One channel's buffered amount as JS sees it: bytes posted to the loop and not yet handed to
// the channel (inFlight) plus bytes the channel has not handed to usrsctp (queued). The
// bufferedamountlow event is decided here, on this sum (see peer_connection_data.cc).
struct ChannelCounters {
  std::atomic<int64_t> inFlight{0};
  std::atomic<int64_t> queued{0};
  std::atomic<int64_t> lowThreshold{0};
  std::atomic<bool> aboveThreshold{false};  // JS saw the sum above the threshold after a send
};
class ChannelRegistry {
 public:
  std::shared_ptr<ChannelCounters> Get(uint32_t handle) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& c = channels_[handle];
    if (!c) c = std::make_shared<ChannelCounters>();
    return c;
  }
  void Erase(uint32_t handle) {
    std::lock_guard<std::mutex> lock(mutex_);
    channels_.erase(handle);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<uint32_t, std::shared_ptr<ChannelCounters>> channels_;
};

struct PeerConnectionWrap::Shared {
  uint64_t id = 0;
  AddonState* state = nullptr;
  Napi::FunctionReference onEvent;  // JS thread only
  bool closed = false;
  // JS thread only (the queues themselves are shared with the network thread).
  std::unordered_map<uint32_t, std::shared_ptr<TransceiverQueue>> queues;
  std::shared_ptr<ChannelRegistry> channels = std::make_shared<ChannelRegistry>();
  uint32_t nextChannelHandle = 1;  // JS thread; the peer's channels get theirs natively
};

// Delivers (type, ...args) to a connection's onEvent, if the JS object still exists. `bytes`
// and `droppable` go to the event sink's bound (frames are droppable; state never is).
using EventArgs = std::function<std::vector<napi_value>(Napi::Env)>;
class Emitter {
 public:
  Emitter(std::weak_ptr<PeerConnectionWrap::Shared> target, std::shared_ptr<EventSink> sink)
      : target_(std::move(target)), sink_(std::move(sink)) {}
  bool operator()(EventArgs args, size_t bytes = 0, bool droppable = false) const {
    auto target = target_;
    return sink_->Push(
        [target, args](Napi::Env e) {
          std::shared_ptr<PeerConnectionWrap::Shared> s = target.lock();
          if (!s || s->onEvent.IsEmpty()) return;
          s->onEvent.Call(args(e));
        },
        bytes, droppable);
  }

 private:
  std::weak_ptr<PeerConnectionWrap::Shared> target_;
  std::shared_ptr<EventSink> sink_;
};

// Wires the media callbacks of a new core connection to JS events (peer_connection_media.cc).
void WireMediaEvents(pc::PeerConnection& pc, const Emitter& emit);
// The same for data channels (peer_connection_data.cc).
void WireDataChannelEvents(pc::PeerConnection& pc, const Emitter& emit,
                           std::shared_ptr<ChannelRegistry> channels);

// What JS keeps about each transceiver, sent after every call that can change it.
struct TransceiverInfo {
  size_t index = 0;
  std::string kind;
  std::string mid;
  std::string direction;
  std::string currentDirection;  // empty until negotiated
  std::string codec;             // what it sends (or would), empty until negotiated
  std::string trackId;
  double ssrc = 0;
};
std::vector<TransceiverInfo> TransceiversOf(const pc::PeerConnection& pc);
Napi::Value TransceiversToJs(Napi::Env e, const std::vector<TransceiverInfo>& list);

inline Napi::Value Rejected(Napi::Env env, const Status& status) {
  auto deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(ToJsError(env, status).Value());
  return deferred.Promise();
}

inline Status Closed() {
  return Status::Fail("ERR_INVALID_STATE", "the peer connection is closed");
}

// Runs `work` on the network thread against this connection, and settles the promise on the
// JS thread with `toJs` of its result. A closed connection rejects at once, without a trip to
// the network thread. While the call is in flight it holds the event sink, so that Node
// cannot exit with the promise unsettled.
template <typename T>
Napi::Value RunOnLoop(Napi::Env env, AddonState& state, uint64_t id, bool closed,
                      std::function<Result<T>(pc::PeerConnection&)> work,
                      std::function<Napi::Value(Napi::Env, const T&)> toJs) {
  if (closed) return Rejected(env, Closed());
  auto deferred = std::make_shared<Napi::Promise::Deferred>(env);
  Napi::Promise promise = deferred->Promise();
  std::shared_ptr<EventSink> sink = state.sink;
  AddonState* s = &state;
  sink->Hold();
  const bool posted = state.loop->Post([s, id, sink, deferred, work, toJs] {
    auto it = s->peerConnections.find(id);
    std::shared_ptr<Result<T>> result = it == s->peerConnections.end()
                                            ? std::make_shared<Result<T>>(Closed())
                                            : std::make_shared<Result<T>>(work(*it->second));
    const bool queued = sink->Push([deferred, result, toJs, sink](Napi::Env e) {
      sink->Release();
      if (result->ok()) {
        deferred->Resolve(toJs(e, result->value()));
      } else {
        deferred->Reject(ToJsError(e, result->status()).Value());
      }
    });
    // Not queued: the environment is going away and no promise can settle any more.
    (void)queued;
  });
  if (!posted) {
    sink->Release();
    deferred->Reject(
        ToJsError(env, Status::Fail("ERR_INVALID_STATE", "the network thread has stopped"))
            .Value());
  }
  return promise;
}

}  // namespace kvs::js
