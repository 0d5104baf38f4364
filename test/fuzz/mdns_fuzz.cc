// libFuzzer target for the mDNS codec, resolver and responder: Parse on any bytes, a
// round-trip property (a parsed response's A/AAAA answers, rebuilt by BuildResponse and parsed
// again, keep their names, types, TTLs and addresses), the resolver fed the same bytes as an
// answer, and the responder fed them as a query (any reply it makes must parse back as a
// response answering with its own address).
// Not built by CMake. From the repository root:
//
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
//     -Ibinding/core test/fuzz/mdns_fuzz.cc binding/core/mdns/*.cc binding/core/net/address.cc \
//     -o build/mdns_fuzz
//   mkdir -p build/mdns_corpus && ./build/mdns_fuzz -max_total_time=120 build/mdns_corpus \
//     test/fuzz/corpus/mdns
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "mdns/mdns_message.h"
#include "mdns/mdns_resolver.h"
#include "mdns/mdns_responder.h"

using namespace kvs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan input(data, size);
  auto parsed = mdns::Parse(input);
  if (parsed.ok()) {
    std::vector<mdns::Record> rebuilt;
    for (const auto& r : parsed.value().answers) {
      if (!r.address || r.name.empty()) continue;
      // Names with dots inside labels cannot be written back as text: skip them.
      bool writable = true;
      size_t label = 0;
      for (char c : r.name) {
        label = c == '.' ? 0 : label + 1;
        writable &= label <= mdns::kMaxLabelLength;
      }
      if (r.name.front() == '.' || r.name.back() == '.' || r.name.find("..") != std::string::npos ||
          !writable) {
        continue;
      }
      mdns::Record copy = r;
      copy.rdata.clear();
      rebuilt.push_back(copy);
    }
    auto bytes = mdns::BuildResponse(rebuilt);
    if (bytes.ok()) {
      auto again = mdns::Parse(ByteSpan(bytes.value()));
      if (!again.ok() || again.value().answers.size() != rebuilt.size()) abort();
      for (size_t i = 0; i < rebuilt.size(); ++i) {
        const auto& a = again.value().answers[i];
        const auto& b = rebuilt[i];
        if (a.name != b.name || a.type != b.type || a.ttl != b.ttl || a.address != b.address ||
            a.cacheFlush != b.cacheFlush) {
          abort();
        }
      }
    }
  }
  // The resolver must take anything as an answer without harm.
  mdns::Resolver resolver;
  (void)resolver.Resolve("fuzz.local", 0);
  if (parsed.ok()) {
    for (const auto& q : parsed.value().questions) (void)resolver.Resolve(q.name, 0);
  }
  (void)resolver.HandlePacket(input, 1);
  resolver.Tick(20000);
  (void)resolver.TakeOutcomes();
  (void)resolver.TakeQueries();

  mdns::Responder responder;
  const uint8_t uuid[16] = {};
  const auto self = *net::Address::Parse("10.99.0.1", 0);
  (void)responder.NameFor(self, uuid);
  for (uint16_t port : {uint16_t{5353}, uint16_t{40000}}) {
    auto reply = responder.HandleQuery(input, *net::Address::Parse("10.99.0.2", port));
    if (!reply) continue;
    auto back = mdns::Parse(ByteSpan(reply->bytes));
    if (!back.ok() || !back.value().isResponse() || back.value().answers.empty()) abort();
    for (const auto& a : back.value().answers) {
      if (!a.address || *a.address != self) abort();
    }
  }
  return 0;
}
