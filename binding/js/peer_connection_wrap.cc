#include "js/peer_connection_wrap.h"

#include <chrono>
#include <functional>
#include <string>
#include <variant>

#include "js/addon_state.h"
#include "js/errors.h"
#include "js/peer_connection_shared.h"
#include "pc/stats.h"

namespace kvs::js {

namespace {

using Deferred = std::shared_ptr<Napi::Promise::Deferred>;

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString()) {
    throw ToJsError(info.Env(),
                    Status::Fail("ERR_INVALID_ARGUMENT", std::string(name) + " must be a string"));
  }
  return info[i].As<Napi::String>();
}

pc::SdpType SdpTypeArg(const Napi::CallbackInfo& info, size_t i) {
  const std::string type = StringArg(info, i, "type");
  if (type == "offer") return pc::SdpType::kOffer;
  if (type == "answer") return pc::SdpType::kAnswer;
  throw ToJsError(info.Env(), Status::Fail("ERR_INVALID_ARGUMENT",
                                           "type must be \"offer\" or \"answer\", got " + type));
}

Napi::Value ToJs(Napi::Env env, const pc::StatValue& v) {
  if (const double* d = std::get_if<double>(&v)) return Napi::Number::New(env, *d);
  if (const bool* b = std::get_if<bool>(&v)) return Napi::Boolean::New(env, *b);
  return Napi::String::New(env, std::get<std::string>(v));
}

// turnServers: [{ url, address (numeric; the URL's host already resolved), username,
// credential }] and stunServers: [{ url, address (numeric), port }], as the constructor and
// setConfiguration take them.
void ServersFrom(Napi::Env env, Napi::Object o, std::vector<pc::RelayServer>& relays,
                 std::vector<std::pair<std::string, net::Address>>& stunServers) {
  if (o.Has("turnServers") && o.Get("turnServers").IsArray()) {
    Napi::Array servers = o.Get("turnServers").As<Napi::Array>();
    for (uint32_t i = 0; i < servers.Length(); ++i) {
      Napi::Object t = servers.Get(i).As<Napi::Object>();
      auto url = turn::ParseTurnUrl(t.Get("url").ToString().Utf8Value());
      if (!url.ok()) throw ToJsError(env, url.status());
      const std::string ip = t.Get("address").ToString();
      auto address = net::Address::Parse(ip, url.value().port);
      if (!address) {
        throw ToJsError(
            env, Status::Fail("ERR_INVALID_ARGUMENT", "turnServers[" + std::to_string(i) +
                                                          "].address is not a numeric IP: " + ip));
      }
      relays.push_back(
          {url.value(), *address, t.Get("username").ToString(), t.Get("credential").ToString()});
    }
  }
  if (o.Has("stunServers") && o.Get("stunServers").IsArray()) {
    Napi::Array servers = o.Get("stunServers").As<Napi::Array>();
    for (uint32_t i = 0; i < servers.Length(); ++i) {
      Napi::Object t = servers.Get(i).As<Napi::Object>();
      const std::string ip = t.Get("address").ToString();
      const uint32_t port = t.Get("port").ToNumber().Uint32Value();
      auto address = net::Address::Parse(ip, static_cast<uint16_t>(port));
      if (!address || port == 0 || port > 65535) {
        throw ToJsError(
            env, Status::Fail("ERR_INVALID_ARGUMENT", "stunServers[" + std::to_string(i) +
                                                          "] needs a numeric address and a port"));
      }
      stunServers.emplace_back(t.Get("url").ToString(), *address);
    }
  }
}

pc::PeerConnectionConfig ConfigFrom(Napi::Env env, Napi::Object o) {
  pc::PeerConnectionConfig c;
  auto u32 = [&](const char* key, uint32_t& out) {
    if (o.Has(key) && o.Get(key).IsNumber()) out = o.Get(key).As<Napi::Number>().Uint32Value();
  };
  u32("connectionCheckTimeoutMs", c.connectionCheckTimeoutMs);
  u32("nominationTimeoutMs", c.nominationTimeoutMs);
  u32("disconnectedTimeoutMs", c.disconnectedTimeoutMs);
  u32("failedTimeoutMs", c.failedTimeoutMs);
  if (o.Has("maxMessageSize") && o.Get("maxMessageSize").IsNumber()) {
    c.maxMessageSize =
        static_cast<uint64_t>(o.Get("maxMessageSize").As<Napi::Number>().Int64Value());
  }
  if (o.Has("interfaces") && o.Get("interfaces").IsObject()) {
    Napi::Object f = o.Get("interfaces").As<Napi::Object>();
    auto flag = [&](const char* key, bool& out) {
      if (f.Has(key) && f.Get(key).IsBoolean()) out = f.Get(key).As<Napi::Boolean>();
    };
    flag("allowLoopback", c.interfaces.allowLoopback);
    flag("allowLinkLocal", c.interfaces.allowLinkLocal);
    flag("ipv6", c.interfaces.ipv6);
    if (f.Has("only") && f.Get("only").IsArray()) {
      Napi::Array only = f.Get("only").As<Napi::Array>();
      for (uint32_t i = 0; i < only.Length(); ++i) {
        c.interfaces.only.push_back(only.Get(i).ToString());
      }
    }
  }
  ServersFrom(env, o, c.relays, c.stunServers);
  if (o.Has("relayOnly") && o.Get("relayOnly").IsBoolean()) {
    c.relayOnly = o.Get("relayOnly").As<Napi::Boolean>();
  }
  if (o.Has("mdnsHostCandidates") && o.Get("mdnsHostCandidates").IsBoolean()) {
    c.mdnsHostCandidates = o.Get("mdnsHostCandidates").As<Napi::Boolean>();
  }
  if (o.Has("turnCaFile") && o.Get("turnCaFile").IsString()) {
    c.tlsCaFile = o.Get("turnCaFile").ToString();
  }
  if (o.Has("certificate") && o.Get("certificate").IsObject()) {
    Napi::Object cert = o.Get("certificate").As<Napi::Object>();
    auto loaded = dtls::Certificate::FromPem(cert.Get("certificatePem").ToString(),
                                             cert.Get("privateKeyPem").ToString());
    if (!loaded.ok()) throw ToJsError(env, loaded.status());
    c.certificate = loaded.value();
  }
  return c;
}

std::optional<sdp::Codec> CodecFromName(const std::string& name) {
  for (auto c : {sdp::Codec::kH264, sdp::Codec::kH265, sdp::Codec::kVp8, sdp::Codec::kOpus,
                 sdp::Codec::kPcmu, sdp::Codec::kPcma}) {
    if (name == sdp::InfoOf(c).name) return c;
  }
  return std::nullopt;
}

std::optional<sdp::Direction> DirectionFromName(const std::string& name) {
  for (auto d : {sdp::Direction::kSendRecv, sdp::Direction::kSendOnly, sdp::Direction::kRecvOnly,
                 sdp::Direction::kInactive}) {
    if (name == sdp::DirectionName(d)) return d;
  }
  return std::nullopt;
}

}  // namespace

void PeerConnectionWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = DefineClass(
      env, "PeerConnection",
      {
          InstanceMethod<&PeerConnectionWrap::CreateOffer>("createOffer"),
          InstanceMethod<&PeerConnectionWrap::CreateAnswer>("createAnswer"),
          InstanceMethod<&PeerConnectionWrap::SetLocalDescription>("setLocalDescription"),
          InstanceMethod<&PeerConnectionWrap::SetRemoteDescription>("setRemoteDescription"),
          InstanceMethod<&PeerConnectionWrap::AddIceCandidate>("addIceCandidate"),
          InstanceMethod<&PeerConnectionWrap::AddTransceiver>("addTransceiver"),
          InstanceMethod<&PeerConnectionWrap::EnableDataChannels>("enableDataChannels"),
          InstanceMethod<&PeerConnectionWrap::RestartIce>("restartIce"),
          InstanceMethod<&PeerConnectionWrap::SetConfiguration>("setConfiguration"),
          InstanceMethod<&PeerConnectionWrap::GetStats>("getStats"),
          InstanceMethod<&PeerConnectionWrap::GetTimeline>("getTimeline"),
          InstanceMethod<&PeerConnectionWrap::Close>("close"),
          InstanceMethod<&PeerConnectionWrap::WriteFrame>("writeFrame"),
          InstanceMethod<&PeerConnectionWrap::NativeId>("nativeId"),
          StaticMethod<&PeerConnectionWrap::WriteFrameToMany>("writeFrameToMany"),
          InstanceMethod<&PeerConnectionWrap::BufferedAmount>("bufferedAmount"),
          InstanceMethod<&PeerConnectionWrap::RequestKeyFrame>("requestKeyFrame"),
          InstanceMethod<&PeerConnectionWrap::ConfigureRollingBuffer>("configureRollingBuffer"),
          InstanceMethod<&PeerConnectionWrap::CreateDataChannel>("createDataChannel"),
          InstanceMethod<&PeerConnectionWrap::DataChannelSend>("dataChannelSend"),
          InstanceMethod<&PeerConnectionWrap::DataChannelClose>("dataChannelClose"),
          InstanceMethod<&PeerConnectionWrap::DataChannelSetThreshold>("dataChannelSetThreshold"),
          InstanceMethod<&PeerConnectionWrap::DataChannelBufferedAmount>(
              "dataChannelBufferedAmount"),
      });
  exports.Set("PeerConnection", cls);
}

// new PeerConnection(config, onEvent(type, a, b))
PeerConnectionWrap::PeerConnectionWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<PeerConnectionWrap>(info), shared_(std::make_shared<Shared>()) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    throw ToJsError(env, Status::Fail("ERR_INVALID_ARGUMENT",
                                      "new PeerConnection(config: object, onEvent: function)"));
  }
  pc::PeerConnectionConfig config = ConfigFrom(env, info[0].As<Napi::Object>());
  AddonState& state = AddonState::Of(env);
  shared_->id = state.nextId++;
  shared_->state = &state;
  shared_->onEvent = Napi::Persistent(info[1].As<Napi::Function>());
  state.wraps[shared_->id] = std::weak_ptr<void>(std::static_pointer_cast<void>(shared_));
  state.sink->Hold();

  const Emitter emit(std::weak_ptr<Shared>(shared_), state.sink);
  const uint64_t id = shared_->id;
  AddonState* st = &state;
  std::shared_ptr<ChannelRegistry> channels = shared_->channels;
  state.loop->Post([st, id, config, emit, channels] {
    auto created = pc::PeerConnection::Create(*st->loop, config);
    if (!created.ok()) {
      const Status failure = created.status();
      emit([failure](Napi::Env e) -> std::vector<napi_value> {
        return {Napi::String::New(e, "error"), ToJsError(e, failure).Value()};
      });
      return;
    }
    std::unique_ptr<pc::PeerConnection> pc = created.take();
    pc->onIceCandidate = [emit](std::optional<std::string> candidate, const std::string& mid) {
      emit([candidate, mid](Napi::Env e) -> std::vector<napi_value> {
        return {Napi::String::New(e, "icecandidate"),
                candidate ? Napi::Value(Napi::String::New(e, *candidate)) : e.Null(),
                Napi::String::New(e, mid)};
      });
    };
    pc->onConnectionStateChange = [emit](pc::ConnectionState s) {
      emit([s](Napi::Env e) -> std::vector<napi_value> {
        return {Napi::String::New(e, "connectionstatechange"), Napi::String::New(e, ToString(s))};
      });
    };
    pc->onError = [emit](const Status& failure) {
      emit([failure](Napi::Env e) -> std::vector<napi_value> {
        return {Napi::String::New(e, "error"), ToJsError(e, failure).Value()};
      });
    };
    pc->onCandidateSkipped = [emit](const std::string& candidate, const std::string& reason) {
      emit([candidate, reason](Napi::Env e) -> std::vector<napi_value> {
        return {Napi::String::New(e, "candidateskipped"), Napi::String::New(e, candidate),
                Napi::String::New(e, reason)};
      });
    };
    pc->onRelayFailed = [emit](const std::string& url, const Status& error, bool inUse) {
      emit([url, error, inUse](Napi::Env e) -> std::vector<napi_value> {
        return {Napi::String::New(e, "relayfailed"), Napi::String::New(e, url),
                ToJsError(e, error).Value(), Napi::Boolean::New(e, inUse)};
      });
    };
    pc->onRelayError = [emit](const std::string& url, const Status& error) {
      emit([url, error](Napi::Env e) -> std::vector<napi_value> {
        return {Napi::String::New(e, "icecandidateerror"), Napi::String::New(e, url),
                ToJsError(e, error).Value()};
      });
    };
    pc->onSignalingStateChange = [emit](pc::SignalingState s) {
      emit([s](Napi::Env e) -> std::vector<napi_value> {
        return {Napi::String::New(e, "signalingstatechange"), Napi::String::New(e, ToString(s))};
      });
    };
    WireMediaEvents(*pc, emit);
    WireDataChannelEvents(*pc, emit, channels);
    st->peerConnections[id] = std::move(pc);
  });
}

PeerConnectionWrap::~PeerConnectionWrap() {
  if (shared_->state != nullptr) shared_->state->wraps.erase(shared_->id);
  if (!shared_->closed && shared_->state != nullptr) {
    shared_->state->sink->Release();
    AddonState* st = shared_->state;
    const uint64_t id = shared_->id;
    st->loop->Post([st, id] { st->DestroyPeerConnection(id); });
  } else if (shared_->state != nullptr) {
    // Closed long ago, collected now: the collector just freed this connection's JS side,
    // and its sessions' sockets and buffers with it, after the release that followed close.
    // Those pages go back too, once finalizations pause (churn measured up to 10 MB held).
    AddonState* st = shared_->state;
    (void)st->loop->Post([st] { st->NoteFreed(); });
  }
  shared_->onEvent.Reset();
}

Napi::Value PeerConnectionWrap::CreateOffer(const Napi::CallbackInfo& info) {
  return RunOnLoop<std::string>(
      info.Env(), *shared_->state, shared_->id, shared_->closed,
      [](pc::PeerConnection& pc) { return pc.CreateOffer(); },
      [](Napi::Env e, const std::string& sdp) { return Napi::String::New(e, sdp); });
}

Napi::Value PeerConnectionWrap::CreateAnswer(const Napi::CallbackInfo& info) {
  return RunOnLoop<std::string>(
      info.Env(), *shared_->state, shared_->id, shared_->closed,
      [](pc::PeerConnection& pc) { return pc.CreateAnswer(); },
      [](Napi::Env e, const std::string& sdp) { return Napi::String::New(e, sdp); });
}

Napi::Value PeerConnectionWrap::SetLocalDescription(const Napi::CallbackInfo& info) {
  const pc::SdpType type = SdpTypeArg(info, 0);
  const std::string sdp = StringArg(info, 1, "sdp");
  // Resolves with the transceivers as the description left them.
  return RunOnLoop<std::vector<TransceiverInfo>>(
      info.Env(), *shared_->state, shared_->id, shared_->closed,
      [type, sdp](pc::PeerConnection& pc) -> Result<std::vector<TransceiverInfo>> {
        Status st = pc.SetLocalDescription(type, sdp);
        if (!st.ok()) return st;
        return TransceiversOf(pc);
      },
      TransceiversToJs);
}

Napi::Value PeerConnectionWrap::SetRemoteDescription(const Napi::CallbackInfo& info) {
  const pc::SdpType type = SdpTypeArg(info, 0);
  const std::string sdp = StringArg(info, 1, "sdp");
  // Resolves with the transceivers as the description left them.
  return RunOnLoop<std::vector<TransceiverInfo>>(
      info.Env(), *shared_->state, shared_->id, shared_->closed,
      [type, sdp](pc::PeerConnection& pc) -> Result<std::vector<TransceiverInfo>> {
        Status st = pc.SetRemoteDescription(type, sdp);
        if (!st.ok()) return st;
        return TransceiversOf(pc);
      },
      TransceiversToJs);
}

// Resolves with undefined, or with the reason a well-formed candidate was skipped.
Napi::Value PeerConnectionWrap::AddIceCandidate(const Napi::CallbackInfo& info) {
  const std::string candidate = StringArg(info, 0, "candidate");
  return RunOnLoop<std::string>(
      info.Env(), *shared_->state, shared_->id, shared_->closed,
      [candidate](pc::PeerConnection& pc) -> Result<std::string> {
        Status st = pc.AddIceCandidate(candidate);
        if (st.ok()) return std::string();
        if (st.code() == "ERR_ICE_UNSUPPORTED_CANDIDATE") return st.message();
        return st;
      },
      [](Napi::Env e, const std::string& skipped) {
        return skipped.empty() ? e.Undefined() : Napi::Value(Napi::String::New(e, skipped));
      });
}

// addTransceiver({ kind, codecs?: string[], direction?, trackId?, streamId? }) -> index
Napi::Value PeerConnectionWrap::AddTransceiver(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw ToJsError(env, Status::Fail("ERR_INVALID_ARGUMENT", "addTransceiver(init: object)"));
  }
  Napi::Object o = info[0].As<Napi::Object>();
  pc::TransceiverInit init;
  const std::string kind = o.Get("kind").ToString();
  if (kind != "audio" && kind != "video") {
    throw ToJsError(env, Status::Fail("ERR_INVALID_ARGUMENT",
                                      "kind must be \"audio\" or \"video\", got " + kind));
  }
  init.kind = kind == "audio" ? sdp::MediaKind::kAudio : sdp::MediaKind::kVideo;
  if (o.Has("codecs") && o.Get("codecs").IsArray()) {
    Napi::Array codecs = o.Get("codecs").As<Napi::Array>();
    for (uint32_t i = 0; i < codecs.Length(); ++i) {
      const std::string name = codecs.Get(i).ToString();
      auto codec = CodecFromName(name);
      if (!codec) {
        throw ToJsError(env, Status::Fail("ERR_INVALID_ARGUMENT", "unknown codec " + name));
      }
      init.codecs.push_back(*codec);
    }
  }
  if (o.Has("direction") && o.Get("direction").IsString()) {
    const std::string name = o.Get("direction").ToString();
    auto d = DirectionFromName(name);
    if (!d) throw ToJsError(env, Status::Fail("ERR_INVALID_ARGUMENT", "unknown direction " + name));
    init.direction = *d;
  }
  if (o.Has("trackId")) init.trackId = o.Get("trackId").ToString();
  if (o.Has("streamId")) init.streamId = o.Get("streamId").ToString();
  // Resolves with { index, transceivers }.
  using Added = std::pair<size_t, std::vector<TransceiverInfo>>;
  return RunOnLoop<Added>(
      env, *shared_->state, shared_->id, shared_->closed,
      [init](pc::PeerConnection& pc) -> Result<Added> {
        auto index = pc.AddTransceiver(init);
        if (!index.ok()) return index.status();
        return Added{index.value(), TransceiversOf(pc)};
      },
      [](Napi::Env e, const Added& added) {
        Napi::Object result = Napi::Object::New(e);
        result.Set("index", Napi::Number::New(e, static_cast<double>(added.first)));
        result.Set("transceivers", TransceiversToJs(e, added.second));
        return Napi::Value(result);
      });
}

Napi::Value PeerConnectionWrap::EnableDataChannels(const Napi::CallbackInfo& info) {
  return RunOnLoop<bool>(
      info.Env(), *shared_->state, shared_->id, shared_->closed,
      [](pc::PeerConnection& pc) -> Result<bool> {
        pc.EnableDataChannels();
        return true;
      },
      [](Napi::Env e, const bool&) { return e.Undefined(); });
}

Napi::Value PeerConnectionWrap::RestartIce(const Napi::CallbackInfo& info) {
  return RunOnLoop<bool>(
      info.Env(), *shared_->state, shared_->id, shared_->closed,
      [](pc::PeerConnection& pc) -> Result<bool> {
        Status st = pc.RestartIce();
        return st.ok() ? Result<bool>(true) : Result<bool>(st);
      },
      [](Napi::Env e, const bool&) { return e.Undefined(); });
}

Napi::Value PeerConnectionWrap::SetConfiguration(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw ToJsError(env, Status::Fail("ERR_INVALID_ARGUMENT",
                                      "setConfiguration: configuration must be an object"));
  }
  // Parsed here, on the JavaScript thread; applied on the loop.
  auto servers = std::make_shared<
      std::pair<std::vector<pc::RelayServer>, std::vector<std::pair<std::string, net::Address>>>>();
  ServersFrom(env, info[0].As<Napi::Object>(), servers->first, servers->second);
  return RunOnLoop<bool>(
      env, *shared_->state, shared_->id, shared_->closed,
      [servers](pc::PeerConnection& pc) -> Result<bool> {
        Status st = pc.SetIceServers(std::move(servers->first), std::move(servers->second));
        return st.ok() ? Result<bool>(true) : Result<bool>(st);
      },
      [](Napi::Env e, const bool&) { return e.Undefined(); });
}

namespace {

std::vector<pc::StatsObject> StatsNow(AddonState& st, const pc::PeerConnection& pc) {
  const double nowEpoch =
      static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
  const double offset = nowEpoch - static_cast<double>(st.loop->NowMs());
  return pc::CollectStats(pc, nowEpoch, offset);
}

Napi::Value StatsToJs(Napi::Env e, const std::vector<pc::StatsObject>& stats) {
  Napi::Array out = Napi::Array::New(e, stats.size());
  for (size_t i = 0; i < stats.size(); ++i) {
    Napi::Object o = Napi::Object::New(e);
    o.Set("type", stats[i].type);
    o.Set("id", stats[i].id);
    o.Set("timestamp", stats[i].timestamp);
    for (const auto& [key, value] : stats[i].fields) o.Set(key, ToJs(e, value));
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

}  // namespace

// The set-up timeline, in ms since the epoch (null where a step has not happened), and the
// selected pair's first check: what peerConnectionGetMetrics and iceAgentGetMetrics read.
Napi::Value PeerConnectionWrap::GetTimeline(const Napi::CallbackInfo& info) {
  AddonState* st = shared_->state;
  using Times = std::vector<std::pair<std::string, double>>;  // ms since the epoch; 0: not yet
  return RunOnLoop<Times>(
      info.Env(), *st, shared_->id, shared_->closed,
      [st](pc::PeerConnection& pc) -> Result<Times> {
        const double nowEpoch =
            static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
        const double offset = nowEpoch - static_cast<double>(st->loop->NowMs());
        auto epoch = [offset](uint64_t ms) {
          return ms == 0 ? 0 : static_cast<double>(ms) + offset;
        };
        const pc::ConnectionTimeline& t = pc.timeline();
        const ice::CandidatePair* pair = pc.ice().agent().selectedPair();
        return Times{
            {"created", epoch(t.createdMs)},
            {"gatheringStarted", epoch(t.gatheringStartedMs)},
            {"firstHostCandidate", epoch(t.firstHostCandidateMs)},
            {"firstSrflxCandidate", epoch(t.firstSrflxCandidateMs)},
            {"firstRelayCandidate", epoch(t.firstRelayCandidateMs)},
            {"gatheringCompleted", epoch(t.gatheringCompletedMs)},
            {"checkingStarted", epoch(t.checkingStartedMs)},
            {"iceConnected", epoch(t.iceConnectedMs)},
            {"dtlsStarted", epoch(t.dtlsStartedMs)},
            {"dtlsConnected", epoch(t.dtlsConnectedMs)},
            {"connected", epoch(t.connectedMs)},
            {"selectedPairFirstCheck", epoch(pair ? pair->stats.firstRequestTimestampMs : 0)}};
      },
      [](Napi::Env e, const Times& times) {
        Napi::Object o = Napi::Object::New(e);
        for (const auto& [key, ms] : times) {
          o.Set(key, ms == 0 ? e.Null() : Napi::Value(Napi::Number::New(e, ms)));
        }
        return Napi::Value(o);
      });
}

Napi::Value PeerConnectionWrap::GetStats(const Napi::CallbackInfo& info) {
  AddonState* st = shared_->state;
  return RunOnLoop<std::vector<pc::StatsObject>>(
      info.Env(), *st, shared_->id, shared_->closed,
      [st](pc::PeerConnection& pc) -> Result<std::vector<pc::StatsObject>> {
        return StatsNow(*st, pc);
      },
      StatsToJs);
}

Napi::Value PeerConnectionWrap::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (shared_->closed) {
    // Closing twice is not an error (W3C): the second call has nothing left to do.
    auto done = Napi::Promise::Deferred::New(env);
    done.Resolve(Napi::Array::New(env));
    return done.Promise();
  }
  AddonState* st = shared_->state;
  const uint64_t id = shared_->id;
  // Resolves with the statistics as they stand once closed: the last word on this connection.
  Napi::Value promise = RunOnLoop<std::vector<pc::StatsObject>>(
      env, *st, id, false,
      [st](pc::PeerConnection& pc) -> Result<std::vector<pc::StatsObject>> {
        pc.Close();
        return StatsNow(*st, pc);
      },
      StatsToJs);
  // The close events above are delivered first; then the core object goes, and the hold this
  // connection took at construction is released once all of that has reached JS.
  // Last, the strong reference to the JS callback goes: it closes over the JS object, which
  // holds this wrap, so while it is held neither can ever be collected (every closed
  // connection stayed in memory before).
  std::shared_ptr<EventSink> sink = st->sink;
  std::weak_ptr<Shared> weak = shared_;
  const bool posted = st->loop->Post([st, id, sink, weak] {
    st->DestroyPeerConnection(id);
    (void)sink->Push([sink, weak](Napi::Env) {
      if (std::shared_ptr<Shared> s = weak.lock()) s->onEvent.Reset();
      sink->Release();
    });
  });
  if (!posted) {
    sink->Release();
    shared_->onEvent.Reset();
  }
  shared_->closed = true;
  return promise;
}

}  // namespace kvs::js
