#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>

#include "loop/event_loop.h"
#include "loop/interfaces.h"
#include "loop/timer.h"
#include "loop/udp_socket.h"
#include "loop_test_util.h"
#include "net/sockaddr.h"

using kvs::loop::EventLoop;
using kvs::loop::Timer;
using kvs::loop::UdpSocket;
using kvs::net::Address;
using SocketAddress = kvs::net::Address;

using kvs::testing::NewLoop;
using kvs::testing::OnLoop;

TEST_CASE("posted tasks run in order on the loop thread") {
  auto loop = NewLoop();
  std::string order;
  std::promise<bool> done;
  CHECK_FALSE(loop->InLoopThread());
  for (char c : std::string("abc")) loop->Post([&, c] { order.push_back(c); });
  loop->Post([&] { done.set_value(loop->InLoopThread()); });
  auto f = done.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(f.get());
  CHECK(order == "abc");
}

TEST_CASE("timers fire once, repeat, and stop; a timer may delete itself") {
  auto loop = NewLoop();
  std::promise<int> result;
  std::unique_ptr<Timer> once, repeating, selfDeleting;
  int ticks = 0;
  loop->Post([&] {
    once = std::make_unique<Timer>(*loop);
    repeating = std::make_unique<Timer>(*loop);
    selfDeleting = std::make_unique<Timer>(*loop);
    selfDeleting->Start(1, [&] { selfDeleting.reset(); });
    repeating->StartRepeating(5, [&] {
      if (++ticks == 3) {
        repeating->Stop();
        once->Start(5, [&] { result.set_value(ticks); });
      }
    });
  });
  auto f = result.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(f.get() == 3);
  CHECK(OnLoop(*loop, [&] { return selfDeleting == nullptr && !repeating->active(); }));
  OnLoop(*loop, [&] {
    once.reset();
    repeating.reset();
    return 0;
  });
}

TEST_CASE("UDP sockets on loopback exchange datagrams, with stats") {
  auto loop = NewLoop();
  std::promise<std::string> got;
  auto any = *SocketAddress::Parse("127.0.0.1", 0);
  auto sockets = OnLoop(*loop, [&] {
    auto a = UdpSocket::Bind(*loop, any, [](const SocketAddress&, kvs::ByteSpan) {});
    auto b = UdpSocket::Bind(*loop, any, [&](const SocketAddress& from, kvs::ByteSpan data) {
      got.set_value(from.IpString() + " " +
                    std::string(reinterpret_cast<const char*>(data.data), data.size));
    });
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    return std::make_pair(a.take(), b.take());
  });
  CHECK(sockets.first->local().port() != 0);
  CHECK(sockets.first->local().port() != sockets.second->local().port());
  OnLoop(*loop, [&] {
    const std::string msg = "ping";
    auto st = sockets.first->SendTo(
        sockets.second->local(),
        kvs::ByteSpan(reinterpret_cast<const uint8_t*>(msg.data()), msg.size()));
    REQUIRE(st.ok());
    return 0;
  });
  auto f = got.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(f.get() == "127.0.0.1 ping");
  CHECK(OnLoop(*loop, [&] { return sockets.first->stats().datagramsSent; }) == 1);
  CHECK(OnLoop(*loop, [&] { return sockets.second->stats().bytesReceived; }) == 4);
  // Sockets still open when the loop shuts down are closed by it; their owners go later.
  loop.reset();
}

TEST_CASE("binding to an address that is not ours fails with a clear error") {
  auto loop = NewLoop();
  auto err = OnLoop(*loop, [&] {
    // TEST-NET-1 is never assigned to a local interface; no packet is sent.
    auto r = UdpSocket::Bind(*loop, *SocketAddress::Parse("192.0.2.1", 0),
                             [](const SocketAddress&, kvs::ByteSpan) {});
    return r.ok() ? std::string() : r.status().message();
  });
  CHECK(err.find("bind 192.0.2.1:0") != std::string::npos);
}

TEST_CASE("interfaces include loopback") {
  auto list = kvs::loop::ListInterfaces();
  bool sawLoopback = false;
  for (const auto& i : list) sawLoopback |= i.loopback && kvs::net::IsLoopback(i.address);
  CHECK(sawLoopback);
}
