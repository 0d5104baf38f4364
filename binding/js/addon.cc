// The module's entry point: registers the functions. Marshalling only; the work is in core/.
#include <dlfcn.h>
#include <napi.h>
#include <openssl/crypto.h>

#include <string>

#include "js/errors.h"
#include "js/peer_connection_wrap.h"
#include "selftest/dtls_srtp_selftest.h"
#include "srtp/srtp_profile.h"
#include "versions.h"

namespace kvs::js {
namespace {

Napi::Value Versions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const LinkedVersions v = GetLinkedVersions();
  Napi::Object out = Napi::Object::New(env);
  out.Set("openssl", v.openssl);
  out.Set("opensslPlatform", v.opensslPlatform);
  out.Set("libsrtp2", v.libsrtp2);
  out.Set("usrsctp", v.usrsctp);
  out.Set("napi", Napi::Number::New(env, NAPI_VERSION));
  return out;
}

Napi::Value SelfTest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw ToJsError(env, Status::Fail("ERR_INVALID_ARGUMENT", "selfTest(profile: string)"));
  }
  const std::string name = info[0].As<Napi::String>();
  auto profile = srtp::ProfileFromName(name);
  if (!profile) {
    throw ToJsError(env, Status::Fail("ERR_INVALID_ARGUMENT", "unknown SRTP profile " + name));
  }
  auto result = selftest::RunDtlsSrtpSelfTest(*profile);
  if (!result.ok()) throw ToJsError(env, result.status());
  const selftest::SelfTestReport& r = result.value();

  Napi::Object out = Napi::Object::New(env);
  out.Set("profile", r.profile);
  out.Set("dtlsVersion", r.dtlsVersion);
  out.Set("cipher", r.cipher);
  out.Set("handshakeFlights", r.link.flights);
  Napi::Object datagrams = Napi::Object::New(env);
  datagrams.Set("clientToServer", r.link.clientToServer);
  datagrams.Set("serverToClient", r.link.serverToClient);
  out.Set("datagrams", datagrams);
  Napi::Object fingerprints = Napi::Object::New(env);
  fingerprints.Set("client", r.clientFingerprint);
  fingerprints.Set("server", r.serverFingerprint);
  out.Set("fingerprints", fingerprints);
  Napi::Object srtp = Napi::Object::New(env);
  srtp.Set("rtpBytes", Napi::Number::New(env, static_cast<double>(r.rtpBytes)));
  srtp.Set("protectedBytes", Napi::Number::New(env, static_cast<double>(r.protectedBytes)));
  srtp.Set("rtcpBytes", Napi::Number::New(env, static_cast<double>(r.rtcpBytes)));
  srtp.Set("protectedRtcpBytes", Napi::Number::New(env, static_cast<double>(r.protectedRtcpBytes)));
  srtp.Set("tamperRejected", r.tamperRejected);
  srtp.Set("replayRejected", r.replayRejected);
  out.Set("srtp", srtp);
  Napi::Object sctp = Napi::Object::New(env);
  sctp.Set("socketCreated", r.sctpSocketCreated);
  out.Set("sctp", sctp);
  return out;
}

// For the linkage tests: compares our OpenSSL with whatever the process exports under the
// same name (Node's own copy), proving ours is private.
Napi::Value LinkageProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  using VersionFn = const char* (*)(int);
  auto processFn = reinterpret_cast<VersionFn>(dlsym(RTLD_DEFAULT, "OpenSSL_version"));
  Napi::Object out = Napi::Object::New(env);
  out.Set("addonOpensslPlatform", OpenSSL_version(OPENSSL_PLATFORM));
  out.Set("processExportsOpenssl", processFn != nullptr);
  out.Set(
      "processOpensslPlatform",
      processFn ? Napi::Value(Napi::String::New(env, processFn(OPENSSL_PLATFORM))) : env.Null());
  out.Set("sameFunction", processFn == &OpenSSL_version);
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("versions", Napi::Function::New(env, Versions, "versions"));
  exports.Set("selfTest", Napi::Function::New(env, SelfTest, "selfTest"));
  exports.Set("_linkageProbe", Napi::Function::New(env, LinkageProbe, "_linkageProbe"));
  PeerConnectionWrap::Init(env, exports);
  return exports;
}

}  // namespace
}  // namespace kvs::js

static Napi::Object InitKvsWebrtc(Napi::Env env, Napi::Object exports) {
  return kvs::js::Init(env, exports);
}

NODE_API_MODULE(kvs_webrtc, InitKvsWebrtc)
