// In-memory plumbing for the SCTP tests: a process-wide fake clock that drives usrsctp's
// timers (usrsctp's timers are process-wide, so its clock is too), and a link between two
// endpoints that queues packets, can drop them at random (seeded), delay them in fake time or
// swallow everything, and polls an endpoint when its wake function fired. No sockets, no
// sleeps: fake time only moves when a test advances it.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <vector>

#include "common/bytes.h"
#include "sctp/usrsctp_runtime.h"

namespace kvs::testing {

class FakeClock {
 public:
  static constexpr uint64_t kStartMs = 1000000;
  static uint64_t Now() { return NowRef().load(); }
  // How far fake time ran ahead of real time (see sctp_fake_time.cc).
  static uint64_t ElapsedMs() { return Now() - kStartMs; }
  // In pure mode the wall clock usrsctp reads stands still except when fake time moves, so
  // that a simulation is not disturbed by how long the host took to compute it (the
  // benchmark's simulated runs). Off by default: real time flows for every other test.
  static void SetPureFakeTime(bool on) { PureRef().store(on); }
  static bool PureFakeTime() { return PureRef().load(); }
  // Advances fake time and runs usrsctp's timers up to it. Safe from several threads.
  static void Advance(uint64_t ms) {
    static const bool based = (sctp::TickUsrsctp(kStartMs), true);  // usrsctp's time base
    (void)based;
    sctp::TickUsrsctp(NowRef().fetch_add(ms) + ms);
  }

 private:
  // Constant-initialised: gettimeofday (which usrsctp calls during its init) reads them.
  static std::atomic<uint64_t>& NowRef() {
    static std::atomic<uint64_t> now{kStartMs};
    return now;
  }
  static std::atomic<bool>& PureRef() {
    static std::atomic<bool> pure{false};
    return pure;
  }
};

class TestLink {
 public:
  struct Endpoint {
    std::function<void(ByteSpan)> deliver;  // into the endpoint's HandlePacket
    std::function<void()> poll;             // the endpoint's Poll
  };

  explicit TestLink(uint32_t seed = 1) : rng_(seed) {}

  void Attach(int side, Endpoint endpoint) { endpoints_[side] = std::move(endpoint); }

  // The onPacket callback of the endpoint on `side`.
  std::function<void(ByteSpan)> Sender(int side) {
    return [this, side](ByteSpan p) { Enqueue(side, p); };
  }
  // The wake function of the endpoint on `side`.
  std::function<void()> Waker(int side) {
    return [this, side] { woken_[side] = true; };
  }

  void SetLoss(double rate) { loss_ = rate; }
  void SetDelay(uint32_t ms) { delayMs_ = ms; }
  // Drops everything sent from `side` (a peer that vanished).
  void SetBlackhole(int side, bool on) { blackhole_[side] = on; }
  // Observes every packet sent from a side before loss is applied.
  void SetTap(std::function<void(int side, ByteSpan)> tap) { tap_ = std::move(tap); }

  // Delivers every packet due by now (or at most maxPackets), in order per direction, and
  // polls woken endpoints. Returns the number delivered.
  size_t Flush(size_t maxPackets = 50000000) {
    size_t delivered = 0;
    for (size_t guard = 0; guard < 50000000 && delivered < maxPackets; ++guard) {
      PollWoken();
      bool any = false;
      for (int side = 0; side < 2; ++side) {
        auto& q = queues_[side];
        if (q.empty() || q.front().dueMs > FakeClock::Now()) continue;
        std::vector<uint8_t> bytes = std::move(q.front().bytes);
        q.pop_front();
        any = true;
        ++delivered;
        if (endpoints_[1 - side].deliver) endpoints_[1 - side].deliver(ByteSpan(bytes));
      }
      if (!any && !woken_[0] && !woken_[1]) break;
    }
    return delivered;
  }

  // Flushes, then advances fake time by `stepMs` at a time until `done` holds or
  // `maxMs` of fake time passed. Returns whether `done` held.
  bool RunUntil(const std::function<bool()>& done, uint64_t maxMs, uint64_t stepMs = 10) {
    for (uint64_t waited = 0;; waited += stepMs) {
      Flush();
      if (done()) return true;
      if (waited >= maxMs) return false;
      FakeClock::Advance(stepMs);
    }
  }

  uint64_t sentPackets(int side) const { return sent_[side]; }
  uint64_t droppedPackets(int side) const { return dropped_[side]; }
  size_t maxPacketSize(int side) const { return maxSize_[side]; }

 private:
  struct InFlight {
    uint64_t dueMs;
    std::vector<uint8_t> bytes;
  };

  void Enqueue(int side, ByteSpan p) {
    ++sent_[side];
    if (p.size > maxSize_[side]) maxSize_[side] = p.size;
    if (tap_) tap_(side, p);
    if (blackhole_[side] ||
        (loss_ > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < loss_)) {
      ++dropped_[side];
      return;
    }
    queues_[side].push_back(
        {FakeClock::Now() + delayMs_, std::vector<uint8_t>(p.data, p.data + p.size)});
  }

  void PollWoken() {
    for (int side = 0; side < 2; ++side) {
      if (woken_[side].exchange(false)) {
        if (endpoints_[side].poll) endpoints_[side].poll();
      }
    }
  }

  std::mt19937 rng_;
  Endpoint endpoints_[2];
  std::deque<InFlight> queues_[2];
  std::atomic<bool> woken_[2] = {false, false};  // wakes may come from other threads
  bool blackhole_[2] = {false, false};
  double loss_ = 0;
  uint32_t delayMs_ = 0;
  std::function<void(int, ByteSpan)> tap_;
  uint64_t sent_[2] = {0, 0};
  uint64_t dropped_[2] = {0, 0};
  size_t maxSize_[2] = {0, 0};
};

}  // namespace kvs::testing
