// Runs Debian's coturn (/usr/bin/turnserver) on 127.0.0.1 as a child process for the TURN
// tests, configured on the command line alone (build-facts.md), with a self-signed
// certificate for its TLS listener. The guard kills it and removes its files, also when a
// test fails. Every port is on loopback.
#pragma once

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "stun/stun_integrity.h"

extern char** environ;

namespace kvs::testing {

// Starts argv[0] (searched in PATH) with stdout and stderr to logFile; -1 on failure.
inline pid_t Spawn(const std::vector<std::string>& args, const std::string& logFile) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// Waits for a child at most timeoutMs; its exit status, or -1 if it is still running.
inline int WaitChild(pid_t pid, int timeoutMs) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return 0;  // not ours any more
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// A port free for both UDP and TCP on 127.0.0.1 right now (the kernel's choice).
inline uint16_t FreeLoopbackPort() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int u = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    uint16_t port = 0;
    if (::bind(u, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
        ::getsockname(u, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
      port = ntohs(sa.sin_port);
      const int t = ::socket(AF_INET, SOCK_STREAM, 0);
      if (::bind(t, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) port = 0;
      ::close(t);
    }
    ::close(u);
    if (port != 0) return port;
  }
  return 0;
}

inline bool TcpListening(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

struct CoturnOptions {
  bool tls = false;
  std::vector<std::string> extraArgs;  // e.g. "--max-allocate-lifetime=..."
};

class Coturn {
 public:
  explicit Coturn(CoturnOptions options = {}) {
    char tmpl[] = "/tmp/kvs-coturn-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    log = dir + "/turn.log";
    port = FreeLoopbackPort();
    REQUIRE(port != 0);
    std::random_device rd;
    const unsigned base = 20000 + rd() % 40000;  // relay ports: any free ones in this range
    secret = "kvs-test-secret-" + std::to_string(rd());
    std::vector<std::string> args = {"/usr/bin/turnserver",
                                     "-c",
                                     "/dev/null",
                                     "-n",
                                     "--listening-ip=127.0.0.1",
                                     "--relay-ip=127.0.0.1",
                                     "--listening-port=" + std::to_string(port),
                                     "--min-port=" + std::to_string(base),
                                     "--max-port=" + std::to_string(base + 199),
                                     "--realm=" + realm,
                                     "--fingerprint",
                                     "--use-auth-secret",
                                     "--static-auth-secret=" + secret,
                                     "--no-cli",
                                     "--allow-loopback-peers",
                                     "--pidfile=" + dir + "/turn.pid",
                                     "--userdb=" + dir + "/turndb",
                                     "--log-file=stdout",
                                     "--simple-log"};
    if (options.tls) {
      tlsPort = FreeLoopbackPort();
      REQUIRE(tlsPort != 0);
      certFile = dir + "/cert.pem";
      const std::string keyFile = dir + "/key.pem";
      const pid_t openssl = Spawn(
          {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
           "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=localhost",
           "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"},
          dir + "/openssl.log");
      REQUIRE(openssl > 0);
      const int status = WaitChild(openssl, 20000);
      if (status < 0) ::kill(openssl, SIGKILL), WaitChild(openssl, 2000);
      if (status != 0) {
        const std::string text = ReadFile(dir + "/openssl.log");
        Stop();
        FAIL("openssl req failed: " << text);
      }
      args.push_back("--tls-listening-port=" + std::to_string(tlsPort));
      args.push_back("--cert=" + certFile);
      args.push_back("--pkey=" + keyFile);
    } else {
      args.push_back("--no-tls");
    }
    args.push_back("--no-dtls");
    for (const auto& a : options.extraArgs) args.push_back(a);
    pid = Spawn(args, log);
    REQUIRE(pid > 0);
    // Bounded wait for the listeners (TCP connects once coturn's threads are up).
    bool ready = false;
    for (int i = 0; i < 200 && !ready; ++i) {
      ready = TcpListening(port) && (tlsPort == 0 || TcpListening(tlsPort));
      if (!ready) {
        if (WaitChild(pid, 0) >= 0) {
          pid = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (!ready) {
      const std::string text = Log();
      Stop();  // REQUIRE throws: the destructor would not run
      FAIL("coturn did not start:\n" << text);
    }
  }

  ~Coturn() { Stop(); }

  void Stop() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      if (WaitChild(pid, 3000) < 0) {
        ::kill(pid, SIGKILL);
        WaitChild(pid, 3000);
      }
    }
    pid = -1;
    if (dir.empty()) return;
    for (const char* f :
         {"/turn.log", "/turn.pid", "/turndb", "/cert.pem", "/key.pem", "/openssl.log"}) {
      ::unlink((dir + f).c_str());
    }
    ::rmdir(dir.c_str());
    dir.clear();
  }
  Coturn(const Coturn&) = delete;
  Coturn& operator=(const Coturn&) = delete;

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string Log() const { return ReadFile(log); }

  // TURN REST credentials (--use-auth-secret): "<expiry>:<name>" and
  // base64(HMAC-SHA1(secret, username)).
  std::pair<std::string, std::string> Credentials(const std::string& name = "kvs",
                                                  long ttlSeconds = 3600) const {
    const std::string user = std::to_string(std::time(nullptr) + ttlSeconds) + ":" + name;
    const auto mac =
        stun::HmacSha1(ByteSpan(reinterpret_cast<const uint8_t*>(secret.data()), secret.size()),
                       ByteSpan(reinterpret_cast<const uint8_t*>(user.data()), user.size()));
    REQUIRE(mac.ok());
    unsigned char b64[64] = {};
    EVP_EncodeBlock(b64, mac.value().data(), static_cast<int>(mac.value().size()));
    return {user, reinterpret_cast<const char*>(b64)};
  }

  std::string dir;
  std::string log;
  std::string realm = "kvs.test";
  std::string secret;
  std::string certFile;
  uint16_t port = 0;
  uint16_t tlsPort = 0;
  pid_t pid = -1;
};

}  // namespace kvs::testing
