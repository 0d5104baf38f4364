// The media half of the PeerConnection glue: writeFrame and the transceiver calls, and the
// media events (track, frame, keyframerequest, bandwidth). Marshalling only: the work is in
// pc::PeerConnection and the media streams.
#include <string>

#include "js/peer_connection_shared.h"
#include "media/media_frame.h"

namespace kvs::js {
namespace {

// writeFrame refuses frames once this much is queued for a transceiver and not yet taken
// by the network thread (it is far behind, or stalled): the app sees `false` and a count.
constexpr int64_t kMaxQueuedBytes = 64 * 1024 * 1024;

const char* ReasonName(media::KeyFrameReason r) { return media::ToString(r); }

int64_t Int64Arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    throw ToJsError(info.Env(),
                    Status::Fail("ERR_INVALID_ARGUMENT", std::string(name) + " must be a number"));
  }
  return info[i].As<Napi::Number>().Int64Value();
}

uint32_t IndexArg(const Napi::CallbackInfo& info) {
  const int64_t v = Int64Arg(info, 0, "transceiver");
  if (v < 0 || v > 0xFFFF) {
    throw ToJsError(info.Env(), Status::Fail("ERR_INVALID_ARGUMENT", "no such transceiver"));
  }
  return static_cast<uint32_t>(v);
}

void ReleaseFrame(Napi::Env env, uint8_t* /*data*/, std::vector<uint8_t>* bytes) {
  // What the frame told V8 it holds (below) is given back as it goes.
  (void)Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(bytes->size()));
  delete bytes;  // NOLINT: the external buffer's owner, handed over with release()
}

}  // namespace

void WireMediaEvents(pc::PeerConnection& pc, const Emitter& emit) {
  pc.onTrack = [emit](const pc::Transceiver& t) {
    const double index = static_cast<double>(t.index);
    const std::string kind = sdp::MediaKindName(t.init.kind);
    const std::string mid = t.mid;
    (void)emit([index, kind, mid](Napi::Env e) -> std::vector<napi_value> {
      return {Napi::String::New(e, "track"), Napi::Number::New(e, index),
              Napi::String::New(e, kind), Napi::String::New(e, mid)};
    });
  };
  pc.onKeyFrameRequest = [emit](const pc::Transceiver& t, media::KeyFrameReason reason) {
    const double index = static_cast<double>(t.index);
    const std::string why = ReasonName(reason);
    (void)emit([index, why](Napi::Env e) -> std::vector<napi_value> {
      return {Napi::String::New(e, "keyframerequest"), Napi::Number::New(e, index),
              Napi::String::New(e, why)};
    });
  };
  pc.onBandwidth = [emit](const pc::Transceiver* t, uint64_t bps, const char* source) {
    const double index = t ? static_cast<double>(t->index) : -1;
    const double bitrate = static_cast<double>(bps);
    const std::string from = source;
    (void)emit([index, bitrate, from](Napi::Env e) -> std::vector<napi_value> {
      return {Napi::String::New(e, "bandwidth"), Napi::Number::New(e, index),
              Napi::Number::New(e, bitrate), Napi::String::New(e, from)};
    });
  };
  pc.onFrame = [emit](const pc::Transceiver& t, media::ReceivedFrame&& f) {
    const double index = static_cast<double>(t.index);
    const size_t size = f.data.size();
    // Handed to JS without a copy: the Buffer owns the vector and frees it when collected.
    auto bytes = std::make_shared<std::vector<uint8_t>>(std::move(f.data));
    const double pts = static_cast<double>(f.presentationTs);
    const double flags = f.flags;
    const double frameIndex = f.index;
    const double rtpTimestamp = f.rtpTimestamp;
    // Droppable: a JS thread that stalls loses frames (counted by the sink), never memory.
    (void)emit(
        [index, bytes, pts, flags, frameIndex,
         rtpTimestamp](Napi::Env e) -> std::vector<napi_value> {
          auto owned = std::make_unique<std::vector<uint8_t>>(std::move(*bytes));
          uint8_t* data = owned->data();
          const size_t length = owned->size();
          Napi::Buffer<uint8_t> buffer =
              Napi::Buffer<uint8_t>::New(e, data, length, ReleaseFrame, owned.get());
          (void)owned.release();  // the Buffer's finalizer owns it now
          // V8 cannot see memory outside its heap: told of it, it collects the frames the app
          // has let go of as fast as they come (a 100 KB frame at a time, a receiver at
          // 1000 fps held about 70 MB waiting for a collection that only the JS heap's
          // own, small, growth triggered).
          (void)Napi::MemoryManagement::AdjustExternalMemory(e, static_cast<int64_t>(length));
          return {Napi::String::New(e, "frame"),
                  Napi::Number::New(e, index),
                  buffer,
                  Napi::Number::New(e, pts),
                  Napi::Number::New(e, flags),
                  Napi::Number::New(e, frameIndex),
                  Napi::Number::New(e, rtpTimestamp)};
        },
        size, /*droppable=*/true);
  };
}

namespace {

// The frame arguments (data, presentationTs, decodingTs, duration, flags, index) from `first`
// on, with the bytes copied once into shared storage.
media::EncodedFrame FrameArgs(const Napi::CallbackInfo& info, size_t first) {
  Napi::Env env = info.Env();
  if (info.Length() <= first || !info[first].IsTypedArray() ||
      info[first].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw ToJsError(
        env, Status::Fail("ERR_INVALID_ARGUMENT", "frameData must be a Buffer or Uint8Array"));
  }
  Napi::Uint8Array bytes = info[first].As<Napi::Uint8Array>();
  if (bytes.ByteLength() == 0) {
    throw ToJsError(env, Status::Fail("ERR_INVALID_ARGUMENT", "frameData is empty"));
  }
  media::EncodedFrame frame;
  frame.presentationTs = Int64Arg(info, first + 1, "presentationTs");
  frame.decodingTs = Int64Arg(info, first + 2, "decodingTs");
  frame.duration = Int64Arg(info, first + 3, "duration");
  frame.flags = static_cast<uint32_t>(Int64Arg(info, first + 4, "flags"));
  frame.index = static_cast<uint32_t>(Int64Arg(info, first + 5, "index"));
  frame.data =
      std::make_shared<const std::vector<uint8_t>>(bytes.Data(), bytes.Data() + bytes.ByteLength());
  return frame;
}

// Hands `frame` to the network thread for each (connection, transceiver) of `targets` whose
// queue has room, in one task: the bytes are shared by every send stream, never copied per
// viewer. Returns how many took it.
size_t PostFrame(
    AddonState* st, const media::EncodedFrame& frame,
    const std::vector<std::pair<std::shared_ptr<PeerConnectionWrap::Shared>, uint32_t>>& targets) {
  struct Target {
    uint64_t id;
    uint32_t index;
    std::shared_ptr<TransceiverQueue> queue;
    Emitter emit;
  };
  const auto size = static_cast<int64_t>(frame.data->size());
  std::vector<Target> accepted;
  for (const auto& [shared, index] : targets) {
    if (shared->closed) continue;
    auto& queue = shared->queues[index];
    if (!queue) queue = std::make_shared<TransceiverQueue>();
    if (queue->bytes.load() + size > kMaxQueuedBytes) {
      queue->framesRefused.fetch_add(1);
      continue;
    }
    queue->bytes.fetch_add(size);
    accepted.push_back({shared->id, index, queue, Emitter(std::weak_ptr(shared), st->sink)});
  }
  if (accepted.empty()) return 0;
  const bool posted = st->loop->Post([st, frame, accepted, size] {
    for (const Target& t : accepted) {
      t.queue->bytes.fetch_sub(size);
      auto it = st->peerConnections.find(t.id);
      if (it == st->peerConnections.end()) continue;
      Status error;
      if (it->second->WriteFrame(t.index, frame, &error) == pc::WriteOutcome::kRejected) {
        const uint32_t index = t.index;
        (void)t.emit([index, error](Napi::Env e) -> std::vector<napi_value> {
          return {Napi::String::New(e, "frameerror"), Napi::Number::New(e, index),
                  ToJsError(e, error).Value()};
        });
      }
    }
  });
  if (!posted) {
    for (const Target& t : accepted) t.queue->bytes.fetch_sub(size);
    return 0;
  }
  return accepted.size();
}

}  // namespace

// writeFrame(transceiver, data, presentationTs, decodingTs, duration, flags, index) -> boolean
// The bytes are copied once, here, so the app may reuse its buffer at once; true when the
// frame was handed to the network thread.
Napi::Value PeerConnectionWrap::WriteFrame(const Napi::CallbackInfo& info) {
  const uint32_t index = IndexArg(info);
  media::EncodedFrame frame = FrameArgs(info, 1);
  const size_t taken = PostFrame(shared_->state, frame, {{shared_, index}});
  return Napi::Boolean::New(info.Env(), taken == 1);
}

Napi::Value PeerConnectionWrap::NativeId(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(shared_->id));
}

// PeerConnection.writeFrameToMany([id, transceiver, id, transceiver...], data, presentationTs,
// decodingTs, duration, flags, index) -> how many took the frame. One copy for every viewer.
Napi::Value PeerConnectionWrap::WriteFrameToMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    throw ToJsError(env, Status::Fail("ERR_INVALID_ARGUMENT",
                                      "targets must be an array of [connection id, transceiver]"));
  }
  AddonState& st = AddonState::Of(env);
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<std::pair<std::shared_ptr<Shared>, uint32_t>> targets;
  for (uint32_t i = 0; i + 1 < list.Length(); i += 2) {
    const auto id = static_cast<uint64_t>(list.Get(i).ToNumber().Int64Value());
    const auto index = static_cast<uint32_t>(list.Get(i + 1).ToNumber().Uint32Value());
    auto it = st.wraps.find(id);
    if (it == st.wraps.end()) continue;
    auto shared = std::static_pointer_cast<Shared>(it->second.lock());
    if (shared) targets.emplace_back(std::move(shared), index);
  }
  media::EncodedFrame frame = FrameArgs(info, 1);
  return Napi::Number::New(env, static_cast<double>(PostFrame(&st, frame, targets)));
}

// Bytes handed to writeFrame for this transceiver that the network thread has not taken yet.
Napi::Value PeerConnectionWrap::BufferedAmount(const Napi::CallbackInfo& info) {
  const uint32_t index = IndexArg(info);
  auto it = shared_->queues.find(index);
  const double bytes = it == shared_->queues.end() ? 0 : static_cast<double>(it->second->bytes);
  return Napi::Number::New(info.Env(), bytes);
}

Napi::Value PeerConnectionWrap::RequestKeyFrame(const Napi::CallbackInfo& info) {
  const uint32_t index = IndexArg(info);
  return RunOnLoop<bool>(
      info.Env(), *shared_->state, shared_->id, shared_->closed,
      [index](pc::PeerConnection& pc) -> Result<bool> {
        Status st = pc.RequestKeyFrame(index);
        return st.ok() ? Result<bool>(true) : Result<bool>(st);
      },
      [](Napi::Env e, const bool&) { return e.Undefined(); });
}

// configureRollingBuffer(transceiver, seconds, bitrateBps)
Napi::Value PeerConnectionWrap::ConfigureRollingBuffer(const Napi::CallbackInfo& info) {
  const uint32_t index = IndexArg(info);
  if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsNumber()) {
    throw ToJsError(info.Env(), Status::Fail("ERR_INVALID_ARGUMENT",
                                             "configureRollingBuffer(seconds, bitrateBps)"));
  }
  const double seconds = info[1].As<Napi::Number>().DoubleValue();
  const double bps = info[2].As<Napi::Number>().DoubleValue();
  return RunOnLoop<bool>(
      info.Env(), *shared_->state, shared_->id, shared_->closed,
      [index, seconds, bps](pc::PeerConnection& pc) -> Result<bool> {
        Status st =
            pc.ConfigureRollingBuffer(index, seconds, bps < 0 ? 0 : static_cast<uint64_t>(bps));
        return st.ok() ? Result<bool>(true) : Result<bool>(st);
      },
      [](Napi::Env e, const bool&) { return e.Undefined(); });
}

Napi::Value TransceiversToJs(Napi::Env e, const std::vector<TransceiverInfo>& list) {
  Napi::Array out = Napi::Array::New(e, list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const TransceiverInfo& t = list[i];
    Napi::Object o = Napi::Object::New(e);
    o.Set("index", Napi::Number::New(e, static_cast<double>(t.index)));
    o.Set("kind", t.kind);
    o.Set("mid", t.mid.empty() ? e.Null() : Napi::Value(Napi::String::New(e, t.mid)));
    o.Set("direction", t.direction);
    o.Set("currentDirection", t.currentDirection.empty()
                                  ? e.Null()
                                  : Napi::Value(Napi::String::New(e, t.currentDirection)));
    o.Set("codec", t.codec.empty() ? e.Null() : Napi::Value(Napi::String::New(e, t.codec)));
    o.Set("ssrc", Napi::Number::New(e, t.ssrc));
    o.Set("trackId", t.trackId);
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

std::vector<TransceiverInfo> TransceiversOf(const pc::PeerConnection& pc) {
  std::vector<TransceiverInfo> out;
  for (const auto& t : pc.transceivers()) {
    TransceiverInfo i;
    i.index = t->index;
    i.kind = sdp::MediaKindName(t->init.kind);
    i.mid = t->mid;
    i.direction = sdp::DirectionName(t->init.direction);
    if (t->negotiatedDirection) i.currentDirection = sdp::DirectionName(*t->negotiatedDirection);
    if (t->send) {
      i.codec = sdp::InfoOf(t->send->config().codec).name;
    } else if (!t->negotiatedCodecs.empty()) {
      i.codec = sdp::InfoOf(t->negotiatedCodecs.front().codec).name;
    }
    i.ssrc = t->ssrc;
    i.trackId = t->init.trackId;
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace kvs::js
