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
#include "loop/freed_memory_releaser.h"
#include "pc/peer_connection.h"

namespace kvs::js {

struct AddonState {
  std::unique_ptr<loop::EventLoop> loop;
  std::shared_ptr<EventSink> sink;
  // Network thread only.
  std::map<uint64_t, std::unique_ptr<pc::PeerConnection>> peerConnections;
  // Network thread only: frees the connection `id` and, once teardowns pause, hands the freed
  // heap back to the system (see loop/freed_memory_releaser.h).
  void DestroyPeerConnection(uint64_t id);
  // Network thread only: something large was freed elsewhere (a connection's JS side, when
  // the collector finalized it): release once the pause comes, as after a teardown.
  void NoteFreed();
  // JS thread only.
  uint64_t nextId = 1;
  // Every live PeerConnectionWrap's shared state by id (type-erased: it is
  // PeerConnectionWrap::Shared), for calls that address several connections at once.
  std::unordered_map<uint64_t, std::weak_ptr<void>> wraps;
  Napi::FunctionReference peerConnectionClass;

  // The state of this environment, starting the network thread on first use.
  static AddonState& Of(Napi::Env env);
  ~AddonState();

 private:
  std::unique_ptr<loop::FreedMemoryReleaser> releaser_;  // network thread only, made on use
};

}  // namespace kvs::js
