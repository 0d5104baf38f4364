// SCTP data-channel micro-benchmark (skipped by default: speed is not asserted in tests).
// Run it on a quiet machine, in an optimised build without sanitizers:
//
//   build/dev/kvs_core_tests --no-skip -tc='SCTP bench*'
//
// Two figures per configuration:
// * "wall": 64 MiB in 16 KiB messages through two in-memory associations on one thread, with
//   back-pressure (refill at bufferedAmountLow); MB/s of wall time for both ends on one core.
// * "sim": 32 MiB over a link with a 10 ms one-way delay (20 ms RTT) and no or 1% random loss,
//   in fake time; MB per simulated second. The fake link has no bandwidth limit, so this
//   measures what windows, bursts, SACK timing and loss recovery allow, not CPU.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "sctp/data_channels.h"
#include "sctp/usrsctp_runtime.h"
#include "sctp_channels_util.h"

using namespace kvs;
using namespace kvs::sctp;
using kvs::testing::ChannelsPair;
using kvs::testing::FakeClock;

namespace {

struct Variant {
  std::string name;
  SctpTuning tuning;
  internal::GlobalTuning global;
};

struct Outcome {
  double mbPerSecond = 0;
  bool complete = false;
};

// Sends `total` bytes in 16 KiB messages with back-pressure and returns the rate, measured
// on the wall clock (simulated = false) or on the fake clock.
Outcome Run(const Variant& v, size_t total, uint32_t delayMs, double loss, bool simulated) {
  internal::SetGlobalTuning(v.global);
  DataChannelsConfig c;
  c.sctp.tuning = v.tuning;
  c.maxBufferedBytes = 8 * 1024 * 1024;
  ChannelsPair p(c, 7);
  p.Start();
  DataChannelInit init;
  init.label = "bench";
  auto id = p.peer[0].dc->CreateChannel(init);
  REQUIRE(id.ok());
  REQUIRE(p.RunUntil([&] { return !p.peer[0].opened.empty() && !p.peer[1].opened.empty(); }));
  p.link.SetDelay(delayMs);
  p.link.SetLoss(loss);

  constexpr size_t kMessage = 16 * 1024;
  const size_t count = total / kMessage;
  const std::vector<uint8_t> payload = kvs::testing::Pattern(kMessage, 1);
  size_t next = 0;
  size_t received = 0;
  REQUIRE(p.peer[0].dc->SetBufferedAmountLowThreshold(0, 256 * 1024).ok());
  auto fill = [&] {
    while (next < count && p.peer[0].dc->BufferedAmount(0) < 1024 * 1024) {
      if (!p.peer[0].dc->Send(0, payload, true).ok()) return;
      ++next;
    }
  };
  p.peer[0].onLow = [&](uint16_t) { fill(); };
  p.peer[1].onMessage = [&](uint16_t, const std::vector<uint8_t>&, bool) { ++received; };
  // Keep the receiver's record of messages from growing: the hook counts, the vector stays.
  const uint64_t fakeStart = FakeClock::Now();
  const auto wallStart = std::chrono::steady_clock::now();
  fill();
  const uint64_t stepMs = simulated ? 1 : 10;
  const bool done = p.link.RunUntil(
      [&] {
        p.peer[1].messages.clear();
        return received == count;
      },
      600000, stepMs);
  const double seconds =
      simulated
          ? double(FakeClock::Now() - fakeStart) / 1000.0
          : std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
  Outcome o;
  o.complete = done;
  o.mbPerSecond = seconds > 0 ? double(count * kMessage) / (1024.0 * 1024.0) / seconds : 0;
  internal::SetGlobalTuning(internal::DefaultGlobalTuning());
  return o;
}

std::vector<Variant> Variants() {
  std::vector<Variant> out;
  const SctpTuning d = DefaultTuning();
  const internal::GlobalTuning g = internal::DefaultGlobalTuning();
  // usrsctp's own defaults: 256 KiB buffers, burst 4, 200 ms SACK delay, RTO 1 s / 60 s,
  // initial RTO 3 s, Nagle on, 3-MTU initial window, 512 chunks on a queue.
  SctpTuning stock = d;
  stock.sendBufferBytes = 256 * 1024;
  stock.receiveBufferBytes = 256 * 1024;
  stock.maxBurst = 4;
  stock.sackDelayMs = 200;
  stock.rtoInitialMs = 3000;
  stock.rtoMinMs = 1000;
  stock.rtoMaxMs = 60000;
  stock.noDelay = false;
  stock.congestionControl = CongestionControl::kRfc4960;
  internal::GlobalTuning stockGlobal;
  stockGlobal.initialCwndMtus = 3;
  stockGlobal.maxChunksOnQueue = 512;
  out.push_back({"usrsctp stock", stock, stockGlobal});
  out.push_back({"ours (defaults)", d, g});
  auto with = [&](const std::string& name, auto change) {
    Variant v{name, d, g};
    change(v);
    out.push_back(v);
  };
  with("buffers 256 KiB",
       [](Variant& v) { v.tuning.sendBufferBytes = v.tuning.receiveBufferBytes = 256 * 1024; });
  with("buffers 4 MiB", [](Variant& v) {
    v.tuning.sendBufferBytes = v.tuning.receiveBufferBytes = 4 * 1024 * 1024;
  });
  with("initial cwnd 3", [](Variant& v) { v.global.initialCwndMtus = 3; });
  with("max burst 4", [](Variant& v) { v.tuning.maxBurst = 4; });
  with("max burst 32", [](Variant& v) { v.tuning.maxBurst = 32; });
  with("SACK delay 200 ms", [](Variant& v) { v.tuning.sackDelayMs = 200; });
  with("RTO min 1 s", [](Variant& v) { v.tuning.rtoMinMs = 1000; });
  with("Nagle on", [](Variant& v) { v.tuning.noDelay = false; });
  with("chunks on queue 512", [](Variant& v) { v.global.maxChunksOnQueue = 512; });
  with("CC H-TCP", [](Variant& v) { v.tuning.congestionControl = CongestionControl::kHtcp; });
  with("CC HighSpeed",
       [](Variant& v) { v.tuning.congestionControl = CongestionControl::kHighSpeed; });
  return out;
}

}  // namespace

TEST_CASE("SCTP bench: 16 KiB messages, in memory and over a simulated 20 ms RTT" *
          doctest::skip()) {
  std::printf("%-22s %12s %14s %14s\n", "configuration", "wall MB/s", "sim 0% MB/s", "sim 1% MB/s");
  for (const Variant& v : Variants()) {
    const Outcome wall = Run(v, 64 * 1024 * 1024, 0, 0, false);
    const Outcome sim0 = Run(v, 32 * 1024 * 1024, 10, 0, true);
    const Outcome sim1 = Run(v, 32 * 1024 * 1024, 10, 0.01, true);
    std::printf("%-22s %12.1f %14.1f %14.1f%s\n", v.name.c_str(), wall.mbPerSecond,
                sim0.mbPerSecond, sim1.mbPerSecond,
                wall.complete && sim0.complete && sim1.complete ? "" : "  (incomplete)");
    std::fflush(stdout);
  }
}
