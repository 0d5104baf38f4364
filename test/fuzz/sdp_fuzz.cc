// libFuzzer target for the SDP codec, the candidate codec and the answerer. Not built by CMake.
// Build and run (from the repository root; corpus seeded with the fixtures):
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
//     -Ibinding/core test/fuzz/sdp_fuzz.cc binding/core/sdp/*.cc -o /tmp/sdp_fuzz
//   mkdir -p /tmp/sdp_corpus && cp test/cpp/fixtures/sdp/*.sdp /tmp/sdp_corpus/
//   /tmp/sdp_fuzz -max_total_time=60 -max_len=8192 /tmp/sdp_corpus
// Properties checked beyond "no crash": whatever parses serialises to text that parses again, and
// after that one normalisation parse and serialise are exact inverses; an answer we build to a
// parsed offer is itself parseable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sdp/candidate.h"
#include "sdp/negotiate.h"
#include "sdp/sdp_parser.h"
#include "sdp/sdp_writer.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto candidate = kvs::sdp::ParseCandidate(input);
  if (candidate.ok()) {
    auto again = kvs::sdp::ParseCandidate(kvs::sdp::FormatCandidate(candidate.value()));
    Check(again.ok() && again.value() == candidate.value());
  }

  auto sd = kvs::sdp::ParseSessionDescription(input);
  if (!sd.ok()) return 0;
  std::string first = kvs::sdp::SerializeSessionDescription(sd.value());
  auto reparsed = kvs::sdp::ParseSessionDescription(first);
  Check(reparsed.ok());
  std::string second = kvs::sdp::SerializeSessionDescription(reparsed.value());
  Check(second == first);
  auto third = kvs::sdp::ParseSessionDescription(second);
  Check(third.ok() && third.value() == reparsed.value());

  kvs::sdp::AnswerSpec spec;
  spec.sessionId = "1";
  spec.transport.iceUfrag = "ufrag";
  spec.transport.icePwd = "passwordpasswordpassword";
  spec.transport.fingerprintSha256 = "AB:CD";
  auto answer = kvs::sdp::BuildAnswer(sd.value(), spec);
  if (answer.ok()) {
    auto parsedAnswer =
        kvs::sdp::ParseSessionDescription(kvs::sdp::SerializeSessionDescription(answer.value()));
    Check(parsedAnswer.ok());
  }
  return 0;
}
