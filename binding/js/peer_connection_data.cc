// The data-channel half of the PeerConnection glue: createDataChannel, send, close and the
// buffered amount, and the channel events. Marshalling only: the work is in
// pc::PeerConnection and sctp::DataChannels.
#include <optional>
#include <string>

#include "js/peer_connection_shared.h"

namespace kvs::js {
namespace {

uint32_t HandleArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw ToJsError(info.Env(), Status::Fail("ERR_INVALID_ARGUMENT", "channel must be a number"));
  }
  const int64_t v = info[0].As<Napi::Number>().Int64Value();
  if (v < 1 || v >= pc::kRemoteChannelHandleBase * 2LL) {
    throw ToJsError(info.Env(), Status::Fail("ERR_INVALID_ARGUMENT", "no such data channel"));
  }
  return static_cast<uint32_t>(v);
}

std::optional<uint32_t> OptionalU32(Napi::Object o, const char* key) {
  if (!o.Has(key) || o.Get(key).IsUndefined() || o.Get(key).IsNull()) return std::nullopt;
  return o.Get(key).As<Napi::Number>().Uint32Value();
}

void ReleaseBytes(Napi::Env /*env*/, uint8_t* /*data*/, std::vector<uint8_t>* bytes) {
  delete bytes;  // NOLINT: the external buffer's owner, handed over with release()
}

Napi::Value InfoToJs(Napi::Env e, const sctp::DataChannelInfo& info) {
  Napi::Object o = Napi::Object::New(e);
  o.Set("id", Napi::Number::New(e, info.id));
  o.Set("label", info.label);
  o.Set("protocol", info.protocol);
  o.Set("ordered", info.ordered);
  o.Set("maxRetransmits",
        info.maxRetransmits ? Napi::Value(Napi::Number::New(e, *info.maxRetransmits)) : e.Null());
  o.Set("maxPacketLifeTime", info.maxPacketLifeTimeMs
                                 ? Napi::Value(Napi::Number::New(e, *info.maxPacketLifeTimeMs))
                                 : e.Null());
  o.Set("negotiated", info.negotiated);
  return o;
}

// bufferedamountlow (W3C): the buffered amount JS reads went from above the threshold to at
// or below it. That amount includes bytes still posted to the loop, which the channel below
// never sees: when usrsctp takes every message as it arrives, the channel's own queue never
// passes the threshold and it has no event to give, while JS saw the sum above it and waits.
// So the event is decided here, on the loop thread, after every decrease of the sum: a send
// handed over (inFlight falls) or the channel reporting its queue (queued falls). JS arms it
// after a send that left the sum above the threshold. Cleared before the sum is read, and
// re-armed if the sum is still above, so an arming that races with this check is never lost.
void MaybeBufferedAmountLow(const Emitter& emit, uint32_t handle, ChannelCounters& c) {
  if (!c.aboveThreshold.exchange(false)) return;
  if (c.inFlight.load() + c.queued.load() > c.lowThreshold.load()) {
    c.aboveThreshold.store(true);
    return;
  }
  (void)emit([handle](Napi::Env e) -> std::vector<napi_value> {
    return {Napi::String::New(e, "dcbufferedamountlow"), Napi::Number::New(e, handle)};
  });
}

}  // namespace

void WireDataChannelEvents(pc::PeerConnection& pc, const Emitter& emit,
                           std::shared_ptr<ChannelRegistry> channels) {
  pc.onDataChannel = [emit](uint32_t handle, const sctp::DataChannelInfo& info, uint64_t max) {
    const double maxMessageSize = static_cast<double>(max);
    (void)emit([handle, info, maxMessageSize](Napi::Env e) -> std::vector<napi_value> {
      Napi::Value described = InfoToJs(e, info);
      described.As<Napi::Object>().Set("maxMessageSize", Napi::Number::New(e, maxMessageSize));
      return {Napi::String::New(e, "datachannel"), Napi::Number::New(e, handle), described};
    });
  };
  pc.onDataChannelOpen = [emit](uint32_t handle, uint16_t id, uint64_t maxMessageSize) {
    const double max = static_cast<double>(maxMessageSize);
    (void)emit([handle, id, max](Napi::Env e) -> std::vector<napi_value> {
      return {Napi::String::New(e, "dcopen"), Napi::Number::New(e, handle),
              Napi::Number::New(e, id), Napi::Number::New(e, max)};
    });
  };
  pc.onDataChannelMessage = [emit](uint32_t handle, std::vector<uint8_t>&& data, bool binary) {
    const size_t size = data.size();
    auto bytes = std::make_shared<std::vector<uint8_t>>(std::move(data));
    // Reliable messages are never dropped: they are not droppable events.
    (void)emit(
        [handle, bytes, binary](Napi::Env e) -> std::vector<napi_value> {
          napi_value payload;
          if (binary) {
            auto owned = std::make_unique<std::vector<uint8_t>>(std::move(*bytes));
            uint8_t* p = owned->data();
            const size_t n = owned->size();
            payload = Napi::Buffer<uint8_t>::New(e, p, n, ReleaseBytes, owned.get());
            (void)owned.release();  // the Buffer's finalizer owns it now
          } else {
            payload =
                Napi::String::New(e, reinterpret_cast<const char*>(bytes->data()), bytes->size());
          }
          return {Napi::String::New(e, "dcmessage"), Napi::Number::New(e, handle), payload};
        },
        size);
  };
  // The channel's own low event counts its queue alone; the one JS gets is decided on the sum
  // JS reads (MaybeBufferedAmountLow), so this one is not forwarded.
  pc.onDataChannelBufferedAmountLow = [](uint32_t /*handle*/) {};
  pc.onDataChannelClosing = [emit](uint32_t handle) {
    (void)emit([handle](Napi::Env e) -> std::vector<napi_value> {
      return {Napi::String::New(e, "dcclosing"), Napi::Number::New(e, handle)};
    });
  };
  pc.onDataChannelClose = [emit, channels](uint32_t handle) {
    channels->Erase(handle);
    (void)emit([handle](Napi::Env e) -> std::vector<napi_value> {
      return {Napi::String::New(e, "dcclose"), Napi::Number::New(e, handle)};
    });
  };
  pc.onDataChannelError = [emit](uint32_t handle, const Status& error) {
    (void)emit([handle, error](Napi::Env e) -> std::vector<napi_value> {
      return {Napi::String::New(e, "dcerror"), Napi::Number::New(e, handle),
              ToJsError(e, error).Value()};
    });
  };
  pc.onDataChannelBufferedAmount = [emit, channels](uint32_t handle, size_t amount) {
    std::shared_ptr<ChannelCounters> c = channels->Get(handle);
    c->queued.store(static_cast<int64_t>(amount));
    MaybeBufferedAmountLow(emit, handle, *c);
  };
}

// createDataChannel(label, { protocol, ordered, maxRetransmits, maxPacketLifeTime,
// negotiated, id, priority }) -> handle. The channel exists at once; its events follow.
Napi::Value PeerConnectionWrap::CreateDataChannel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
    throw ToJsError(env, Status::Fail("ERR_INVALID_ARGUMENT", "createDataChannel(label, init)"));
  }
  if (shared_->closed) {
    throw ToJsError(env, Status::Fail("ERR_INVALID_STATE", "the peer connection is closed"));
  }
  Napi::Object o = info[1].As<Napi::Object>();
  sctp::DataChannelInit init;
  init.label = info[0].As<Napi::String>();
  if (o.Has("protocol") && o.Get("protocol").IsString())
    init.protocol = o.Get("protocol").ToString();
  if (o.Has("ordered") && o.Get("ordered").IsBoolean()) init.ordered = o.Get("ordered").ToBoolean();
  init.maxRetransmits = OptionalU32(o, "maxRetransmits");
  init.maxPacketLifeTimeMs = OptionalU32(o, "maxPacketLifeTime");
  if (o.Has("negotiated") && o.Get("negotiated").IsBoolean()) {
    init.negotiated = o.Get("negotiated").ToBoolean();
  }
  if (auto id = OptionalU32(o, "id")) init.id = static_cast<uint16_t>(*id);
  if (auto priority = OptionalU32(o, "priority")) init.priority = static_cast<uint16_t>(*priority);
  const uint32_t handle = shared_->nextChannelHandle++;
  (void)shared_->channels->Get(handle);
  AddonState* st = shared_->state;
  const uint64_t id = shared_->id;
  const Emitter emit(std::weak_ptr<Shared>(shared_), st->sink);
  (void)st->loop->Post([st, id, handle, init, emit] {
    auto it = st->peerConnections.find(id);
    if (it == st->peerConnections.end()) return;
    Status s = it->second->CreateDataChannel(handle, init);
    if (!s.ok()) {
      (void)emit([handle, s](Napi::Env e) -> std::vector<napi_value> {
        return {Napi::String::New(e, "dcerror"), Napi::Number::New(e, handle),
                ToJsError(e, s).Value()};
      });
    }
  });
  return Napi::Number::New(env, handle);
}

// dataChannelSend(handle, data: Uint8Array | string) -> true. The bytes are copied once;
// the checks a W3C send makes (state, size, queue bound) are the TypeScript layer's.
Napi::Value PeerConnectionWrap::DataChannelSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t handle = HandleArg(info);
  if (info.Length() < 2) {
    throw ToJsError(env, Status::Fail("ERR_INVALID_ARGUMENT", "dataChannelSend(handle, data)"));
  }
  std::vector<uint8_t> data;
  bool binary = true;
  if (info[1].IsString()) {
    const std::string text = info[1].As<Napi::String>();
    data.assign(text.begin(), text.end());
    binary = false;
  } else if (info[1].IsTypedArray() &&
             info[1].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
    data.assign(bytes.Data(), bytes.Data() + bytes.ByteLength());
  } else {
    throw ToJsError(
        env, Status::Fail("ERR_INVALID_ARGUMENT", "data must be a string, Buffer or Uint8Array"));
  }
  if (shared_->closed) return Napi::Boolean::New(env, false);
  std::shared_ptr<ChannelCounters> counters = shared_->channels->Get(handle);
  const auto size = static_cast<int64_t>(data.size());
  const int64_t sum = counters->inFlight.fetch_add(size) + size + counters->queued.load();
  if (sum > counters->lowThreshold.load()) counters->aboveThreshold.store(true);
  AddonState* st = shared_->state;
  const uint64_t id = shared_->id;
  const Emitter emit(std::weak_ptr<Shared>(shared_), st->sink);
  auto payload = std::make_shared<std::vector<uint8_t>>(std::move(data));
  const bool posted = st->loop->Post([st, id, handle, payload, binary, counters, size, emit] {
    auto it = st->peerConnections.find(id);
    Status s = it == st->peerConnections.end()
                   ? Status::Fail("ERR_INVALID_STATE", "the peer connection is closed")
                   : it->second->SendData(handle, std::move(*payload), binary);
    counters->inFlight.fetch_sub(size);
    if (!s.ok()) {
      (void)emit([handle, s](Napi::Env e) -> std::vector<napi_value> {
        return {Napi::String::New(e, "dcerror"), Napi::Number::New(e, handle),
                ToJsError(e, s).Value()};
      });
    }
    MaybeBufferedAmountLow(emit, handle, *counters);
  });
  if (!posted) counters->inFlight.fetch_sub(size);
  return Napi::Boolean::New(env, posted);
}

Napi::Value PeerConnectionWrap::DataChannelClose(const Napi::CallbackInfo& info) {
  const uint32_t handle = HandleArg(info);
  if (shared_->closed) return info.Env().Undefined();
  AddonState* st = shared_->state;
  const uint64_t id = shared_->id;
  (void)st->loop->Post([st, id, handle] {
    auto it = st->peerConnections.find(id);
    if (it != st->peerConnections.end()) {
      (void)it->second->CloseDataChannel(handle);  // an unknown handle is closed already
    }
  });
  return info.Env().Undefined();
}

Napi::Value PeerConnectionWrap::DataChannelSetThreshold(const Napi::CallbackInfo& info) {
  const uint32_t handle = HandleArg(info);
  if (info.Length() < 2 || !info[1].IsNumber()) {
    throw ToJsError(info.Env(), Status::Fail("ERR_INVALID_ARGUMENT", "threshold must be a number"));
  }
  const double bytes = info[1].As<Napi::Number>().DoubleValue();
  if (shared_->closed) return info.Env().Undefined();
  std::shared_ptr<ChannelCounters> c = shared_->channels->Get(handle);
  c->lowThreshold.store(static_cast<int64_t>(bytes));
  // Setting the threshold fires nothing by itself; a sum above the new one arms the event.
  c->aboveThreshold.store(c->inFlight.load() + c->queued.load() > c->lowThreshold.load());
  AddonState* st = shared_->state;
  const uint64_t id = shared_->id;
  (void)st->loop->Post([st, id, handle, bytes] {
    auto it = st->peerConnections.find(id);
    if (it != st->peerConnections.end()) {
      (void)it->second->SetDataChannelLowThreshold(handle, static_cast<size_t>(bytes));
    }
  });
  return info.Env().Undefined();
}

Napi::Value PeerConnectionWrap::DataChannelBufferedAmount(const Napi::CallbackInfo& info) {
  const uint32_t handle = HandleArg(info);
  std::shared_ptr<ChannelCounters> c = shared_->channels->Get(handle);
  return Napi::Number::New(info.Env(), static_cast<double>(c->inFlight.load() + c->queued.load()));
}

}  // namespace kvs::js
