#include "crypto/random.h"

#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <limits>

#include "crypto/openssl.h"

namespace kvs::crypto {

Status RandomBytes(uint8_t* out, size_t length) {
  EnsureOpenSslInitialised();
  if (length > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      RAND_bytes(out, static_cast<int>(length)) != 1) {
    return Status::Fail("ERR_CRYPTO_RANDOM",
                        "no cryptographic random bytes available: " + TakeOpenSslErrors());
  }
  return Status::Ok();
}

void UniqueBytes(uint8_t* out, size_t length) {
  if (RandomBytes(out, length).ok()) return;
  // A 64-bit counter mixed with the start time: distinct across calls and processes started
  // at different moments.
  static std::atomic<uint64_t> counter{
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  uint64_t x = 0;
  for (size_t i = 0; i < length; ++i) {
    if (i % 8 == 0) {
      x = counter.fetch_add(1) * 0x9E3779B97F4A7C15ull;
      x ^= x >> 29;
    }
    out[i] = static_cast<uint8_t>(x >> (8 * (i % 8)));
  }
}

}  // namespace kvs::crypto
