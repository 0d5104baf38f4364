// libFuzzer target for the SCTP input path: arbitrary packets into HandlePacket of a connected
// association (with data channels on top, so DCEP and the channel layer see what gets
// through), checksum offload on as in production (usrsctp skips CRC32c on input). Not built
// by CMake. usrsctp itself is rebuilt with coverage and ASan so that the fuzzer can see into
// it. From the repository root:
//
//   SRC=/root/.cache/kvs-webrtc/src/libusrsctp_0.9.5.0-2/libusrsctp-0.9.5.0  # deps cache
//   cmake -S $SRC -B build/fuzz-usrsctp -G Ninja -DCMAKE_C_COMPILER=clang \
//     -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address" \
//     -Dsctp_build_programs=OFF -Dsctp_build_shared_lib=OFF -Dsctp_werror=OFF \
//     -Dsctp_debug=OFF -Dsctp_inet=OFF -Dsctp_inet6=OFF
//   cmake --build build/fuzz-usrsctp --parallel 2
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
//     -Ibinding/core -Itest/cpp -isystem $SRC/usrsctplib test/fuzz/sctp_fuzz.cc \
//     binding/core/sctp/*.cc build/fuzz-usrsctp/usrsctplib/libusrsctp.a -lpthread \
//     -o build/sctp_fuzz
//   mkdir -p build/sctp_corpus && cp test/fuzz/corpus/sctp/* build/sctp_corpus/
//   ./build/sctp_fuzz -max_total_time=600 -timeout=20 -max_len=2048 build/sctp_corpus
//
// -timeout matters: both findings so far were hangs inside usrsctp (sctp_packet_check.h).
//
// Input: one flags byte, then packets as [u16 length][bytes]. Flag bit 0 rewrites each
// packet's verification tag to the one the receiving association expects and bit 1 its ports
// to 5000/5000, so that chunks get past the header checks into the established
// association; without them the header checks themselves are fuzzed. Bit 2 sends to the DTLS
// server side instead of the client. Bit 3 numbers the DATA chunks with the TSNs the receiver
// expects next (they start at random), so that their payloads reach reassembly and DCEP. Between
// packets the peers exchange whatever they answer, and the fake clock moves on so that timers run.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "sctp/data_channels.h"
#include "sctp/usrsctp_runtime.h"
#include "sctp_test_link.h"

using namespace kvs;
using namespace kvs::sctp;
using kvs::testing::FakeClock;
using kvs::testing::TestLink;

namespace {

uint32_t ReadU32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

void WriteU32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

// Calls fn with a pointer to the TSN of each DATA chunk of an SCTP packet.
template <typename Fn>
void ForEachDataChunk(uint8_t* packet, size_t size, Fn fn) {
  size_t off = 12;
  while (off + 4 <= size) {
    const size_t length = (size_t(packet[off + 2]) << 8) | packet[off + 3];
    if (length < 4 || length > size - off) return;
    if (packet[off] == 0 && length >= 16) fn(packet + off + 4);
    off += (length + 3) & ~size_t(3);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  TestLink link(1);
  std::unique_ptr<DataChannels> dc[2];
  // The tag each side puts on what it sends is the tag its peer expects to receive.
  uint8_t tagSentBy[2][4] = {{0}, {0}};
  uint32_t lastTsnSentBy[2] = {0, 0};
  link.SetTap([&](int side, ByteSpan p) {
    if (p.size >= 12) std::memcpy(tagSentBy[side], p.data + 4, 4);
    ForEachDataChunk(const_cast<uint8_t*>(p.data), p.size,
                     [&](uint8_t* tsn) { lastTsnSentBy[side] = ReadU32(tsn); });
  });
  for (int i = 0; i < 2; ++i) {
    DataChannelsConfig c;
    c.dtlsClient = i == 0;
    c.remoteMaxMessageSize = 0;
    c.sctp.maxStreams = 16;  // cheaper per iteration; ids still matter
    c.sctp.maxReceiveMessageSize = 1 << 20;
    c.sctp.wake = link.Waker(i);
    DataChannelsCallbacks cb;
    cb.onPacket = link.Sender(i);
    auto r = DataChannels::Create(std::move(c), std::move(cb));
    if (!r.ok()) abort();
    dc[i] = r.take();
    DataChannels* raw = dc[i].get();
    link.Attach(i, {[raw](ByteSpan p) { raw->HandlePacket(p); }, [raw] { raw->Poll(); }});
  }
  if (!dc[0]->Start().ok() || !dc[1]->Start().ok()) abort();
  for (int i = 0; i < 200 && dc[0]->associationState() != AssociationState::kConnected; ++i) {
    link.Flush();
    FakeClock::Advance(10);
  }
  if (dc[0]->associationState() != AssociationState::kConnected) abort();
  DataChannelInit init;
  init.label = "fuzz";
  (void)dc[0]->CreateChannel(init);  // something for DCEP and resets to act on
  link.Flush();

  const int target = (flags & 4) != 0 ? 1 : 0;
  size_t pos = 1;
  for (int packets = 0; packets < 64 && pos + 2 <= size; ++packets) {
    const size_t length = (size_t(data[pos]) << 8) | data[pos + 1];
    pos += 2;
    const size_t n = std::min(length, size - pos);
    std::vector<uint8_t> packet(data + pos, data + pos + n);
    pos += n;
    if (packet.size() >= 12) {
      if ((flags & 2) != 0) {
        packet[0] = packet[2] = 0x13;  // 5000 = 0x1388
        packet[1] = packet[3] = 0x88;
      }
      if ((flags & 1) != 0) std::memcpy(packet.data() + 4, tagSentBy[1 - target], 4);
      if ((flags & 8) != 0) {
        ForEachDataChunk(packet.data(), packet.size(),
                         [&](uint8_t* tsn) { WriteU32(tsn, ++lastTsnSentBy[1 - target]); });
      }
    }
    dc[target]->HandlePacket(ByteSpan(packet));
    link.Flush(200);
    FakeClock::Advance(50);
  }
  // The associations are destroyed here, mid-whatever: that path is fuzzed too.
  return 0;
}
