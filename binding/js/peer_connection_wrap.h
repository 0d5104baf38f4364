// The N-API PeerConnection: marshals calls to the core object on the network thread and its
// events back through the EventSink. No WebRTC logic lives here.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>

namespace kvs::js {

class PeerConnectionWrap : public Napi::ObjectWrap<PeerConnectionWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit PeerConnectionWrap(const Napi::CallbackInfo& info);
  ~PeerConnectionWrap() override;

 public:
  struct Shared;

 private:
  Napi::Value CreateOffer(const Napi::CallbackInfo& info);
  Napi::Value CreateAnswer(const Napi::CallbackInfo& info);
  Napi::Value SetLocalDescription(const Napi::CallbackInfo& info);
  Napi::Value SetRemoteDescription(const Napi::CallbackInfo& info);
  Napi::Value AddIceCandidate(const Napi::CallbackInfo& info);
  Napi::Value AddTransceiver(const Napi::CallbackInfo& info);
  Napi::Value EnableDataChannels(const Napi::CallbackInfo& info);
  Napi::Value RestartIce(const Napi::CallbackInfo& info);
  Napi::Value SetConfiguration(const Napi::CallbackInfo& info);
  Napi::Value GetStats(const Napi::CallbackInfo& info);
  Napi::Value GetTimeline(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  // Media (peer_connection_media.cc).
  Napi::Value WriteFrame(const Napi::CallbackInfo& info);
  Napi::Value NativeId(const Napi::CallbackInfo& info);
  static Napi::Value WriteFrameToMany(const Napi::CallbackInfo& info);
  Napi::Value BufferedAmount(const Napi::CallbackInfo& info);
  Napi::Value RequestKeyFrame(const Napi::CallbackInfo& info);
  Napi::Value ConfigureRollingBuffer(const Napi::CallbackInfo& info);
  // Data channels (peer_connection_data.cc).
  Napi::Value CreateDataChannel(const Napi::CallbackInfo& info);
  Napi::Value DataChannelSend(const Napi::CallbackInfo& info);
  Napi::Value DataChannelClose(const Napi::CallbackInfo& info);
  Napi::Value DataChannelSetThreshold(const Napi::CallbackInfo& info);
  Napi::Value DataChannelBufferedAmount(const Napi::CallbackInfo& info);

  std::shared_ptr<Shared> shared_;
};

}  // namespace kvs::js
