// The SCTP association over usrsctp, two of them in memory joined by a TestLink, timers on
// the fake clock.
#include <doctest/doctest.h>

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "sctp/dcep.h"
#include "sctp/sctp_association.h"
#include "sctp/sctp_packet_check.h"
#include "sctp/usrsctp_runtime.h"
#include "sctp_test_link.h"

using namespace kvs;
using namespace kvs::sctp;
using kvs::testing::FakeClock;
using kvs::testing::TestLink;

namespace {

std::vector<uint8_t> Pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    v[i] = static_cast<uint8_t>(x);
  }
  return v;
}

struct Side {
  std::unique_ptr<Association> assoc;
  std::vector<SctpMessage> received;
  std::vector<AssociationState> states;
  Status reason;
  size_t sent = 0;
  int writable = 0;
  std::vector<std::pair<std::vector<uint16_t>, StreamDirection>> resets;
  std::vector<Status> errors;
  std::function<void(SctpMessage&)> onMessage;  // extra hook

  bool is(AssociationState s) const { return assoc && assoc->state() == s; }
};

struct Pair {
  TestLink link;
  Side side[2];

  explicit Pair(AssociationConfig config = {}, uint32_t seed = 1) : link(seed) {
    for (int i = 0; i < 2; ++i) {
      AssociationConfig c = config;
      c.wake = link.Waker(i);
      AssociationCallbacks cb;
      Side* s = &side[i];
      cb.onPacket = link.Sender(i);
      cb.onMessage = [s](SctpMessage&& m) {
        if (s->onMessage) s->onMessage(m);
        s->received.push_back(std::move(m));
      };
      cb.onStateChange = [s](AssociationState st, const Status& why) {
        s->states.push_back(st);
        s->reason = why;
      };
      cb.onSent = [s](uint16_t, size_t n) { s->sent += n; };
      cb.onWritable = [s] { ++s->writable; };
      cb.onStreamReset = [s](const std::vector<uint16_t>& ids, StreamDirection d, bool ok) {
        if (ok) s->resets.emplace_back(ids, d);
      };
      cb.onStreamError = [s](uint16_t, const Status& e) { s->errors.push_back(e); };
      auto a = Association::Create(c, std::move(cb));
      REQUIRE_MESSAGE(a.ok(), a.status().message());
      side[i].assoc = a.take();
      link.Attach(i, {[s](ByteSpan p) {
                        if (s->assoc) s->assoc->HandlePacket(p);
                      },
                      [s] {
                        if (s->assoc) s->assoc->Poll();
                      }});
    }
  }

  void Connect() {
    REQUIRE(side[0].assoc->Connect().ok());
    REQUIRE(side[1].assoc->Connect().ok());
    REQUIRE(link.RunUntil(
        [&] {
          return side[0].is(AssociationState::kConnected) &&
                 side[1].is(AssociationState::kConnected);
        },
        10000));
  }
};

// CRC32c (Castagnoli, reflected, RFC 4960 Appendix B), bit by bit: independent of usrsctp.
uint32_t Crc32c(const uint8_t* data, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

}  // namespace

TEST_CASE("SCTP: CRC32c reference matches the RFC 3720 check value") {
  const char* digits = "123456789";
  CHECK(Crc32c(reinterpret_cast<const uint8_t*>(digits), 9) == 0xE3069283u);
}

TEST_CASE("SCTP: both sides connect at once (simultaneous INIT)") {
  Pair p;
  const size_t liveBefore = LiveUsrsctpEndpoints();
  CHECK(liveBefore >= 2);
  p.Connect();
  for (auto& s : p.side) {
    CHECK(s.states.front() == AssociationState::kConnecting);
    CHECK(s.states.back() == AssociationState::kConnected);
    CHECK(s.assoc->outboundStreams() == 1024);
    CHECK(s.assoc->inboundStreams() == 1024);
  }
}

TEST_CASE("SCTP: messages both ways keep stream, PPID and ordering") {
  Pair p;
  p.Connect();
  REQUIRE(p.side[0].assoc->Send(3, kPpidString, {'h', 'i'}, {}).ok());
  SendOptions unordered;
  unordered.ordered = false;
  REQUIRE(p.side[1].assoc->Send(4, kPpidBinary, {1, 2, 3}, unordered).ok());
  REQUIRE(p.link.RunUntil(
      [&] { return p.side[1].received.size() == 1 && p.side[0].received.size() == 1; }, 5000));
  const SctpMessage& a = p.side[1].received[0];
  CHECK(a.streamId == 3);
  CHECK(a.ppid == kPpidString);
  CHECK(a.ordered);
  CHECK(a.data == std::vector<uint8_t>{'h', 'i'});
  const SctpMessage& b = p.side[0].received[0];
  CHECK(b.streamId == 4);
  CHECK(b.ppid == kPpidBinary);
  CHECK_FALSE(b.ordered);
  CHECK(b.data == std::vector<uint8_t>{1, 2, 3});
}

TEST_CASE("SCTP: arguments that cannot be sent are refused") {
  Pair p;
  p.Connect();
  CHECK(p.side[0].assoc->Send(0, kPpidBinary, {}, {}).code() == "ERR_SCTP_EMPTY_MESSAGE");
  SendOptions both;
  both.maxRetransmits = 1;
  both.maxPacketLifeTimeMs = 10;
  CHECK(p.side[0].assoc->Send(0, kPpidBinary, {1}, both).code() == "ERR_SCTP_RELIABILITY");
  CHECK(p.side[0].assoc->Send(1024, kPpidBinary, {1}, {}).code() == "ERR_SCTP_STREAM_ID");
}

TEST_CASE("SCTP: packets fit the MTU and carry a valid CRC32c") {
  AssociationConfig c;
  c.mtu = 1200;
  Pair p(c);
  size_t checked = 0;
  size_t bad = 0;
  p.link.SetTap([&](int, ByteSpan pkt) {
    if (pkt.size < 12) {
      ++bad;
      return;
    }
    std::vector<uint8_t> copy(pkt.data, pkt.data + pkt.size);
    const uint32_t onWire = static_cast<uint32_t>(copy[8]) | (static_cast<uint32_t>(copy[9]) << 8) |
                            (static_cast<uint32_t>(copy[10]) << 16) |
                            (static_cast<uint32_t>(copy[11]) << 24);
    copy[8] = copy[9] = copy[10] = copy[11] = 0;
    // RFC 4960 Appendix B: the CRC's least significant byte goes first on the wire.
    if (Crc32c(copy.data(), copy.size()) != onWire) ++bad;
    ++checked;
  });
  p.Connect();
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, Pattern(100000, 1), {}).ok());
  REQUIRE(p.link.RunUntil([&] { return p.side[1].received.size() == 1; }, 10000));
  CHECK(checked > 80);
  CHECK(bad == 0);
  CHECK(p.link.maxPacketSize(0) <= 1200);
  CHECK(p.link.maxPacketSize(0) > 1000);  // full packets were sent
  CHECK(p.side[1].received[0].data == Pattern(100000, 1));
}

TEST_CASE("SCTP: a message larger than every buffer goes in parts and arrives whole") {
  AssociationConfig c;
  c.tuning.sendBufferBytes = 64 * 1024;
  c.tuning.receiveBufferBytes = 64 * 1024;
  Pair p(c);
  p.Connect();
  const auto big = Pattern(3 * 1024 * 1024 + 17, 7);
  REQUIRE(p.side[0].assoc->Send(2, kPpidBinary, big, {}).ok());
  // usrsctp took only part of it: the rest waits in our queue.
  CHECK(p.side[0].assoc->BufferedBytes() > 0);
  CHECK(p.side[0].assoc->BufferedBytes(2) == p.side[0].assoc->BufferedBytes());
  REQUIRE(p.link.RunUntil([&] { return p.side[1].received.size() == 1; }, 60000));
  CHECK(p.side[1].received[0].data == big);
  CHECK(p.side[0].assoc->BufferedBytes() == 0);
  CHECK(p.side[0].sent == big.size());
  CHECK(p.side[0].writable >= 1);  // pushed back, then room again
  // Resumed by events, not retried in a loop: at most one push-back per packet that came in
  // (each SACK raises the upcall once).
  const uint64_t pushBacks = p.side[0].assoc->sendPushBacks();
  CHECK(pushBacks >= 1);
  CHECK(pushBacks <= p.link.sentPackets(1) + 1);
}

TEST_CASE("SCTP: messages on several streams queue in order behind a partial one") {
  AssociationConfig c;
  c.tuning.sendBufferBytes = 32 * 1024;
  Pair p(c);
  p.Connect();
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, Pattern(500000, 1), {}).ok());
  REQUIRE(p.side[0].assoc->Send(2, kPpidBinary, Pattern(10, 2), {}).ok());
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, Pattern(20, 3), {}).ok());
  CHECK(p.side[0].assoc->BufferedBytes(2) == 10);
  REQUIRE(p.link.RunUntil([&] { return p.side[1].received.size() == 3; }, 60000));
  CHECK(p.side[1].received[0].data == Pattern(500000, 1));
  CHECK(p.side[1].received[1].data == Pattern(10, 2));
  CHECK(p.side[1].received[2].data == Pattern(20, 3));
  CHECK(p.side[0].errors.empty());
}

TEST_CASE("SCTP: a receive limit drops the oversized message and keeps the association") {
  AssociationConfig c;
  c.maxReceiveMessageSize = 100000;
  Pair p(c);
  p.Connect();
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, Pattern(300000, 1), {}).ok());
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, Pattern(99999, 2), {}).ok());
  REQUIRE(p.link.RunUntil([&] { return p.side[1].received.size() == 1; }, 30000));
  CHECK(p.side[1].received[0].data == Pattern(99999, 2));
  REQUIRE(p.side[1].errors.size() == 1);
  CHECK(p.side[1].errors[0].code() == "ERR_SCTP_MESSAGE_TOO_LARGE");
  CHECK(p.side[1].is(AssociationState::kConnected));
}

TEST_CASE("SCTP: stream reset both ways") {
  Pair p;
  p.Connect();
  REQUIRE(p.side[0].assoc->Send(5, kPpidBinary, {1}, {}).ok());
  REQUIRE(p.side[0].assoc->ResetStreams({5}).ok());
  REQUIRE(p.link.RunUntil([&] { return !p.side[0].resets.empty() && !p.side[1].resets.empty(); },
                          5000));
  // The message queued before the reset was delivered before it.
  REQUIRE(p.side[1].received.size() == 1);
  CHECK(p.side[1].received[0].streamId == 5);
  CHECK(p.side[0].resets[0].first == std::vector<uint16_t>{5});
  CHECK(p.side[0].resets[0].second == StreamDirection::kOutgoing);
  CHECK(p.side[1].resets[0].first == std::vector<uint16_t>{5});
  CHECK(p.side[1].resets[0].second == StreamDirection::kIncoming);
  // The stream works again afterwards.
  REQUIRE(p.side[0].assoc->Send(5, kPpidBinary, {2}, {}).ok());
  REQUIRE(p.link.RunUntil([&] { return p.side[1].received.size() == 2; }, 5000));
}

TEST_CASE("SCTP: graceful close") {
  Pair p;
  p.Connect();
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, Pattern(200000, 4), {}).ok());
  p.side[0].assoc->Close();
  CHECK(p.side[0].assoc->Send(1, kPpidBinary, {1}, {}).code() == "ERR_SCTP_CLOSED");
  REQUIRE(p.link.RunUntil(
      [&] {
        return p.side[0].is(AssociationState::kClosed) && p.side[1].is(AssociationState::kClosed);
      },
      10000));
  // Queued data went out before the SHUTDOWN.
  REQUIRE(p.side[1].received.size() == 1);
  CHECK(p.side[1].received[0].data == Pattern(200000, 4));
}

TEST_CASE("SCTP: abort reaches the peer as a failure") {
  Pair p;
  p.Connect();
  p.side[0].assoc->Abort();
  CHECK(p.side[0].is(AssociationState::kClosed));
  REQUIRE(p.link.RunUntil([&] { return p.side[1].is(AssociationState::kFailed); }, 5000));
  CHECK(p.side[1].reason.code() == "ERR_SCTP_PEER_ABORT");
}

TEST_CASE("SCTP: a peer that vanishes mid-transfer ends in failed, and everything is freed") {
  Pair p;
  p.Connect();
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, Pattern(4 * 1024 * 1024, 5), {}).ok());
  REQUIRE(p.side[1].assoc->Send(1, kPpidBinary, Pattern(4 * 1024 * 1024, 6), {}).ok());
  p.link.Flush(1000);  // part of the way: data in flight and queued both ways
  REQUIRE(p.side[0].assoc->BufferedBytes() > 0);
  REQUIRE(p.side[1].received.empty());
  // The peer disappears without a word: nothing it would send arrives, and it is destroyed
  // with data in flight both ways.
  p.link.SetBlackhole(1, true);
  p.side[1].assoc.reset();
  p.link.SetBlackhole(0, true);
  // Retransmissions back off to the 3 s RTO maximum and give up after the association's
  // retransmission limit (26): 75 s of fake time.
  REQUIRE(p.link.RunUntil([&] { return p.side[0].is(AssociationState::kFailed); }, 300000, 50));
  CHECK(p.side[0].reason.code() == "ERR_SCTP_COMM_LOST");
  CHECK(p.side[0].assoc->BufferedBytes() == 0);
  CHECK(p.side[0].assoc->Send(1, kPpidBinary, {1}, {}).code() == "ERR_SCTP_CLOSED");
  p.side[0].assoc.reset();  // LeakSanitizer checks the rest at exit
}

// Retransmission timeouts double up to the RTO maximum, and that maximum is how long a sender
// may sit idle on a link that works again. Under steady loss a few retransmissions lost in a
// row are common: with 20% random loss each way (test/session/loss.test.ts) a 10 s maximum left
// a reliable channel standing still for up to 15 s (timeouts of 1, 2, 4 and 8 s).
TEST_CASE("SCTP: after an outage, a waiting message goes within 3 s of the link's return") {
  Pair p;
  p.Connect();
  p.link.SetBlackhole(0, true);
  p.link.SetBlackhole(1, true);
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, Pattern(300, 11), {}).ok());
  // 40 s: long enough for the timeouts to back off to their maximum.
  REQUIRE_FALSE(p.link.RunUntil([&] { return !p.side[1].received.empty(); }, 40000, 50));
  p.link.SetBlackhole(0, false);
  p.link.SetBlackhole(1, false);
  const uint64_t back = FakeClock::Now();
  REQUIRE(p.link.RunUntil([&] { return !p.side[1].received.empty(); }, 20000, 10));
  const uint64_t waitedMs = FakeClock::Now() - back;
  CHECK(waitedMs <= 3000 + 100);  // the RTO maximum, and a step of the fake clock's
  CHECK(p.side[1].received[0].data == Pattern(300, 11));
  CHECK(p.side[0].is(AssociationState::kConnected));
  CHECK(p.side[1].is(AssociationState::kConnected));
}

// usrsctp marks a path unreachable after Path.Max.Retrans (5) timeouts in a row, and only an
// acknowledgement of a chunk sent once (Karn's rule) or a HEARTBEAT-ACK clears the count.
// New data does not go to an unreachable path, and with one path there is no other: after an
// outage (or a run of lost retransmissions under 20% loss, test/session/loss.test.ts) what was
// in flight got through on the next retransmission, but what was sent after it waited for the
// next heartbeat, 30 s and an RTO away. With the path's limit at the association's, a path is
// never given up while the association lives (RFC 4960 §8.2: Association.Max.Retrans should
// not exceed the sum of the paths' Path.Max.Retrans).
TEST_CASE("SCTP: after an outage, new messages go at once, not at the next heartbeat") {
  Pair p;
  p.Connect();
  p.link.SetBlackhole(0, true);
  p.link.SetBlackhole(1, true);
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, Pattern(300, 14), {}).ok());
  // 20 s: six timeouts and more (1, 2, 3, 3, 3, 3 s...), past the path's limit of 5.
  REQUIRE_FALSE(p.link.RunUntil([&] { return !p.side[1].received.empty(); }, 20000, 50));
  p.link.SetBlackhole(0, false);
  p.link.SetBlackhole(1, false);
  REQUIRE(p.link.RunUntil([&] { return !p.side[1].received.empty(); }, 20000, 10));
  const uint64_t sent = FakeClock::Now();
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, Pattern(300, 15), {}).ok());
  REQUIRE(p.link.RunUntil([&] { return p.side[1].received.size() >= 2; }, 60000, 10));
  CHECK(FakeClock::Now() - sent <= 1000);  // no loss now: one flight and its SACK delay
  CHECK(p.side[1].received[1].data == Pattern(300, 15));
}

// The other side of a small RTO maximum: more timeouts in the same time. The association
// gives up after a count of them, raised with it so that it still outlives an outage of a
// minute, as it did with the 10 s maximum (it gave up after 75 s; ICE's own timers decide
// about the connection before that). With the 3 s maximum and usrsctp's count of 10 it would
// give up after 27 s.
TEST_CASE("SCTP: an outage of 60 s does not end the association") {
  Pair p;
  p.Connect();
  p.link.SetBlackhole(0, true);
  p.link.SetBlackhole(1, true);
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, Pattern(300, 12), {}).ok());
  REQUIRE(p.side[1].assoc->Send(1, kPpidBinary, Pattern(300, 13), {}).ok());
  REQUIRE_FALSE(p.link.RunUntil(
      [&] {
        return p.side[0].is(AssociationState::kFailed) || p.side[1].is(AssociationState::kFailed);
      },
      60000, 50));
  CHECK(p.side[0].is(AssociationState::kConnected));
  CHECK(p.side[1].is(AssociationState::kConnected));
  p.link.SetBlackhole(0, false);
  p.link.SetBlackhole(1, false);
  REQUIRE(p.link.RunUntil(
      [&] { return !p.side[0].received.empty() && !p.side[1].received.empty(); }, 20000, 10));
  CHECK(p.side[1].received[0].data == Pattern(300, 12));
  CHECK(p.side[0].received[0].data == Pattern(300, 13));
}

TEST_CASE("SCTP: destroying an association mid-transfer frees it") {
  const size_t before = LiveUsrsctpEndpoints();
  {
    Pair p;
    CHECK(LiveUsrsctpEndpoints() == before + 2);
    p.Connect();
    REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, Pattern(8 * 1024 * 1024, 6), {}).ok());
    REQUIRE(p.side[1].assoc->Send(1, kPpidBinary, Pattern(1024 * 1024, 7), {}).ok());
    p.link.Flush(300);
    CHECK(p.side[0].assoc->BufferedBytes() > 0);
  }
  CHECK(LiveUsrsctpEndpoints() == before);
}

TEST_CASE("SCTP: a callback may destroy its association") {
  Pair p;
  p.Connect();
  bool destroyed = false;
  p.side[1].onMessage = [&](SctpMessage&) {
    p.side[1].assoc.reset();
    destroyed = true;
  };
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, {1}, {}).ok());
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, {2}, {}).ok());
  REQUIRE(p.link.RunUntil([&] { return destroyed; }, 5000));
  p.link.RunUntil([&] { return false; }, 200);
  CHECK(p.side[1].received.size() == 1);
}

TEST_CASE("SCTP: work raised in another call reaches its owner through wake and Poll") {
  Pair p;
  p.Connect();
  // Lose the first transmission: only the retransmission timer, which fires inside
  // TickUsrsctp, can deliver the message, and it must reach the link through wake + Poll.
  p.link.SetBlackhole(0, true);
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, {9}, {}).ok());
  p.link.Flush();
  p.link.SetBlackhole(0, false);
  CHECK(p.side[1].received.empty());
  const uint64_t before = p.link.sentPackets(0);
  REQUIRE(p.link.RunUntil([&] { return p.side[1].received.size() == 1; }, 10000));
  CHECK(p.link.sentPackets(0) > before);
}

namespace {

// Lockstep for the threads test: nobody's fake time runs on while another thread is
// descheduled (that would look like a vanished peer and fail its association).
class Rounds {
 public:
  explicit Rounds(int n) : n_(n) {}
  // Waits until all n threads arrived; returns the number of the round that just ended.
  uint64_t Arrive() {
    std::unique_lock<std::mutex> lock(mutex_);
    const uint64_t round = round_;
    if (++arrived_ == n_) {
      arrived_ = 0;
      ++round_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return round_ != round; });
    }
    return round;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  const int n_;
  int arrived_ = 0;
  uint64_t round_ = 0;
};

}  // namespace

TEST_CASE("SCTP: associations on several threads, timers ticked from all of them") {
  // Each thread owns one pair and moves data over a lossy link. The fake clock is advanced
  // by each thread in turn, so timers of one thread's associations fire during another
  // thread's tick; every user callback must still run on its owner's thread.
  constexpr int kThreads = 3;
  constexpr uint64_t kMaxRounds = 200000;
  Rounds rounds(kThreads);
  std::atomic<int> wrongThread{0};
  std::atomic<int> done{0};
  std::atomic<int> failures{0};
  std::atomic<int> delivered{0};
  auto work = [&](int index) {
    const std::thread::id me = std::this_thread::get_id();
    TestLink link(static_cast<uint32_t>(index + 1));
    link.SetLoss(0.02);  // losses make retransmission timers fire
    std::unique_ptr<Association> a[2];
    std::vector<uint8_t> got;
    for (int i = 0; i < 2; ++i) {
      AssociationConfig c;
      c.wake = link.Waker(i);
      AssociationCallbacks cb;
      cb.onPacket = [&, i, me](ByteSpan pkt) {
        if (std::this_thread::get_id() != me) ++wrongThread;
        link.Sender(i)(pkt);
      };
      cb.onMessage = [&, me](SctpMessage&& m) {
        if (std::this_thread::get_id() != me) ++wrongThread;
        got.insert(got.end(), m.data.begin(), m.data.end());
      };
      cb.onStateChange = [&, me](AssociationState, const Status&) {
        if (std::this_thread::get_id() != me) ++wrongThread;
      };
      auto r = Association::Create(c, std::move(cb));
      if (!r.ok()) {
        ++failures;  // keep taking part in the rounds, so the other threads end
        continue;
      }
      a[i] = r.take();
      Association* raw = a[i].get();
      link.Attach(i, {[raw](ByteSpan pkt) { raw->HandlePacket(pkt); }, [raw] { raw->Poll(); }});
    }
    const bool broken = !a[0] || !a[1] || !a[0]->Connect().ok() || !a[1]->Connect().ok();
    if (broken) ++failures;
    const auto data = Pattern(2 * 1024 * 1024, static_cast<uint32_t>(index + 1));
    bool sent = false;
    bool finished = false;
    for (uint64_t i = 0; i < kMaxRounds; ++i) {
      if (!broken) link.Flush();
      if (!broken && !sent && a[0]->state() == AssociationState::kConnected &&
          a[1]->state() == AssociationState::kConnected) {
        sent = true;
        for (size_t off = 0; off < data.size(); off += 65536) {
          if (!a[0]->Send(1, kPpidBinary,
                          std::vector<uint8_t>(data.begin() + static_cast<long>(off),
                                               data.begin() + static_cast<long>(off + 65536)),
                          {})
                   .ok()) {
            ++failures;
          }
        }
      }
      if (!finished && got.size() >= data.size()) {
        finished = true;
        if (got == data) ++delivered;
        ++done;
      }
      const uint64_t round = rounds.Arrive();  // everyone flushed
      if (round % (2 * kThreads) == static_cast<uint64_t>(2 * index)) FakeClock::Advance(5);
      rounds.Arrive();  // the tick is over
      if (done.load() == kThreads) break;
    }
    if (!finished) ++failures;
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(work, t);
  for (auto& t : threads) t.join();
  CHECK(failures.load() == 0);
  CHECK(delivered.load() == kThreads);
  CHECK(wrongThread.load() == 0);
}

TEST_CASE("SCTP: every packet of a normal association passes the inbound check") {
  Pair p;
  size_t checked = 0;
  size_t refused = 0;
  p.link.SetTap([&](int, ByteSpan pkt) {
    ++checked;
    if (!CheckInboundPacket(pkt).ok()) ++refused;
  });
  p.Connect();  // INIT, INIT ACK, COOKIE ECHO, COOKIE ACK
  p.link.SetLoss(0.05);
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, Pattern(500000, 1), {}).ok());
  REQUIRE(p.side[0].assoc->ResetStreams({1}).ok());  // RE-CONFIG
  REQUIRE(p.link.RunUntil([&] { return !p.side[0].resets.empty(); }, 60000));
  p.link.SetLoss(0);
  p.side[0].assoc->Close();  // SHUTDOWN...
  REQUIRE(p.link.RunUntil([&] { return p.side[1].is(AssociationState::kClosed); }, 60000));
  CHECK(checked > 400);
  CHECK(refused == 0);
  CHECK(p.side[0].assoc->malformedPackets() == 0);
  CHECK(p.side[1].assoc->malformedPackets() == 0);
}

TEST_CASE("SCTP: an INIT with a zero-length parameter is dropped (it would hang usrsctp)") {
  Pair p;
  p.Connect();
  // An INIT on the established association (verification tag 0, as INIT carries), whose
  // parameter claims length 0: usrsctp 0.9.5 loops forever on it.
  std::vector<uint8_t> init = {
      0x13, 0x88, 0x13, 0x88, 0,    0,    0,    0,    0,    0,
      0,    0,    0x01, 0x00, 0x00, 0x20,  // INIT, length 32
      0x11, 0x22, 0x33, 0x44, 0x00, 0x10, 0x00, 0x00, 0x04, 0x00,
      0x04, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x0C, 0x00, 0x00,  // parameter type 12, length 0
      0,    0,    0,    0,    0,    0,    0,    0};
  p.side[1].assoc->HandlePacket(init);
  CHECK(p.side[1].assoc->malformedPackets() == 1);
  // The same through a stray byte after the last parameter: usrsctp walks INIT parameters
  // to the end of the packet and read "00 01 00 00" out of it (found by the fuzzer).
  std::vector<uint8_t> stray = {
      0x13, 0x88, 0x13, 0x88, 0,    0,    0,    0,    0,    0,
      0,    0,    0x01, 0x00, 0x00, 0x19,  // INIT, length 25
      0x11, 0x22, 0x33, 0x44, 0x00, 0x10, 0x00, 0x00, 0x04, 0x00,
      0x04, 0x00, 0x00, 0x00, 0x00, 0x07, 0x80, 0x00, 0x00, 0x04,  // Forward-TSN-supported
      0x00,                                                        // stray byte
      0x01, 0x00, 0x00};                                           // "padding"
  p.side[1].assoc->HandlePacket(stray);
  CHECK(p.side[1].assoc->malformedPackets() == 2);
  REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, {1, 2, 3}, {}).ok());
  REQUIRE(p.link.RunUntil([&] { return p.side[1].received.size() == 1; }, 5000));
  CHECK(p.side[1].is(AssociationState::kConnected));
}

#if defined(__SANITIZE_ADDRESS__)
extern "C" size_t __sanitizer_get_current_allocated_bytes();  // ASan's allocator
#endif

namespace {

size_t HeapInUse() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  return mallinfo2().uordblks;
#endif
}

void Settle() {
  // usrsctp frees a closed socket's endpoint from a timer: let its timers run.
  for (int i = 0; i < 50; ++i) FakeClock::Advance(100);
}

}  // namespace

TEST_CASE("SCTP: destroyed associations give their memory back, usrsctp's included") {
  size_t peak = 0;
  auto cycle = [&] {
    Pair p;
    p.Connect();
    REQUIRE(p.side[0].assoc->Send(1, kPpidBinary, Pattern(2 * 1024 * 1024, 1), {}).ok());
    REQUIRE(p.side[1].assoc->Send(1, kPpidBinary, Pattern(2 * 1024 * 1024, 2), {}).ok());
    p.link.Flush(500);  // mid-transfer: data queued, in flight and half reassembled
    peak = std::max(peak, HeapInUse());
  };
  cycle();  // first use: usrsctp's lazily made tables
  Settle();
  const size_t base = HeapInUse();
  for (int i = 0; i < 8; ++i) {
    cycle();
    Settle();
  }
  const size_t after = HeapInUse();
  INFO("heap: base " << base << ", peak " << peak << ", after 8 cycles " << after);
  CHECK(peak > base + 4 * 1024 * 1024);  // a pair mid-transfer holds megabytes...
  CHECK(after < base + 256 * 1024);      // ...and none of it stays
}
