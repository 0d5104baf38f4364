// libFuzzer target for the STUN/TURN wire codec: Parse, the raw-byte checks, ChannelData and
// both stream de-framers, plus a round-trip property (what Parse accepts, Serialize writes
// back and Parse reads again unchanged). Not built by CMake. From the repository root:
//
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
//     -Ibinding/core test/fuzz/stun_fuzz.cc binding/core/stun/*.cc binding/core/net/address.cc \
//     binding/core/crypto/openssl.cc -lssl -lcrypto -o build/stun_fuzz
//   mkdir -p build/stun_corpus && ./build/stun_fuzz -max_total_time=60 build/stun_corpus
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "stun/channel_data.h"
#include "stun/stream_framer.h"
#include "stun/stun_codec.h"
#include "stun/stun_integrity.h"

using namespace kvs;
using namespace kvs::stun;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan in(data, size);
  static const Key key = ShortTermKey("VOkJxbRl1RmTxUk/WvJxBt");

  if (IsStunMessage(in) != CheckHeader(in).ok()) abort();
  auto parsed = Parse(in);
  (void)CheckMessageIntegrity(in, key);
  (void)CheckMessageIntegritySha256(in, key);
  const bool fingerprintOk = CheckFingerprint(in).ok();
  if (parsed.ok()) {
    const Message& m = parsed.value();
    if (fingerprintOk && !m.hadFingerprint) abort();
    for (const auto& a : m.attributes) {
      (void)m.GetAddress(a.type);
      (void)m.GetXorAddress(a.type);
      (void)m.GetU32(a.type);
      (void)m.GetU64(a.type);
    }
    (void)m.GetErrorCode();
    (void)m.GetUnknownAttributes();
    auto again = Serialize(m);
    if (!again.ok()) abort();  // never larger than what was parsed
    auto reparsed = Parse(again.value());
    if (!reparsed.ok()) abort();
    const Message& r = reparsed.value();
    if (r.type() != m.type() || r.transactionId != m.transactionId ||
        r.attributes.size() != m.attributes.size() || r.unknownRequired != m.unknownRequired) {
      abort();
    }
    for (size_t i = 0; i < m.attributes.size(); ++i) {
      if (r.attributes[i].type != m.attributes[i].type ||
          r.attributes[i].value != m.attributes[i].value) {
        abort();
      }
    }
  }

  (void)ParseChannelData(in);

  // The de-framers, fed in two chunks cut where the first byte says.
  const size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  for (auto framing : {StreamFraming::kTurn, StreamFraming::kRfc4571}) {
    StreamDeframer d(framing, 4096);
    size_t total = 0;
    auto sink = [&](FrameKind kind, ByteSpan frame) {
      total += frame.size;
      if (kind == FrameKind::kStun && frame.size < kHeaderSize) abort();
      if (kind == FrameKind::kChannelData && !ParseChannelData(frame).ok()) abort();
    };
    if (d.Push(in.sub(0, cut), sink).ok()) (void)d.Push(in.sub(cut, size - cut), sink);
    if (d.buffered() > 4096 || total > size) abort();
  }
  return 0;
}
