// libFuzzer target for the DCEP codec (RFC 8832). Not built by CMake. From the repository root:
//
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
//     -Ibinding/core test/fuzz/dcep_fuzz.cc binding/core/sctp/dcep.cc -o build/dcep_fuzz
//   mkdir -p build/dcep_corpus && cp test/fuzz/corpus/dcep/* build/dcep_corpus/
//   ./build/dcep_fuzz -max_total_time=120 build/dcep_corpus
//
// Properties beyond "no crash": an OPEN that parses builds back to bytes that parse to the same
// value, and to the very input when its reliability field was already canonical; an ACK parses
// only as the single byte 0x02; UTF-8 validation agrees with what the parser accepted.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "sctp/dcep.h"

using namespace kvs;
using namespace kvs::sctp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan in(data, size);
  (void)IsValidUtf8(in);
  auto type = PeekDcepType(in);
  if (type.ok() != (size > 0)) abort();

  const Status ack = ParseDcepAck(in);
  if (ack.ok() != (size == 1 && data[0] == kDcepAck)) abort();

  auto open = ParseDcepOpen(in);
  if (!open.ok()) return 0;
  const DcepOpen& o = open.value();
  if (!IsValidUtf8(ByteSpan(reinterpret_cast<const uint8_t*>(o.label.data()), o.label.size())) ||
      !IsValidUtf8(
          ByteSpan(reinterpret_cast<const uint8_t*>(o.protocol.data()), o.protocol.size()))) {
    abort();
  }
  if (size != kDcepOpenHeaderSize + o.label.size() + o.protocol.size()) abort();
  auto built = BuildDcepOpen(o);
  if (!built.ok()) abort();
  auto again = ParseDcepOpen(built.value());
  if (!again.ok() || !(again.value() == o)) abort();
  // A reliable channel's reliability parameter is ignored on input and written as 0.
  const bool canonical = o.reliability != Reliability::kReliable ||
                         (data[4] == 0 && data[5] == 0 && data[6] == 0 && data[7] == 0);
  if (canonical && (built.value().size() != size ||
                    !std::equal(built.value().begin(), built.value().end(), data))) {
    abort();
  }
  return 0;
}
