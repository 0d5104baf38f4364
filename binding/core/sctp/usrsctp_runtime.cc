#include "sctp/usrsctp_runtime.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <usrsctp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <mutex>
#include <unordered_map>

namespace kvs::sctp {
namespace {

struct RuntimeState {
  std::mutex mutex;
  // Everything below is guarded by mutex.
  std::unordered_map<void*, internal::Mailbox*> endpoints;
  uintptr_t nextToken = 1;
  void* self = nullptr;                     // the endpoint the current scope acts for
  std::vector<internal::Mailbox*> touched;  // other endpoints that got work in this scope
  bool haveTickTime = false;
  uint64_t lastTickMs = 0;
  std::atomic<size_t> live{0};
  std::atomic<uint64_t> droppedForeignThread{0};
};

RuntimeState& State() {
  static RuntimeState* state = new RuntimeState();  // never destroyed: usrsctp outlives main
  return *state;
}

// Depth of UsrsctpCall scopes on this thread; > 0 means this thread holds the mutex.
thread_local int tlsDepth = 0;

internal::Mailbox* FindLocked(void* token) {
  auto& s = State();
  auto it = s.endpoints.find(token);
  return it == s.endpoints.end() ? nullptr : it->second;
}

void TouchLocked(void* token, internal::Mailbox* m) {
  auto& s = State();
  if (token == s.self) return;  // the caller drains its own mailbox after the call
  if (std::find(s.touched.begin(), s.touched.end(), m) == s.touched.end()) {
    s.touched.push_back(m);
  }
}

// usrsctp's single output callback for every AF_CONN association: `addr` is the token of
// the association the packet belongs to.
int ConnOutput(void* addr, void* buffer, size_t length, uint8_t /*tos*/, uint8_t /*set_df*/) {
  auto& s = State();
  if (tlsDepth == 0) {
    s.droppedForeignThread.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  internal::Mailbox* m = FindLocked(addr);
  if (m == nullptr) return 0;  // the association is gone: nobody to send for
  const auto* bytes = static_cast<const uint8_t*>(buffer);
  std::vector<uint8_t> packet(bytes, bytes + length);
  // The checksum offload (set at init) makes usrsctp skip CRC32c on both paths, which
  // spares verifying what DTLS already authenticated; but peers that do verify (dcSCTP in
  // Chromium, unless zero checksums are negotiated) would drop our packets, so we fill it
  // in here. The field is at offset 8 of the common header; usrsctp_crc32c returns it in
  // the byte order the wire wants when stored as is.
  constexpr size_t kChecksumOffset = 8;
  if (packet.size() >= kChecksumOffset + 4) {
    std::memset(packet.data() + kChecksumOffset, 0, 4);
    const uint32_t crc = usrsctp_crc32c(packet.data(), packet.size());
    std::memcpy(packet.data() + kChecksumOffset, &crc, 4);
  }
  m->packets.push_back(std::move(packet));
  TouchLocked(addr, m);
  return 0;
}

void ApplyGlobalTuningLocked(const internal::GlobalTuning& t) {
  usrsctp_sysctl_set_sctp_initial_cwnd(t.initialCwndMtus);
  usrsctp_sysctl_set_sctp_max_chunks_on_queue(t.maxChunksOnQueue);
}

}  // namespace

namespace internal {

UsrsctpCall::UsrsctpCall(void* self) {
  auto& s = State();
  if (tlsDepth++ == 0) {
    s.mutex.lock();
    s.self = self;
  }
}

UsrsctpCall::~UsrsctpCall() {
  auto& s = State();
  if (--tlsDepth != 0) return;
  for (Mailbox* m : s.touched) {
    if (!m->wakePending && m->wake) {
      m->wakePending = true;
      m->wake();
    }
  }
  s.touched.clear();
  s.self = nullptr;
  s.mutex.unlock();
}

void* RegisterEndpoint(Mailbox* mailbox) {
  auto& s = State();
  void* token = reinterpret_cast<void*>(s.nextToken++);
  s.endpoints.emplace(token, mailbox);
  s.live.fetch_add(1, std::memory_order_relaxed);
  usrsctp_register_address(token);
  return token;
}

void UnregisterEndpoint(void* token) {
  auto& s = State();
  auto it = s.endpoints.find(token);
  if (it == s.endpoints.end()) return;
  s.touched.erase(std::remove(s.touched.begin(), s.touched.end(), it->second), s.touched.end());
  s.endpoints.erase(it);
  s.live.fetch_sub(1, std::memory_order_relaxed);
  usrsctp_deregister_address(token);
}

void SocketUpcall(struct socket* sock, void* token, int /*flags*/) {
  auto& s = State();
  if (tlsDepth == 0) {
    s.droppedForeignThread.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Mailbox* m = FindLocked(token);
  if (m == nullptr) return;
  const int events = usrsctp_get_events(sock);
  // An error (or a failed query) is reported by reading: recvv then returns it.
  if (events < 0 || (events & (SCTP_EVENT_READ | SCTP_EVENT_ERROR)) != 0) m->readable = true;
  if (events > 0 && (events & SCTP_EVENT_WRITE) != 0) m->writable = true;
  TouchLocked(token, m);
}

GlobalTuning DefaultGlobalTuning() { return GlobalTuning{}; }

void SetGlobalTuning(const GlobalTuning& tuning) {
  if (!EnsureUsrsctp().ok()) return;
  UsrsctpCall call;
  ApplyGlobalTuningLocked(tuning);
}

GlobalStats ReadGlobalStats() {
  GlobalStats out;
  out.droppedForeignThread = State().droppedForeignThread.load(std::memory_order_relaxed);
  return out;
}

}  // namespace internal

Status EnsureUsrsctp() {
  static const bool initialised = [] {
    internal::UsrsctpCall call;
    usrsctp_init_nothreads(0, ConnOutput, nullptr);
    // No checksum work for packets that DTLS already authenticates; ConnOutput still
    // writes the checksum of what we send.
    usrsctp_enable_crc32c_offload();
    // Settings with no per-socket option. init resets sysctls, so these come after it.
    usrsctp_sysctl_set_sctp_ecn_enable(0);       // ECN bits do not cross DTLS over UDP
    usrsctp_sysctl_set_sctp_asconf_enable(0);    // one AF_CONN address: nothing to add
    usrsctp_sysctl_set_sctp_auto_asconf(0);      // and keeps the iterator thread idle
    usrsctp_sysctl_set_sctp_pr_enable(1);        // partial reliability (RFC 3758)
    usrsctp_sysctl_set_sctp_reconfig_enable(1);  // stream reset (RFC 6525)
    usrsctp_sysctl_set_sctp_nrsack_enable(0);    // not spoken by browsers
    usrsctp_sysctl_set_sctp_pktdrop_enable(0);
    ApplyGlobalTuningLocked(internal::DefaultGlobalTuning());
    return true;
  }();
  return initialised ? Status::Ok() : Status::Fail("ERR_SCTP_INIT", "usrsctp_init failed");
}

void TickUsrsctp(uint64_t nowMs) {
  if (!EnsureUsrsctp().ok()) return;
  internal::UsrsctpCall call;
  auto& s = State();
  if (!s.haveTickTime) {
    s.haveTickTime = true;
    s.lastTickMs = nowMs;
    return;
  }
  // A clock far behind the last one seen is another time base, not an earlier moment of the
  // same one (a test's fake clock after real ones, in one test binary): start again from it.
  // Loops of one process share one monotonic clock and never differ by this much.
  constexpr uint64_t kRebaseMs = 3'600'000;
  if (nowMs + kRebaseMs < s.lastTickMs) {
    s.lastTickMs = nowMs;
    return;
  }
  if (nowMs <= s.lastTickMs) return;
  uint64_t elapsed = nowMs - s.lastTickMs;
  s.lastTickMs = nowMs;
  while (elapsed > 0) {
    const auto step =
        static_cast<uint32_t>(std::min<uint64_t>(elapsed, std::numeric_limits<uint32_t>::max()));
    usrsctp_handle_timers(step);
    elapsed -= step;
  }
}

size_t LiveUsrsctpEndpoints() { return State().live.load(std::memory_order_relaxed); }

Status ProbeUsrsctpSocket() {
  Status init = EnsureUsrsctp();
  if (!init.ok()) return init;
  internal::UsrsctpCall call;
  internal::Mailbox mailbox;
  void* token = internal::RegisterEndpoint(&mailbox);
  struct socket* sock =
      usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
  Status result = sock != nullptr
                      ? Status::Ok()
                      : Status::Fail("ERR_SCTP_SOCKET", "usrsctp_socket(AF_CONN) failed");
  if (sock != nullptr) usrsctp_close(sock);
  internal::UnregisterEndpoint(token);
  return result;
}

}  // namespace kvs::sctp
