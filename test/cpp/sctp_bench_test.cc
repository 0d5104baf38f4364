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

#include <usrsctp.h>

#include <algorithm>
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
  uint32_t t3 = 0;          // T3 retransmission timeouts
  uint32_t fast = 0;        // fast-retransmitted chunks
  uint32_t chunkDrops = 0;  // inbound DATA dropped at the chunk-queue limit
  uint32_t rwndDrops = 0;   // inbound DATA dropped for want of receive window
  uint32_t probes = 0;      // zero-window probe timeouts (counted in t3 too)
};

sctpstat Stats() {
  sctpstat s{};
  usrsctp_get_stat(&s);
  return s;
}

// Sends `total` bytes in 16 KiB messages with back-pressure and returns the rate, measured
// on the wall clock (simulated = false) or on the fake clock.
Outcome Run(const Variant& v, size_t total, uint32_t delayMs, double loss, bool simulated) {
  internal::SetGlobalTuning(v.global);
  FakeClock::SetPureFakeTime(simulated);
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
  const sctpstat before = Stats();
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
  const sctpstat after = Stats();
  Outcome o;
  o.t3 = after.sctps_timodata - before.sctps_timodata;
  o.fast = after.sctps_sendfastretrans - before.sctps_sendfastretrans;
  o.chunkDrops = after.sctps_datadropchklmt - before.sctps_datadropchklmt;
  o.rwndDrops = after.sctps_datadroprwnd - before.sctps_datadroprwnd;
  o.probes = after.sctps_timowindowprobe - before.sctps_timowindowprobe;
  o.complete = done;
  o.mbPerSecond = seconds > 0 ? double(count * kMessage) / (1024.0 * 1024.0) / seconds : 0;
  internal::SetGlobalTuning(internal::DefaultGlobalTuning());
  FakeClock::SetPureFakeTime(false);
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
  stock.maxAssociationRetransmits = 0;  // usrsctp's 10
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
  with("buffers 1 MiB",
       [](Variant& v) { v.tuning.sendBufferBytes = v.tuning.receiveBufferBytes = 1024 * 1024; });
  with("buffers 4 MiB", [](Variant& v) {
    v.tuning.sendBufferBytes = v.tuning.receiveBufferBytes = 4 * 1024 * 1024;
  });
  with("initial cwnd 3", [](Variant& v) { v.global.initialCwndMtus = 3; });
  with("max burst 4", [](Variant& v) { v.tuning.maxBurst = 4; });
  with("max burst 32", [](Variant& v) { v.tuning.maxBurst = 32; });
  with("SACK delay 200 ms", [](Variant& v) { v.tuning.sackDelayMs = 200; });
  with("RTO min 200 ms", [](Variant& v) { v.tuning.rtoMinMs = 200; });
  with("RTO min 400 ms", [](Variant& v) { v.tuning.rtoMinMs = 400; });
  with("Nagle on", [](Variant& v) { v.tuning.noDelay = false; });
  with("chunks on queue 512", [](Variant& v) { v.global.maxChunksOnQueue = 512; });
  with("CC H-TCP", [](Variant& v) { v.tuning.congestionControl = CongestionControl::kHtcp; });
  with("CC HighSpeed",
       [](Variant& v) { v.tuning.congestionControl = CongestionControl::kHighSpeed; });
  return out;
}

}  // namespace

// The median of three runs (the wall figure is noisy on a shared machine).
Outcome Median(const Variant& v, size_t total, uint32_t delayMs, double loss, bool simulated) {
  std::vector<Outcome> runs;
  for (int i = 0; i < 3; ++i) runs.push_back(Run(v, total, delayMs, loss, simulated));
  std::sort(runs.begin(), runs.end(),
            [](const Outcome& a, const Outcome& b) { return a.mbPerSecond < b.mbPerSecond; });
  Outcome m = runs[1];
  for (const Outcome& r : runs) m.complete = m.complete && r.complete;
  return m;
}

TEST_CASE("SCTP bench: 16 KiB messages, in memory and over a simulated 20 ms RTT" *
          doctest::skip()) {
  std::printf("%-22s %10s %30s %30s\n", "configuration", "wall MB/s",
              "sim 0%: MB/s (T3/probe/fr/drop)", "sim 1%: MB/s (T3/probe/fr/drop)");
  for (const Variant& v : Variants()) {
    const Outcome wall = Median(v, 64 * 1024 * 1024, 0, 0, false);
    const Outcome sim0 = Median(v, 32 * 1024 * 1024, 10, 0, true);
    const Outcome sim1 = Median(v, 16 * 1024 * 1024, 10, 0.01, true);
    std::printf("%-22s %10.1f %9.1f (%u/%u/%u/%u) %14.1f (%u/%u/%u/%u)%s\n", v.name.c_str(),
                wall.mbPerSecond, sim0.mbPerSecond, sim0.t3, sim0.probes, sim0.fast,
                sim0.rwndDrops + sim0.chunkDrops, sim1.mbPerSecond, sim1.t3, sim1.probes, sim1.fast,
                sim1.rwndDrops + sim1.chunkDrops,
                wall.complete && sim0.complete && sim1.complete ? "" : "  (incomplete)");
    std::fflush(stdout);
  }
}
