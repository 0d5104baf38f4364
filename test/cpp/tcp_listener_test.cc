// loop::TcpListener and accepted TcpSockets (ICE-TCP passive candidates): a loop socket
// connects to a loop listener on 127.0.0.1, bytes go both ways, and closing either end is
// reported to the other.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "loop/event_loop.h"
#include "loop/tcp_listener.h"
#include "loop/tcp_socket.h"
#include "loop_test_util.h"

using kvs::ByteSpan;
using kvs::Status;
using kvs::loop::TcpCallbacks;
using kvs::loop::TcpListener;
using kvs::loop::TcpSocket;
using kvs::net::Address;
using kvs::testing::NewLoop;
using kvs::testing::OnLoop;

namespace {

ByteSpan Text(const std::string& s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

template <typename T>
T Wait(std::future<T>& f) {
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  return f.get();
}

}  // namespace

TEST_CASE("TcpListener: accepts a connection from a chosen local address; bytes both ways") {
  auto loop = NewLoop();
  std::unique_ptr<TcpListener> listener;
  std::unique_ptr<TcpSocket> accepted, client;
  std::promise<std::string> serverGot, clientGot;
  std::promise<Address> acceptedFrom;
  std::promise<bool> serverSawClose;

  const Address bound = OnLoop(*loop, [&] {
    TcpListener::Handlers h;
    h.onAccepted = [&](std::unique_ptr<TcpSocket> s) {
      acceptedFrom.set_value(s->remote());
      TcpCallbacks cb;
      cb.onData = [&](ByteSpan d) {
        serverGot.set_value(std::string(reinterpret_cast<const char*>(d.data), d.size));
        (void)accepted->Write(Text("pong"));  // test: a failure shows as no answer
      };
      cb.onClose = [&](const Status& st) { serverSawClose.set_value(st.ok()); };
      s->SetCallbacks(std::move(cb));
      CHECK(s->connected());
      accepted = std::move(s);
    };
    auto l = TcpListener::Listen(*loop, *Address::Parse("127.0.0.1", 0), std::move(h));
    REQUIRE(l.ok());
    listener = l.take();
    return listener->local();
  });
  CHECK(bound.port() != 0);

  OnLoop(*loop, [&] {
    TcpCallbacks cb;
    cb.onConnect = [&](const Status& st) {
      REQUIRE(st.ok());
      (void)client->Write(Text("ping"));  // test: a failure shows as no answer
    };
    cb.onData = [&](ByteSpan d) {
      clientGot.set_value(std::string(reinterpret_cast<const char*>(d.data), d.size));
    };
    auto c =
        TcpSocket::ConnectFrom(*loop, *Address::Parse("127.0.0.1", 0), bound, 5000, std::move(cb));
    REQUIRE(c.ok());
    client = c.take();
    return true;
  });
  auto fromFuture = acceptedFrom.get_future();
  auto serverFuture = serverGot.get_future();
  auto clientFuture = clientGot.get_future();
  const Address from = Wait(fromFuture);
  CHECK(from.IpString() == "127.0.0.1");
  CHECK(Wait(serverFuture) == "ping");
  CHECK(Wait(clientFuture) == "pong");
  CHECK(OnLoop(*loop, [&] { return client->local() == from; }));
  CHECK(OnLoop(*loop, [&] { return listener->accepted(); }) == 1);

  // The client going away is an orderly close on the accepted side.
  auto closeFuture = serverSawClose.get_future();
  OnLoop(*loop, [&] {
    client.reset();
    return true;
  });
  CHECK(Wait(closeFuture));
  OnLoop(*loop, [&] {
    accepted.reset();
    listener.reset();
    return true;
  });
}

TEST_CASE("TcpListener: a port in use is ERR_SOCKET; a listener gone refuses connections") {
  auto loop = NewLoop();
  OnLoop(*loop, [&] {
    auto first = TcpListener::Listen(*loop, *Address::Parse("127.0.0.1", 0), {});
    REQUIRE(first.ok());
    auto second = TcpListener::Listen(*loop, first.value()->local(), {});
    CHECK_FALSE(second.ok());
    if (!second.ok()) CHECK(second.status().code() == "ERR_SOCKET");
    return true;
  });
  std::promise<std::string> outcome;
  std::unique_ptr<TcpSocket> client;
  // The listener is closed in one loop turn and connected to in a later one, once libuv has
  // really closed its socket.
  const Address gone = OnLoop(*loop, [&] {
    auto l = TcpListener::Listen(*loop, *Address::Parse("127.0.0.1", 0), {});
    REQUIRE(l.ok());
    return l.value()->local();
  });
  OnLoop(*loop, [&] {
    TcpCallbacks cb;
    cb.onConnect = [&](const Status& st) { outcome.set_value(st.ok() ? "ok" : st.code()); };
    auto c = TcpSocket::Connect(*loop, gone, 5000, std::move(cb));
    REQUIRE(c.ok());
    client = c.take();
    return true;
  });
  auto f = outcome.get_future();
  CHECK(Wait(f) == "ERR_SOCKET");
  OnLoop(*loop, [&] {
    client.reset();
    return true;
  });
}
