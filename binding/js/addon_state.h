// Per-environment state: the network thread, the event path to JS, and the core objects
// (owned here, touched only on the network thread, addressed from JS by id).
#pragma once

#include <napi.h>

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>

#include "js/event_sink.h"
#include "loop/event_loop.h"
#include "pc/peer_connection.h"

namespace kvs::js {

struct AddonState {
  std::unique_ptr<loop::EventLoop> loop;
  std::shared_ptr<EventSink> sink;
  // Network thread only.
  std::map<uint64_t, std::unique_ptr<pc::PeerConnection>> peerConnections;
  // JS thread only.
  uint64_t nextId = 1;
  // Every live PeerConnectionWrap's shared state by id (type-erased: it is
  // PeerConnectionWrap::Shared), for calls that address several connections at once.
  std::unordered_map<uint64_t, std::weak_ptr<void>> wraps;
  Napi::FunctionReference peerConnectionClass;

  // The state of this environment, starting the network thread on first use.
  static AddonState& Of(Napi::Env env);
  ~AddonState();
};

}  // namespace kvs::js
