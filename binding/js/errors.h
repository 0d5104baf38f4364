// Turns a core Status into a JS Error carrying the stable `code`.
#pragma once

#include <napi.h>

#include "common/status.h"

namespace kvs::js {

inline Napi::Error ToJsError(Napi::Env env, const Status& status) {
  Napi::Error err = Napi::Error::New(env, status.message());
  err.Set("code", Napi::String::New(env, status.code()));
  return err;
}

}  // namespace kvs::js
