#include "pc/stats.h"

#include "dtls/dtls_session.h"
#include "srtp/srtp_profile.h"

namespace kvs::pc {
namespace {

std::string CandidateId(const char* side, size_t index) {
  return std::string(side) + "-candidate-" + std::to_string(index);
}

StatsObject CandidateStats(const char* type, const std::string& id, const ice::Candidate& c,
                           double now) {
  StatsObject o{type, id, now, {}};
  o.fields = {
      {"transportId", std::string("transport-0")},
      {"address", c.address.IpString()},
      {"port", static_cast<double>(c.address.port())},
      {"protocol", std::string(c.transport == ice::TransportProtocol::kUdp ? "udp" : "tcp")},
      {"candidateType", std::string(ice::ToString(c.type))},
      {"priority", static_cast<double>(c.priority)},
      {"foundation", c.foundation},
  };
  return o;
}

const char* DtlsStateName(dtls::DtlsState s) {
  switch (s) {
    case dtls::DtlsState::kNew:
      return "new";
    case dtls::DtlsState::kConnecting:
      return "connecting";
    case dtls::DtlsState::kConnected:
      return "connected";
    case dtls::DtlsState::kFailed:
      return "failed";
    case dtls::DtlsState::kClosed:
      return "closed";
  }
  return "new";
}

}  // namespace

std::vector<StatsObject> CollectStats(const PeerConnection& pc, double nowEpochMs,
                                      double monotonicToEpochMs) {
  std::vector<StatsObject> out;
  const ice::IceAgent& agent = pc.ice().agent();
  auto epoch = [&](uint64_t monotonicMs) -> double {
    return monotonicMs == 0 ? 0 : static_cast<double>(monotonicMs) + monotonicToEpochMs;
  };
  for (size_t i = 0; i < agent.localCandidates().size(); ++i) {
    out.push_back(CandidateStats("local-candidate", CandidateId("local", i),
                                 agent.localCandidates()[i], nowEpochMs));
  }
  for (size_t i = 0; i < agent.remoteCandidates().size(); ++i) {
    out.push_back(CandidateStats("remote-candidate", CandidateId("remote", i),
                                 agent.remoteCandidates()[i], nowEpochMs));
  }
  std::string selectedId;
  for (size_t i = 0; i < agent.pairs().size(); ++i) {
    const ice::CandidatePair& p = agent.pairs()[i];
    const std::string id = "candidate-pair-" + std::to_string(i);
    if (&p == agent.selectedPair()) selectedId = id;
    const ice::PairStats& s = p.stats;
    StatsObject o{"candidate-pair", id, nowEpochMs, {}};
    o.fields = {
        {"transportId", std::string("transport-0")},
        {"localCandidateId", CandidateId("local", static_cast<size_t>(p.localIndex))},
        {"remoteCandidateId", CandidateId("remote", static_cast<size_t>(p.remoteIndex))},
        {"state", std::string(ice::ToString(p.state))},
        {"nominated", p.nominated},
        {"priority", static_cast<double>(p.priority)},
        {"packetsSent", static_cast<double>(s.packetsSent)},
        {"packetsReceived", static_cast<double>(s.packetsReceived)},
        {"bytesSent", static_cast<double>(s.bytesSent)},
        {"bytesReceived", static_cast<double>(s.bytesReceived)},
        {"requestsSent", static_cast<double>(s.requestsSent)},
        {"requestsReceived", static_cast<double>(s.requestsReceived)},
        {"responsesSent", static_cast<double>(s.responsesSent)},
        {"responsesReceived", static_cast<double>(s.responsesReceived)},
        {"consentRequestsSent", static_cast<double>(s.consentRequestsSent)},
        {"totalRoundTripTime", s.totalRoundTripTimeMs / 1000.0},
        {"currentRoundTripTime", s.currentRoundTripTimeMs / 1000.0},
        {"lastPacketSentTimestamp", epoch(s.lastPacketSentTimestampMs)},
        {"lastPacketReceivedTimestamp", epoch(s.lastPacketReceivedTimestampMs)},
        {"lastRequestTimestamp", epoch(s.lastRequestTimestampMs)},
        {"lastResponseTimestamp", epoch(s.lastResponseTimestampMs)},
    };
    out.push_back(std::move(o));
  }
  const auto servers = pc.ice().iceServerStats();
  for (size_t i = 0; i < servers.size(); ++i) {
    const auto& s = servers[i];
    StatsObject o{"ice-server", "ice-server-" + std::to_string(i), nowEpochMs, {}};
    o.fields = {
        {"url", s.url},
        {"totalRequestsSent", static_cast<double>(s.requestsSent)},
        {"totalResponsesReceived", static_cast<double>(s.responsesReceived)},
        {"totalRoundTripTime", static_cast<double>(s.totalRoundTripTimeMs) / 1000.0},
        {"roundTripTimeMeasurements", static_cast<double>(s.roundTripTimeSamples)},
    };
    out.push_back(std::move(o));
  }
  StatsObject t{"transport", "transport-0", nowEpochMs, {}};
  t.fields = {
      {"iceState", std::string(ice::ToString(agent.state()))},
      {"iceRole",
       std::string(agent.role() == ice::IceRole::kControlling ? "controlling" : "controlled")},
      {"iceLocalUsernameFragment", agent.localCredentials().ufrag},
      {"dtlsState", std::string(DtlsStateName(pc.dtls().state()))},
  };
  if (!selectedId.empty()) t.fields.emplace_back("selectedCandidatePairId", selectedId);
  if (const dtls::DtlsSession* d = pc.dtls().session();
      d != nullptr && d->state() == dtls::DtlsState::kConnected) {
    t.fields.emplace_back("tlsVersion", d->protocolVersion());
    t.fields.emplace_back("dtlsCipher", d->cipher());
    t.fields.emplace_back("dtlsRole",
                          std::string(d->role() == dtls::DtlsRole::kClient ? "client" : "server"));
    if (auto profile = d->selectedSrtpProfile()) {
      t.fields.emplace_back("srtpCipher", std::string(srtp::InfoOf(*profile).ianaName));
    }
  }
  out.push_back(std::move(t));
  return out;
}

}  // namespace kvs::pc
