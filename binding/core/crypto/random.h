// Random bytes from our OpenSSL. Two kinds, because they fail differently:
// - secrets (ICE passwords, certificate serials, SSRCs an attacker must not guess) come from
//   RandomBytes, which reports a failure for the caller to refuse the operation;
// - values that only need to be unique (STUN transaction ids, tie-breakers, jitter) come from
//   UniqueBytes, which never fails: without entropy it falls back to a process-wide counter,
//   so a starved entropy source degrades unpredictability, never uniqueness or liveness.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"

namespace kvs::crypto {

Status RandomBytes(uint8_t* out, size_t length);
void UniqueBytes(uint8_t* out, size_t length);

}  // namespace kvs::crypto
