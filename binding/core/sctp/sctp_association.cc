#include "sctp/sctp_association.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <usrsctp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "sctp/sctp_packet_check.h"

namespace kvs::sctp {
namespace {

// usrsctp_recvv reads at most this much per call; larger messages arrive in parts anyway
// (partial delivery) and are reassembled.
constexpr size_t kReceiveChunk = 64 * 1024;

// usrsctp accepts this option but its public header does not name it (netinet/sctp.h does).
constexpr int kSctpPluggableCc = 0x00001202;

std::string Errno(int err) {
  return std::string(std::strerror(err)) + " (" + std::to_string(err) + ")";
}

template <typename T>
bool SetOption(struct socket* sock, int level, int name, const T& value) {
  return usrsctp_setsockopt(sock, level, name, &value, static_cast<socklen_t>(sizeof(value))) == 0;
}

sockaddr_conn ConnAddress(void* token, uint16_t port) {
  sockaddr_conn a{};
  a.sconn_family = AF_CONN;
  a.sconn_port = htons(port);
  a.sconn_addr = token;
  return a;
}

template <typename T>
T ReadStruct(const uint8_t* data) {
  T out;
  std::memcpy(&out, data, sizeof(T));
  return out;
}

}  // namespace

const char* ToString(AssociationState state) {
  switch (state) {
    case AssociationState::kNew:
      return "new";
    case AssociationState::kConnecting:
      return "connecting";
    case AssociationState::kConnected:
      return "connected";
    case AssociationState::kClosed:
      return "closed";
    case AssociationState::kFailed:
      return "failed";
  }
  return "unknown";
}

// Tuning, measured with the benchmark in test/cpp/sctp_bench_test.cc (run it with
// `kvs_core_tests --no-skip -tc='SCTP bench*'`): 16 KiB messages with back-pressure, "sim" over
// a fake link with 20 ms RTT, no bandwidth limit, deterministic in fake time; "wall" in memory,
// both ends on one core of a shared, loaded 2-core machine (noisy: 160-360 MB/s across runs).
// Median of three, MB/s, each line changing one thing from these defaults:
//
//                       sim 0% loss   sim 1% loss   notes
//   these defaults         60.4          0.7
//   usrsctp stock           7.5          0.8        256 KiB, burst 4, RTO 1/60 s, cwnd 3...
//   buffers 256 KiB         7.7          0.8
//   buffers 1 MiB          35.2          0.8        0% loss is window-bound: buffer / RTT
//   buffers 4 MiB          91.4          0.7        (wall: lowest of all, ~160)
//   initial cwnd 3         56.1          0.8
//   max burst 4 / 32    58.2 / 60.4   0.7 / 0.7
//   SACK delay 200 ms      60.4          0.8        no measurable difference
//   RTO min 200 ms         60.4          0.7        40 T3 timeouts at 1% loss vs 0
//   RTO min 400 ms         60.4          0.8        5 T3 timeouts
//   Nagle on               60.4          0.7        bulk only; Nagle delays small messages
//   chunks on queue 512    27.4          0.7        the receiver drops DATA past 512 chunks
//   CC H-TCP               58.2          0.2        the regression libdatachannel saw
//   CC HighSpeed           60.4          0.9
//
// With 1% loss every variant is congestion-control bound near the Mathis figure,
// 1172 B / 20 ms * 1.22 / sqrt(0.01) = 0.7 MB/s. So: 2 MiB buffers (twice the 1 MiB figure; 4 MiB
// gains more at long RTTs but costs the most CPU in memory), RTO min 1 s rather than
// libdatachannel's 200 ms. usrsctp 0.9.5 does not restart T3 when a SACK on its fast path advances
// the cumulative ack (sctp_timer_start is a no-op on a running timer), so T3 fires every RTO while
// the pipe stays full and then retransmits everything older than the smoothed RTT: the lower RTO
// min, the more spurious retransmissions and cwnd collapses (the T3 counts above). Initial cwnd 10
// MTUs, burst 10, 4096 chunks on queue, standard RFC 4960 congestion control, 20 ms SACK delay
// (neutral in the figures, quicker feedback for small messages) and SCTP_NODELAY (RFC 8831 §6.6)
// stay.
//
// RTO max 3 s (chosen for loss recovery; the bench does not measure it): timeouts double up to
// it, and it is how long a sender may sit idle on a link that works again. Under 20% random loss
// each way (test/session/loss.test.ts) a few lost retransmissions in a row are common, and with a
// 10 s maximum a reliable channel stood still for up to 15 s (1 + 2 + 4 + 8 s); libwebrtc caps
// its backoff at 3 s for the same reason. More timeouts then fit in an outage, so the
// association's retransmission limit goes from usrsctp's 10 to 26: it still gives up after 75 s
// of silence (1 + 2 + 24 x 3 s), as it did with the 10 s maximum, well after ICE's 30 s
// disconnected timer. The path's limit goes with it (usrsctp: 5). An unreachable path gets no
// new data, and only an ack of a chunk sent once or a HEARTBEAT-ACK brings it back: after six
// timeouts before such an ack (an outage, or a run of lost retransmissions at 20% loss) new
// messages waited for the next heartbeat, up to 30 s, while the retransmissions got through.
SctpTuning DefaultTuning() {
  SctpTuning t;
  t.sendBufferBytes = 2 * 1024 * 1024;
  t.receiveBufferBytes = 2 * 1024 * 1024;
  t.maxBurst = 10;
  t.sackDelayMs = 20;
  t.rtoInitialMs = 1000;
  t.rtoMinMs = 1000;
  t.rtoMaxMs = 3000;
  t.maxAssociationRetransmits = 26;
  t.noDelay = true;
  t.congestionControl = CongestionControl::kRfc4960;
  return t;
}

Result<std::unique_ptr<Association>> Association::Create(AssociationConfig config,
                                                         AssociationCallbacks callbacks) {
  if (config.mtu < 576 || config.mtu > 65535) {
    return Status::Fail("ERR_SCTP_CONFIG",
                        "SCTP MTU " + std::to_string(config.mtu) + " is outside 576..65535");
  }
  if (config.maxStreams == 0) {
    return Status::Fail("ERR_SCTP_CONFIG", "an association needs at least one stream");
  }
  std::unique_ptr<Association> a(new Association(std::move(config), std::move(callbacks)));
  Status st = a->Open();
  if (!st.ok()) return st;
  return a;
}

Association::Association(AssociationConfig config, AssociationCallbacks callbacks)
    : config_(std::move(config)),
      callbacks_(std::make_shared<const AssociationCallbacks>(std::move(callbacks))) {
  mailbox_.wake = config_.wake;
}

Association::~Association() {
  *alive_ = false;
  internal::UsrsctpCall call(token_);
  if (sock_ != nullptr) CloseSocket(true);
  // After this no usrsctp callback can reach mailbox_.
  if (token_ != nullptr) internal::UnregisterEndpoint(token_);
}

Status Association::Open() {
  Status init = EnsureUsrsctp();
  if (!init.ok()) return init;
  {
    internal::UsrsctpCall call;
    token_ = internal::RegisterEndpoint(&mailbox_);
  }
  internal::UsrsctpCall call(token_);
  sock_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
  if (sock_ == nullptr) {
    return Status::Fail("ERR_SCTP_SOCKET", "usrsctp_socket(AF_CONN) failed: " + Errno(errno));
  }
  auto fail = [&](const char* what) {
    return Status::Fail("ERR_SCTP_SOCKET",
                        std::string("setting ") + what + " failed: " + Errno(errno));
  };
  if (usrsctp_set_upcall(sock_, internal::SocketUpcall, token_) != 0) return fail("the upcall");
  if (usrsctp_set_non_blocking(sock_, 1) != 0) return fail("non-blocking mode");

  const SctpTuning& t = config_.tuning;
  const int sndbuf = static_cast<int>(t.sendBufferBytes);
  const int rcvbuf = static_cast<int>(t.receiveBufferBytes);
  if (!SetOption(sock_, SOL_SOCKET, SO_SNDBUF, sndbuf)) return fail("SO_SNDBUF");
  if (!SetOption(sock_, SOL_SOCKET, SO_RCVBUF, rcvbuf)) return fail("SO_RCVBUF");

  const int on = 1;
  if (!SetOption(sock_, IPPROTO_SCTP, SCTP_RECVRCVINFO, on)) return fail("SCTP_RECVRCVINFO");
  // Messages of any size: we mark the end of each one (SCTP_EOR) and may hand it over in
  // parts.
  if (!SetOption(sock_, IPPROTO_SCTP, SCTP_EXPLICIT_EOR, on)) return fail("SCTP_EXPLICIT_EOR");
  if (t.noDelay && !SetOption(sock_, IPPROTO_SCTP, SCTP_NODELAY, on)) {
    return fail("SCTP_NODELAY");
  }

  // Accept the peer's stream resets (closing a data channel, RFC 8831 §6.7).
  sctp_assoc_value reset{};
  reset.assoc_id = SCTP_ALL_ASSOC;
  reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;
  if (!SetOption(sock_, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset)) {
    return fail("SCTP_ENABLE_STREAM_RESET");
  }

  sctp_initmsg init_msg{};
  init_msg.sinit_num_ostreams = config_.maxStreams;
  init_msg.sinit_max_instreams = config_.maxStreams;
  if (!SetOption(sock_, IPPROTO_SCTP, SCTP_INITMSG, init_msg)) return fail("SCTP_INITMSG");

  // A fixed path MTU: DTLS carries our packets, and PMTU discovery cannot see through it.
  sctp_paddrparams paddr{};
  paddr.spp_flags = SPP_PMTUD_DISABLE;
  // usrsctp adds the 12-byte common header to this for AF_CONN (sctp_pcb.c).
  paddr.spp_pathmtu = config_.mtu - 12;
  // One path: it is not given up on before the association is (see DefaultTuning).
  paddr.spp_pathmaxrxt = t.maxAssociationRetransmits;
  if (!SetOption(sock_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, paddr)) {
    return fail("SCTP_PEER_ADDR_PARAMS");
  }

  if (t.maxBurst != 0) {
    sctp_assoc_value burst{};
    burst.assoc_id = SCTP_ALL_ASSOC;
    burst.assoc_value = t.maxBurst;
    if (!SetOption(sock_, IPPROTO_SCTP, SCTP_MAX_BURST, burst)) return fail("SCTP_MAX_BURST");
  }
  if (t.sackDelayMs != 0) {
    sctp_sack_info sack{};
    sack.sack_assoc_id = SCTP_ALL_ASSOC;
    sack.sack_delay = t.sackDelayMs;
    if (!SetOption(sock_, IPPROTO_SCTP, SCTP_DELAYED_SACK, sack)) {
      return fail("SCTP_DELAYED_SACK");
    }
  }
  sctp_rtoinfo rto{};
  rto.srto_initial = t.rtoInitialMs;
  rto.srto_min = t.rtoMinMs;
  rto.srto_max = t.rtoMaxMs;
  if (!SetOption(sock_, IPPROTO_SCTP, SCTP_RTOINFO, rto)) return fail("SCTP_RTOINFO");
  if (t.maxAssociationRetransmits != 0) {
    // Before connecting: the association takes the endpoint's value when it is made.
    sctp_assocparams assoc{};
    assoc.sasoc_assoc_id = SCTP_FUTURE_ASSOC;
    assoc.sasoc_asocmaxrxt = t.maxAssociationRetransmits;
    if (!SetOption(sock_, IPPROTO_SCTP, SCTP_ASSOCINFO, assoc)) return fail("SCTP_ASSOCINFO");
  }
  sctp_assoc_value cc{};
  cc.assoc_id = SCTP_ALL_ASSOC;
  cc.assoc_value = static_cast<uint32_t>(t.congestionControl);
  if (!SetOption(sock_, IPPROTO_SCTP, kSctpPluggableCc, cc)) return fail("SCTP_PLUGGABLE_CC");

  for (int type : {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_PARTIAL_DELIVERY_EVENT,
                   SCTP_STREAM_CHANGE_EVENT, SCTP_SHUTDOWN_EVENT, SCTP_REMOTE_ERROR}) {
    sctp_event ev{};
    ev.se_assoc_id = SCTP_ALL_ASSOC;
    ev.se_type = static_cast<uint16_t>(type);
    ev.se_on = 1;
    if (!SetOption(sock_, IPPROTO_SCTP, SCTP_EVENT, ev)) return fail("SCTP_EVENT");
  }

  sockaddr_conn local = ConnAddress(token_, config_.localPort);
  if (usrsctp_bind(sock_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    return Status::Fail(
        "ERR_SCTP_SOCKET",
        "binding SCTP port " + std::to_string(config_.localPort) + " failed: " + Errno(errno));
  }
  return Status::Ok();
}

Status Association::Connect() {
  if (state_ != AssociationState::kNew || sock_ == nullptr) {
    return Status::Fail("ERR_SCTP_STATE", std::string("connect in state ") + ToString(state_));
  }
  sockaddr_conn remote = ConnAddress(token_, config_.remotePort);
  int rc = 0;
  int err = 0;
  {
    internal::UsrsctpCall call(token_);
    rc = usrsctp_connect(sock_, reinterpret_cast<sockaddr*>(&remote), sizeof(remote));
    err = errno;
  }
  if (rc != 0 && err != EINPROGRESS) {
    return Status::Fail("ERR_SCTP_CONNECT", "usrsctp_connect failed: " + Errno(err));
  }
  SetState(AssociationState::kConnecting, Status::Ok());
  Drain();
  return Status::Ok();
}

void Association::HandlePacket(ByteSpan packet) {
  if (sock_ == nullptr) return;
  if (!CheckInboundPacket(packet).ok()) {
    ++malformedPackets_;  // see sctp_packet_check.h: some would hang usrsctp
    return;
  }
  {
    internal::UsrsctpCall call(token_);
    usrsctp_conninput(token_, packet.data, packet.size, 0);
  }
  Drain();
}

Status Association::Send(uint16_t streamId, uint32_t ppid, std::vector<uint8_t> data,
                         const SendOptions& options) {
  if (state_ == AssociationState::kClosed || state_ == AssociationState::kFailed ||
      sock_ == nullptr) {
    return Status::Fail("ERR_SCTP_CLOSED",
                        std::string("cannot send on a ") + ToString(state_) + " association");
  }
  if (closing_) return Status::Fail("ERR_SCTP_CLOSED", "the association is shutting down");
  if (data.empty()) {
    return Status::Fail("ERR_SCTP_EMPTY_MESSAGE", "SCTP cannot carry an empty message");
  }
  if (options.maxRetransmits && options.maxPacketLifeTimeMs) {
    return Status::Fail("ERR_SCTP_RELIABILITY",
                        "maxRetransmits and maxPacketLifeTime cannot both be set");
  }
  const uint16_t limit = outboundStreams_ != 0 ? outboundStreams_ : config_.maxStreams;
  if (streamId >= limit) {
    return Status::Fail("ERR_SCTP_STREAM_ID", "stream " + std::to_string(streamId) +
                                                  " is beyond the " + std::to_string(limit) +
                                                  " outgoing streams");
  }
  Pending p;
  p.streamId = streamId;
  p.ppid = ppid;
  p.options = options;
  p.data = std::move(data);
  queuedBytes_ += p.data.size();
  queuedPerStream_[streamId] += p.data.size();
  queue_.push_back(std::move(p));
  Pump();
  Drain();
  return Status::Ok();
}

Status Association::ResetStreams(const std::vector<uint16_t>& streams) {
  if (state_ == AssociationState::kClosed || state_ == AssociationState::kFailed ||
      sock_ == nullptr) {
    return Status::Fail("ERR_SCTP_CLOSED", "no association to reset streams on");
  }
  if (streams.empty()) return Status::Ok();
  Pending p;
  p.kind = Pending::Kind::kReset;
  p.streams = streams;
  queue_.push_back(std::move(p));
  Pump();
  Drain();
  return Status::Ok();
}

void Association::Close() {
  if (sock_ == nullptr) return;
  if (state_ != AssociationState::kConnected) {
    Abort();
    return;
  }
  if (closing_) return;
  closing_ = true;
  Pending p;
  p.kind = Pending::Kind::kShutdown;
  queue_.push_back(std::move(p));
  Pump();
  Drain();
}

void Association::Abort() {
  if (sock_ == nullptr) return;
  {
    internal::UsrsctpCall call(token_);
    CloseSocket(true);  // the ABORT chunk lands in our mailbox: the drain sends it
  }
  queue_.clear();
  queuedBytes_ = 0;
  queuedPerStream_.clear();
  partial_.clear();
  SetState(AssociationState::kClosed, Status::Ok());
  Drain();
}

void Association::Poll() { Drain(); }

size_t Association::BufferedBytes(uint16_t streamId) const {
  auto it = queuedPerStream_.find(streamId);
  return it == queuedPerStream_.end() ? 0 : it->second;
}

// Needs the runtime mutex.
void Association::CloseSocket(bool abortive) {
  if (abortive) {
    linger l{};
    l.l_onoff = 1;
    l.l_linger = 0;
    (void)SetOption(sock_, SOL_SOCKET, SO_LINGER, l);  // without it close is graceful: still ok
  }
  usrsctp_close(sock_);
  sock_ = nullptr;
}

void Association::Post(std::function<void()> event) { events_.push_back(std::move(event)); }

void Association::SetState(AssociationState state, Status reason) {
  if (state_ == state) return;
  if (state_ == AssociationState::kClosed || state_ == AssociationState::kFailed) return;
  state_ = state;
  if (state == AssociationState::kClosed || state == AssociationState::kFailed) {
    queue_.clear();
    queuedBytes_ = 0;
    queuedPerStream_.clear();
    partial_.clear();
  }
  Post([this, state, reason = std::move(reason)] {
    if (callbacks_->onStateChange) callbacks_->onStateChange(state, reason);
  });
}

void Association::Account(uint16_t streamId, size_t bytes) {
  queuedBytes_ -= bytes;
  auto it = queuedPerStream_.find(streamId);
  if (it != queuedPerStream_.end()) {
    it->second -= bytes;
    if (it->second == 0) queuedPerStream_.erase(it);
  }
}

// Hands the queue head to usrsctp until it pushes back. Called when something is queued,
// when the association comes up, and when the upcall says the send buffer has room: never
// in a retry loop.
void Association::Pump() {
  if (state_ != AssociationState::kConnected || sock_ == nullptr) return;
  blocked_ = false;
  while (!queue_.empty()) {
    Pending& p = queue_.front();
    if (p.kind == Pending::Kind::kReset) {
      std::vector<uint16_t> streams = std::move(p.streams);
      queue_.pop_front();
      const size_t bytes = sizeof(sctp_reset_streams) + streams.size() * sizeof(uint16_t);
      std::vector<uint8_t> buffer(bytes, 0);
      sctp_reset_streams header{};
      header.srs_assoc_id = SCTP_ALL_ASSOC;
      header.srs_flags = SCTP_STREAM_RESET_OUTGOING;
      header.srs_number_streams = static_cast<uint16_t>(streams.size());
      std::memcpy(buffer.data(), &header, sizeof(header));
      std::memcpy(buffer.data() + sizeof(header), streams.data(),
                  streams.size() * sizeof(uint16_t));
      int rc = 0;
      {
        internal::UsrsctpCall call(token_);
        rc = usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_RESET_STREAMS, buffer.data(),
                                static_cast<socklen_t>(buffer.size()));
      }
      if (rc != 0) {
        // The peer does not support RE-CONFIG (or the streams are bad): a failed reset.
        Post([this, streams = std::move(streams)] {
          if (callbacks_->onStreamReset) {
            callbacks_->onStreamReset(streams, StreamDirection::kOutgoing, false);
          }
        });
      }
      continue;
    }
    if (p.kind == Pending::Kind::kShutdown) {
      queue_.pop_front();
      internal::UsrsctpCall call(token_);
      (void)usrsctp_shutdown(sock_, SHUT_WR);  // failure means the association is going away
      continue;
    }

    const size_t remaining = p.data.size() - p.offset;
    const size_t chunk = std::min<size_t>(remaining, config_.tuning.sendBufferBytes);
    const bool last = chunk == remaining;
    sctp_sendv_spa spa{};
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    spa.sendv_sndinfo.snd_sid = p.streamId;
    spa.sendv_sndinfo.snd_ppid = htonl(p.ppid);
    spa.sendv_sndinfo.snd_flags =
        static_cast<uint16_t>((last ? SCTP_EOR : 0) | (p.options.ordered ? 0 : SCTP_UNORDERED));
    if (p.options.maxRetransmits) {
      spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
      spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
      spa.sendv_prinfo.pr_value = *p.options.maxRetransmits;
    } else if (p.options.maxPacketLifeTimeMs) {
      spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
      spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_TTL;
      spa.sendv_prinfo.pr_value = *p.options.maxPacketLifeTimeMs;
    }
    ssize_t n = 0;
    int err = 0;
    {
      internal::UsrsctpCall call(token_);
      n = usrsctp_sendv(sock_, p.data.data() + p.offset, chunk, nullptr, 0, &spa,
                        static_cast<socklen_t>(sizeof(spa)), SCTP_SENDV_SPA, 0);
      err = errno;
    }
    if (n > 0) {
      const auto taken = static_cast<size_t>(n);
      p.offset += taken;
      Account(p.streamId, taken);
      const uint16_t streamId = p.streamId;
      Post([this, streamId, taken] {
        if (callbacks_->onSent) callbacks_->onSent(streamId, taken);
      });
      if (p.offset == p.data.size()) queue_.pop_front();
      continue;
    }
    // EAGAIN is both "no room" and "this stream is being reset": each ends with an input
    // (a SACK, a RECONFIG response) that raises the upcall, which resumes us.
    if (n == 0 || err == EWOULDBLOCK || err == EAGAIN) {
      blocked_ = true;
      pushedBack_ = true;
      ++sendPushBacks_;
      return;
    }
    if (err == ECONNRESET || err == EPIPE || err == ENOTCONN || err == ESHUTDOWN) {
      blocked_ = true;  // the association is going down; its notification says how
      return;
    }
    // Anything else is about this message (a stream the peer did not grant...): drop it.
    const uint16_t streamId = p.streamId;
    const size_t dropped = p.data.size() - p.offset;
    const bool midMessage = p.offset != 0;
    Account(streamId, dropped);
    queue_.pop_front();
    Post([this, streamId, err] {
      if (callbacks_->onStreamError) {
        callbacks_->onStreamError(
            streamId,
            Status::Fail("ERR_SCTP_SEND", "usrsctp_sendv on stream " + std::to_string(streamId) +
                                              " failed: " + Errno(err)));
      }
    });
    if (midMessage) {
      // usrsctp still holds the start of this message and locks the stream until it ends;
      // nothing more can be sent on this association.
      Abort();
      return;
    }
  }
  if (pushedBack_) {
    pushedBack_ = false;
    Post([this] {
      if (callbacks_->onWritable) callbacks_->onWritable();
    });
  }
}

void Association::Drain() {
  if (draining_) {
    drainAgain_ = true;  // a call from inside a callback: the running drain goes round again
    return;
  }
  draining_ = true;
  const std::shared_ptr<bool> alive = alive_;
  // A callback may destroy us, and with us the std::function it is running: keep them.
  const std::shared_ptr<const AssociationCallbacks> keep = callbacks_;
  for (;;) {
    std::vector<std::vector<uint8_t>> packets;
    bool readable = false;
    bool writable = false;
    {
      internal::UsrsctpCall call(token_);
      packets.swap(mailbox_.packets);
      readable = std::exchange(mailbox_.readable, false);
      writable = std::exchange(mailbox_.writable, false);
      mailbox_.wakePending = false;
    }
    if (readable) ReadAll();
    if (writable && blocked_) Pump();
    if (packets.empty() && events_.empty() && !readable && !drainAgain_) break;
    drainAgain_ = false;
    for (const auto& packet : packets) {
      if (callbacks_->onPacket) callbacks_->onPacket(ByteSpan(packet));
      if (!*alive) return;
    }
    while (!events_.empty()) {
      std::function<void()> event = std::move(events_.front());
      events_.pop_front();
      event();
      if (!*alive) return;
    }
  }
  draining_ = false;
}

void Association::ReadAll() {
  if (recvBuffer_.empty()) recvBuffer_.resize(kReceiveChunk);
  while (sock_ != nullptr) {
    sctp_rcvinfo info{};
    socklen_t infoLength = sizeof(info);
    unsigned int infoType = 0;
    int flags = 0;
    sockaddr_conn from{};
    socklen_t fromLength = sizeof(from);
    ssize_t n = 0;
    int err = 0;
    {
      internal::UsrsctpCall call(token_);
      n = usrsctp_recvv(sock_, recvBuffer_.data(), recvBuffer_.size(),
                        reinterpret_cast<sockaddr*>(&from), &fromLength, &info, &infoLength,
                        &infoType, &flags);
      err = errno;
    }
    if (n < 0) {
      if (err == EWOULDBLOCK || err == EAGAIN) return;
      // The socket holds an error: the association is gone (its notification, if any, came
      // first and set the state already).
      SetState(AssociationState::kFailed,
               Status::Fail("ERR_SCTP_COMM_LOST", "SCTP receive failed: " + Errno(err)));
      return;
    }
    if (n == 0) {
      SetState(AssociationState::kClosed, Status::Ok());  // orderly end of the association
      return;
    }
    const auto length = static_cast<size_t>(n);
    if ((flags & MSG_NOTIFICATION) != 0) {
      notification_.insert(notification_.end(), recvBuffer_.data(), recvBuffer_.data() + length);
      if ((flags & MSG_EOR) != 0) {
        std::vector<uint8_t> note = std::move(notification_);
        notification_.clear();
        HandleNotification(note.data(), note.size());
      }
      continue;
    }
    if (infoType != SCTP_RECVV_RCVINFO) continue;  // data always carries rcvinfo here
    HandleData(info, flags, recvBuffer_.data(), length);
  }
}

void Association::HandleData(const ::sctp_rcvinfo& info, int flags, const uint8_t* data, size_t n) {
  const uint16_t streamId = info.rcv_sid;
  Partial& p = partial_[streamId];
  if (p.data.empty() && !p.dropping) {
    p.ppid = ntohl(info.rcv_ppid);
    p.ordered = (info.rcv_flags & SCTP_UNORDERED) == 0;
  }
  const size_t limit = config_.maxReceiveMessageSize;
  if (!p.dropping && limit != 0 && p.data.size() + n > limit) {
    p.dropping = true;
    p.droppedBytes = p.data.size();
    p.data = std::vector<uint8_t>();
  }
  if (p.dropping) {
    p.droppedBytes += n;
  } else {
    p.data.insert(p.data.end(), data, data + n);
  }
  if ((flags & MSG_EOR) == 0) return;
  if (p.dropping) {
    const size_t size = p.droppedBytes;
    Post([this, streamId, size, limit] {
      if (callbacks_->onStreamError) {
        callbacks_->onStreamError(
            streamId, Status::Fail("ERR_SCTP_MESSAGE_TOO_LARGE",
                                   "received a message of at least " + std::to_string(size) +
                                       " bytes on stream " + std::to_string(streamId) +
                                       ", over the local limit of " + std::to_string(limit)));
      }
    });
  } else {
    SctpMessage m;
    m.streamId = streamId;
    m.ppid = p.ppid;
    m.ordered = p.ordered;
    m.data = std::move(p.data);
    Post([this, m = std::move(m)]() mutable {
      if (callbacks_->onMessage) callbacks_->onMessage(std::move(m));
    });
  }
  partial_.erase(streamId);
}

void Association::HandleNotification(const uint8_t* data, size_t n) {
  if (n < sizeof(sctp_notification::sctp_tlv)) return;
  const auto header = ReadStruct<sctp_notification::sctp_tlv>(data);
  switch (header.sn_type) {
    case SCTP_ASSOC_CHANGE: {
      if (n < sizeof(sctp_assoc_change)) return;
      const auto sac = ReadStruct<sctp_assoc_change>(data);
      switch (sac.sac_state) {
        case SCTP_COMM_UP:
        case SCTP_RESTART:
          outboundStreams_ = sac.sac_outbound_streams;
          inboundStreams_ = sac.sac_inbound_streams;
          SetState(AssociationState::kConnected, Status::Ok());
          Pump();
          break;
        case SCTP_COMM_LOST:
          // usrsctp appends the peer's ABORT chunk when there was one.
          SetState(AssociationState::kFailed,
                   sac.sac_length > sizeof(sctp_assoc_change)
                       ? Status::Fail("ERR_SCTP_PEER_ABORT", "the peer aborted the association")
                       : Status::Fail("ERR_SCTP_COMM_LOST",
                                      "the peer stopped answering (retransmissions exhausted)"));
          break;
        case SCTP_CANT_STR_ASSOC:
          SetState(AssociationState::kFailed,
                   Status::Fail("ERR_SCTP_CONNECT", "the association could not be set up"));
          break;
        case SCTP_SHUTDOWN_COMP:
          SetState(AssociationState::kClosed, Status::Ok());
          break;
        default:
          break;
      }
      return;
    }
    case SCTP_STREAM_RESET_EVENT: {
      if (n < sizeof(sctp_stream_reset_event)) return;
      const auto ev = ReadStruct<sctp_stream_reset_event>(data);
      const size_t end = std::min<size_t>(n, ev.strreset_length);
      std::vector<uint16_t> streams;
      for (size_t off = sizeof(sctp_stream_reset_event); off + 2 <= end; off += 2) {
        uint16_t id = 0;
        std::memcpy(&id, data + off, 2);
        streams.push_back(id);
      }
      const bool ok =
          (ev.strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) == 0;
      const StreamDirection direction = (ev.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) != 0
                                            ? StreamDirection::kIncoming
                                            : StreamDirection::kOutgoing;
      if (direction == StreamDirection::kIncoming && ok) {
        for (uint16_t id : streams) partial_.erase(id);
      }
      Post([this, streams = std::move(streams), direction, ok] {
        if (callbacks_->onStreamReset) callbacks_->onStreamReset(streams, direction, ok);
      });
      // A send held back by a reset in progress (EAGAIN) can go now.
      if (blocked_) Pump();
      return;
    }
    case SCTP_PARTIAL_DELIVERY_EVENT: {
      if (n < sizeof(sctp_pdapi_event)) return;
      const auto pd = ReadStruct<sctp_pdapi_event>(data);
      if (pd.pdapi_indication == SCTP_PARTIAL_DELIVERY_ABORTED) {
        partial_.erase(static_cast<uint16_t>(pd.pdapi_stream));
      }
      return;
    }
    case SCTP_STREAM_CHANGE_EVENT: {
      if (n < sizeof(sctp_stream_change_event)) return;
      const auto sc = ReadStruct<sctp_stream_change_event>(data);
      if ((sc.strchange_flags & (SCTP_STREAM_CHANGE_DENIED | SCTP_STREAM_CHANGE_FAILED)) == 0) {
        inboundStreams_ = sc.strchange_instrms;
        outboundStreams_ = sc.strchange_outstrms;
      }
      return;
    }
    default:
      return;  // shutdown started by the peer, remote errors: the assoc change follows
  }
}

}  // namespace kvs::sctp
