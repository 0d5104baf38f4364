// loop::TcpSocket against a plain blocking TCP server on 127.0.0.1 run on a test thread.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "loop/event_loop.h"
#include "loop/tcp_socket.h"
#include "loop_test_util.h"

using kvs::ByteSpan;
using kvs::Status;
using kvs::loop::EventLoop;
using kvs::loop::TcpCallbacks;
using kvs::loop::TcpSocket;
using kvs::net::Address;

using kvs::testing::NewLoop;
using kvs::testing::OnLoop;

namespace {

template <typename T>
T Wait(std::future<T>& f, int seconds = 10) {
  REQUIRE(f.wait_for(std::chrono::seconds(seconds)) == std::future_status::ready);
  return f.get();
}

// A listening socket on 127.0.0.1 with an ephemeral port; closes what it opened.
struct Listener {
  int fd = -1;
  uint16_t port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    socklen_t len = sizeof sa;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
    port = ntohs(sa.sin_port);
  }
  ~Listener() {
    if (fd >= 0) ::close(fd);
  }
  Address address() const { return *Address::Parse("127.0.0.1", port); }
  // Accepts one connection within the timeout; -1 otherwise.
  int Accept(int timeoutMs = 5000) const {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeoutMs) != 1) return -1;
    return ::accept(fd, nullptr, nullptr);
  }
};

// Reads up to `want` bytes or until EOF, bounded in time.
std::string ReadFor(int fd, size_t want, int timeoutMs = 5000) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  char buf[65536];
  while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) != 1) continue;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

ByteSpan Span(const std::string& s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace

TEST_CASE("TCP socket: connects, writes and reads on loopback; the peer's close is reported") {
  auto loop = NewLoop();
  Listener listener;
  std::promise<Status> connected;
  std::promise<std::string> echoed;
  std::promise<Status> closed;
  std::string got;
  std::unique_ptr<TcpSocket> socket;
  OnLoop(*loop, [&] {
    TcpCallbacks cb;
    cb.onConnect = [&](const Status& s) { connected.set_value(s); };
    cb.onData = [&](ByteSpan d) {
      got.append(reinterpret_cast<const char*>(d.data), d.size);
      if (got.size() == 5) echoed.set_value(got);
    };
    cb.onClose = [&](const Status& s) { closed.set_value(s); };
    auto r = TcpSocket::Connect(*loop, listener.address(), 5000, std::move(cb));
    REQUIRE(r.ok());
    socket = r.take();
    return 0;
  });
  const int server = listener.Accept();
  REQUIRE(server >= 0);
  auto cf = connected.get_future();
  auto st = Wait(cf);
  CHECK_MESSAGE(st.ok(), st.message());
  CHECK(OnLoop(*loop, [&] { return socket->connected(); }));
  CHECK(OnLoop(*loop, [&] { return socket->local().port(); }) != 0);
  CHECK(OnLoop(*loop, [&] { return socket->Write(Span("hello")); }).ok());
  CHECK(ReadFor(server, 5) == "hello");
  REQUIRE(::write(server, "world", 5) == 5);
  auto ef = echoed.get_future();
  CHECK(Wait(ef) == "world");
  ::close(server);
  auto clf = closed.get_future();
  CHECK(Wait(clf).ok());
  CHECK_FALSE(OnLoop(*loop, [&] { return socket->connected(); }));
  CHECK(OnLoop(*loop, [&] { return socket->Write(Span("late")); }).code() == "ERR_INVALID_STATE");
  OnLoop(*loop, [&] {
    socket.reset();
    return 0;
  });
}

TEST_CASE("TCP socket: a refused connection is ERR_SOCKET") {
  auto loop = NewLoop();
  Address closedPort;
  {
    Listener gone;  // a port that was just free; nobody listens once it is closed
    closedPort = gone.address();
  }
  std::promise<Status> connected;
  std::unique_ptr<TcpSocket> socket;
  OnLoop(*loop, [&] {
    TcpCallbacks cb;
    cb.onConnect = [&](const Status& s) { connected.set_value(s); };
    cb.onClose = [](const Status&) { FAIL("no close after a failed connect"); };
    auto r = TcpSocket::Connect(*loop, closedPort, 5000, std::move(cb));
    REQUIRE(r.ok());
    socket = r.take();
    return 0;
  });
  auto f = connected.get_future();
  auto s = Wait(f);
  CHECK(s.code() == "ERR_SOCKET");
  CHECK(s.message().find("connect") != std::string::npos);
  OnLoop(*loop, [&] {
    socket.reset();
    return 0;
  });
}

TEST_CASE("TCP socket: writes queue in order when the peer does not read, up to a bound") {
  auto loop = NewLoop();
  Listener listener;
  std::promise<Status> connected;
  std::unique_ptr<TcpSocket> socket;
  OnLoop(*loop, [&] {
    TcpCallbacks cb;
    cb.onConnect = [&](const Status& s) { connected.set_value(s); };
    auto r = TcpSocket::Connect(*loop, listener.address(), 5000, std::move(cb));
    REQUIRE(r.ok());
    socket = r.take();
    socket->set_maxQueuedBytes(256 * 1024);
    return 0;
  });
  const int server = listener.Accept();
  REQUIRE(server >= 0);
  auto cf = connected.get_future();
  REQUIRE(Wait(cf).ok());
  // Chunks numbered by their first byte, so the reader can check the order.
  struct Outcome {
    size_t accepted = 0;
    std::string refused;
  };
  auto outcome = OnLoop(*loop, [&] {
    Outcome o;
    std::string chunk(64 * 1024, '\0');
    for (int i = 0; i < 2000; ++i) {  // 128 MiB at most: the kernel's buffers fill long before
      for (size_t j = 0; j < chunk.size(); ++j)
        chunk[j] = static_cast<char>((o.accepted + j) % 251);
      Status s = socket->Write(Span(chunk));
      if (!s.ok()) {
        o.refused = s.code();
        break;
      }
      o.accepted += chunk.size();
    }
    return o;
  });
  CHECK(outcome.refused == "ERR_SOCKET_BUFFER_FULL");
  CHECK(OnLoop(*loop, [&] { return socket->queuedBytes(); }) >= 256 * 1024);
  // The reader drains everything; the bytes are the accepted ones, in order.
  std::string all = ReadFor(server, outcome.accepted, 20000);
  REQUIRE(all.size() == outcome.accepted);
  bool inOrder = true;
  for (size_t i = 0; i < all.size() && inOrder; ++i) {
    inOrder = static_cast<unsigned char>(all[i]) == i % 251;
  }
  CHECK(inOrder);
  CHECK(OnLoop(*loop, [&] { return socket->queuedBytes(); }) == 0);
  ::close(server);
  OnLoop(*loop, [&] {
    socket.reset();
    return 0;
  });
}

TEST_CASE("TCP socket: the owner may destroy the socket from its data callback") {
  auto loop = NewLoop();
  Listener listener;
  std::promise<void> destroyed;
  std::unique_ptr<TcpSocket> socket;
  OnLoop(*loop, [&] {
    TcpCallbacks cb;
    cb.onData = [&](ByteSpan) {
      socket.reset();
      destroyed.set_value();
    };
    cb.onClose = [](const Status&) { FAIL("no callback after destruction"); };
    auto r = TcpSocket::Connect(*loop, listener.address(), 5000, std::move(cb));
    REQUIRE(r.ok());
    socket = r.take();
    return 0;
  });
  const int server = listener.Accept();
  REQUIRE(server >= 0);
  REQUIRE(::write(server, "x", 1) == 1);
  auto f = destroyed.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  ::close(server);
  CHECK(OnLoop(*loop, [&] { return socket == nullptr; }));
}

TEST_CASE("TCP socket: a connection the server never accepts times out as ERR_SOCKET_TIMEOUT") {
  // Linux drops SYNs to a listener whose accept queue is full: fill a backlog-0 queue with
  // connections nobody accepts, and the next connect hangs on loopback until our timeout.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(::listen(fd, 0) == 0);
  socklen_t len = sizeof sa;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  std::vector<int> fillers;
  for (int i = 0; i < 2; ++i) {
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(c, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    fillers.push_back(c);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto loop = NewLoop();
  std::promise<Status> connected;
  std::unique_ptr<TcpSocket> socket;
  const auto start = std::chrono::steady_clock::now();
  OnLoop(*loop, [&] {
    TcpCallbacks cb;
    cb.onConnect = [&](const Status& s) { connected.set_value(s); };
    auto r = TcpSocket::Connect(*loop, *Address::Parse("127.0.0.1", ntohs(sa.sin_port)), 300,
                                std::move(cb));
    REQUIRE(r.ok());
    socket = r.take();
    return 0;
  });
  auto f = connected.get_future();
  auto s = Wait(f);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(s.code() == "ERR_SOCKET_TIMEOUT");
  CHECK(elapsed >= std::chrono::milliseconds(290));
  CHECK(elapsed < std::chrono::seconds(5));
  CHECK(OnLoop(*loop, [&] { return socket->connected(); }) == false);
  OnLoop(*loop, [&] {
    socket.reset();
    return 0;
  });
  for (int c : fillers) ::close(c);
  ::close(fd);
}
