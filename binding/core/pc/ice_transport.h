// ICE over real sockets: gathers host candidates on the loop's UDP sockets, runs the agent
// on the loop's clock, and demultiplexes what arrives (RFC 7983, net/demux.h): STUN to the
// agent and the server-reflexive gatherer, DTLS, SRTP and SRTCP up to the owner, the rest
// dropped and counted. Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "ice/ice_agent.h"
#include "ice/srflx_gatherer.h"
#include "loop/event_loop.h"
#include "loop/tcp_listener.h"
#include "loop/tcp_socket.h"
#include "loop/timer.h"
#include "loop/udp_socket.h"
#include "mdns/mdns_resolver.h"
#include "mdns/mdns_responder.h"
#include "net/demux.h"
#include "sdp/candidate.h"
#include "stun/stream_framer.h"
#include "turn/turn_connection.h"
#include "turn/turn_url.h"

namespace kvs::pc {

// Which local addresses become host candidates. Tests restrict them to loopback; a device
// can keep its cellular or VPN interface out.
struct InterfaceFilter {
  bool allowLoopback = false;
  bool allowLinkLocal = false;
  bool ipv6 = true;
  // When not empty, only these addresses (numeric, e.g. "127.0.0.1") or interface names.
  std::vector<std::string> only;
};

// A TURN server to allocate relay candidates on: its URL (scheme and transport), the
// server's resolved address, and its credentials.
struct RelayServer {
  turn::TurnUrl url;
  net::Address address;
  std::string username;
  std::string credential;
};

struct IceTransportConfig {
  ice::IceAgentConfig agent;
  InterfaceFilter interfaces;
  std::vector<RelayServer> relays;
  // STUN servers for server-reflexive candidates: URL (for stats) and resolved address.
  std::vector<std::pair<std::string, net::Address>> stunServers;
  // iceTransportPolicy "relay": no host candidates at all.
  bool relayOnly = false;
  // Trust for turns: servers (PEM file); OpenSSL's default store when empty.
  std::string tlsCaFile;
  // The C SDK's local gathering timeout: servers that have not answered by then are
  // given up on (their candidates, if they come later, are still used).
  uint32_t gatheringTimeoutMs = 10000;
  // ICE-TCP (RFC 6544): a passive and an active TCP host candidate per interface beside the
  // UDP one, so that peers on networks that block UDP still connect without TURN. Their
  // priorities are below UDP's (libwebrtc's type preference 90), so UDP wins when it works.
  bool tcpCandidates = true;
  uint32_t tcpConnectTimeoutMs = 5000;
  // Once a pair is selected, the TCP connections that are not its path are closed after
  // this long (the peer's checks on them are answered until then).
  uint32_t tcpPruneDelayMs = 5000;
  // After an ICE restart's new pair is selected, the old generation is released this much
  // later: the peer may select a moment after us (a controlled agent's own check of the
  // nominated pair is one more round trip), and until it does its data comes the old way.
  uint32_t retireDelayMs = 2000;
  // Remote ".local" candidates (browsers hide their addresses so by default) are resolved
  // with multicast DNS on the interfaces the filter allows, and join the agent when they
  // are; those that are not are skipped (onCandidateSkipped). Off: skipped at once.
  bool resolveMdns = true;
  mdns::ResolverConfig mdns;
  // Our own host addresses hidden behind random ".local" names in what we signal, with a
  // responder answering for them on the allowed interfaces, as browsers do by default
  // (draft-ietf-mmusic-mdns-ice-candidates §3.1). Off by default for devices: a peer that
  // cannot resolve mDNS (the C SDK) would then see no host candidate at all.
  bool mdnsHostCandidates = false;
};

class IceTransport {
 public:
  IceTransport(loop::EventLoop& loop, IceTransportConfig config);
  ~IceTransport();

  // Binds a socket per allowed interface and announces each host candidate, then the end.
  void Gather();
  bool gatheringComplete() const { return gatheringComplete_; }

  void SetRemoteCredentials(const ice::IceCredentials& remote);
  // Unusable candidates are skipped and reported in the Status
  // (ERR_ICE_UNSUPPORTED_CANDIDATE); not fatal. An mDNS candidate is accepted for resolution
  // (Ok): it joins the agent once its name resolves, or is reported through
  // onCandidateSkipped when it does not.
  Status AddRemoteCandidate(const sdp::Candidate& candidate);
  void SetRemoteEndOfCandidates();
  void Restart(const ice::IceCredentials& local);
  // The STUN and TURN servers of the next gathering (W3C setConfiguration): the candidates
  // gathered so far keep theirs.
  void SetServers(std::vector<RelayServer> relays,
                  std::vector<std::pair<std::string, net::Address>> stunServers);
  // After Restart, once the description with the new credentials is set: gathers a new
  // generation of candidates from the interfaces as they are now (host, server-reflexive,
  // new allocations on the current servers) and announces them, then the end. Make before
  // break: the old selected pair keeps carrying data (both ways) until a pair of the new
  // generation is selected; the old generation's sockets, connections and allocations are
  // released then (an old relay that fails before is released at once). Before the first
  // Gather() this does nothing.
  void Regather();
  // Stops checks, consent and relays: nothing more is sent (state kClosed).
  void Close();

  // Sends on the selected pair (or back where the peer's traffic came from before then).
  Status Send(ByteSpan data);
  // An ICE restart is checking while the old selected pair still carries the data (make
  // before break): media need not stop meanwhile.
  bool carryingThroughRestart() const {
    return agent_.state() == ice::IceState::kChecking && !agent_.route() && lastRoute_.has_value();
  }

  // Per-ICE-server numbers for the W3C stats.
  struct IceServerStats {
    std::string url;
    uint64_t requestsSent = 0;
    uint64_t responsesReceived = 0;
    uint64_t totalRoundTripTimeMs = 0;
    uint64_t roundTripTimeSamples = 0;
  };
  std::vector<IceServerStats> iceServerStats() const;

  // A local candidate as we signal it: with mdnsHostCandidates, a host address is its .local
  // name and the related address of the others is 0.0.0.0:0.
  sdp::Candidate LocalSdpCandidate(const ice::Candidate& c);

  ice::IceAgent& agent() { return agent_; }
  const ice::IceAgent& agent() const { return agent_; }

  std::function<void(const sdp::Candidate&)> onLocalCandidate;
  std::function<void()> onGatheringComplete;
  std::function<void(ice::IceState)> onStateChange;
  // DTLS, SRTP or SRTCP from a peer ICE knows, as the demultiplexer classed it.
  std::function<void(net::PacketClass, ByteSpan)> onPacket;
  // A remote candidate given up on after it was accepted (an mDNS name that did not resolve).
  std::function<void(const sdp::Candidate&, const std::string& reason)> onCandidateSkipped;

  // Datagrams dropped on receipt: an unknown class (RFC 7983), or media/DTLS from an address
  // that is no remote candidate.
  uint64_t droppedUnknown() const { return droppedUnknown_; }
  uint64_t droppedUnknownSource() const { return droppedUnknownSource_; }
  // STUN checks and binding requests the network refused to send.
  uint64_t sendFailures() const { return sendFailures_; }
  // Open ICE-TCP connections (accepted or made), for tests and diagnosis.
  size_t tcpConnections() const;
  // UDP host sockets and TURN connections not yet released, for tests and diagnosis.
  size_t openSockets() const;
  // Completed restarts' generations: 0 until the first Regather().
  uint32_t generation() const { return generation_; }

  // A TURN allocation of the current generation failed after it was made (refresh refused,
  // the server's connection lost). `inUse`: the selected pair (or the route kept through a
  // restart) goes through it, so the path is gone and only an ICE restart brings another.
  std::function<void(const std::string& url, const Status& error, bool inUse)> onRelayFailed;
  // A TURN server of the current generation gave no allocation (credentials refused, as when
  // they expired; unreachable; an error answer): no relay candidate comes from it.
  std::function<void(const std::string& url, const Status& error)> onRelayError;

 private:
  struct Relay {
    std::string url;
    std::unique_ptr<turn::TurnConnection> connection;
    std::vector<net::Address> permitted;  // peers with a permission requested
    bool settled = false;                 // allocated or failed: counts toward gathering
    bool allocated = false;
    uint32_t generation = 0;
  };
  static constexpr int kRelaySocketBase = 1000;
  // ICE-TCP candidates: each is one socket id to the agent; its connections are told apart
  // by the peer's address (RFC 4571 framing on each).
  static constexpr int kTcpSocketBase = 2000;
  struct TcpLink {
    std::unique_ptr<loop::TcpSocket> socket;
    stun::StreamDeframer deframer{stun::StreamFraming::kRfc4571};
    std::vector<std::vector<uint8_t>> pending;  // framed, until the connection is up
    bool connected = false;
  };
  struct TcpEndpoint {
    ice::TcpType type = ice::TcpType::kPassive;
    net::Address interfaceAddress;                           // port 0
    std::unique_ptr<loop::TcpListener> listener;             // passive only
    std::map<net::Address, std::unique_ptr<TcpLink>> links;  // by the peer's address
    uint32_t generation = 0;
    bool retired = false;  // its slot may be taken by a later generation
  };
  TcpEndpoint* Tcp(int socketId);
  void GatherTcp(const net::Address& interfaceAddress, uint16_t otherPreference);
  Status SendOnTcp(int socketId, const net::Address& to, ByteSpan data);
  TcpLink* OpenTcpLink(int socketId, const net::Address& to);
  void AdoptTcpLink(int socketId, std::unique_ptr<loop::TcpSocket> socket);
  loop::TcpCallbacks TcpLinkCallbacks(int socketId, const net::Address& peer);
  void DropTcpLink(int socketId, const net::Address& peer);
  void PruneTcpLinks();

  struct MdnsSocket {
    std::unique_ptr<loop::UdpSocket> socket;
    net::Address group;
    std::vector<std::string> interfaces;  // IPv4 addresses or IPv6 interface names
  };
  struct PendingMdns {
    sdp::Candidate candidate;
  };
  bool EnsureMdns();
  void ProcessMdns();
  void OnMdnsDatagram(size_t socketIndex, const net::Address& from, ByteSpan data);
  void Announce(const ice::Candidate& c);

  void GatherGeneration();
  // Releases what belongs to generations before the current one, except `keep`'s socket.
  void RetireOldGenerations();
  void ReleaseRelay(size_t index);
  // A free slot (released, or a new one at the end): ids stay bounded over many restarts.
  size_t FreeSocketSlot();
  size_t FreeRelaySlot();
  size_t FreeTcpSlot();
  bool IsRouteSocket(int socketId) const;
  void StartRelays(const std::vector<net::Address>& localAddresses);
  void RelaySettled();
  void MaybeCompleteGathering();
  void AddServerReflexive(const ice::ServerReflexive& r);
  Status SendOn(int socketId, const net::Address& to, ByteSpan data);
  void OnDatagram(int socketId, const net::Address& from, ByteSpan data);
  void Pump();
  void Flush();
  void ScheduleTick();
  bool IsKnownRemote(int socketId, const net::Address& from) const;

  loop::EventLoop& loop_;
  IceTransportConfig config_;
  ice::IceAgent agent_;
  ice::SrflxGatherer srflx_;
  std::vector<std::unique_ptr<loop::UdpSocket>> sockets_;  // null: released
  std::vector<uint32_t> socketGeneration_;                 // beside sockets_
  uint32_t generation_ = 0;
  bool retirePending_ = false;  // an old generation lives on until the new one is selected
  std::vector<std::unique_ptr<Relay>> relays_;
  std::vector<std::unique_ptr<TcpEndpoint>> tcp_;
  size_t relaysPending_ = 0;
  uint16_t relayPreference_ = 65535;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // for tasks posted to the loop
  loop::Timer tick_;
  loop::Timer gatheringTimer_;
  mdns::Resolver mdns_;
  mdns::Responder responder_;
  std::vector<MdnsSocket> mdnsSockets_;
  bool mdnsOpened_ = false;
  std::vector<PendingMdns> pendingMdns_;
  bool endOfCandidatesHeld_ = false;  // until pending mDNS names settle
  loop::Timer mdnsTimer_;
  loop::Timer tcpPruneTimer_;
  bool gatheringComplete_ = false;
  std::optional<ice::IceAgent::Route> fallbackRoute_;
  std::optional<ice::IceAgent::Route> lastRoute_;  // survives an ICE restart until reselection
  // The old generation's route once a new pair is selected, until it is released: the peer's
  // data on it is still taken.
  std::optional<ice::IceAgent::Route> previousRoute_;
  loop::Timer retireTimer_;
  uint64_t droppedUnknown_ = 0;
  uint64_t droppedUnknownSource_ = 0;
  uint64_t sendFailures_ = 0;
};

}  // namespace kvs::pc
