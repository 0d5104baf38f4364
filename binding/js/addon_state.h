// Per-environment state: the network thread, the event path to JS, and the core objects
// (owned here, touched only on the network thread, addressed from JS by id).
#pragma once

#include <napi.h>

#include <cstdint>
#include <map>
#include <memory>

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
  Napi::FunctionReference peerConnectionClass;

  // The state of this environment, starting the network thread on first use.
  static AddonState& Of(Napi::Env env);
  ~AddonState();
};

}  // namespace kvs::js
