#include "pc/candidate_convert.h"

namespace kvs::pc {
namespace {

ice::CandidateType TypeFromSdp(sdp::CandidateType t) {
  switch (t) {
    case sdp::CandidateType::kHost:
      return ice::CandidateType::kHost;
    case sdp::CandidateType::kSrflx:
      return ice::CandidateType::kServerReflexive;
    case sdp::CandidateType::kPrflx:
      return ice::CandidateType::kPeerReflexive;
    case sdp::CandidateType::kRelay:
      return ice::CandidateType::kRelay;
  }
  return ice::CandidateType::kHost;
}

sdp::CandidateType TypeToSdp(ice::CandidateType t) {
  switch (t) {
    case ice::CandidateType::kHost:
      return sdp::CandidateType::kHost;
    case ice::CandidateType::kServerReflexive:
      return sdp::CandidateType::kSrflx;
    case ice::CandidateType::kPeerReflexive:
      return sdp::CandidateType::kPrflx;
    case ice::CandidateType::kRelay:
      return sdp::CandidateType::kRelay;
  }
  return sdp::CandidateType::kHost;
}

}  // namespace

Result<ice::Candidate> FromSdp(const sdp::Candidate& c) {
  if (c.isMdns()) {
    return Status::Fail("ERR_ICE_UNSUPPORTED_CANDIDATE",
                        "mDNS candidate " + c.address + " skipped: .local names are not resolved");
  }
  if (c.protocol == sdp::TransportProtocol::kOther) {
    return Status::Fail("ERR_ICE_UNSUPPORTED_CANDIDATE", "candidate " + c.address +
                                                             " skipped: transport " + c.transport +
                                                             " is neither UDP nor TCP");
  }
  const bool tcp = c.protocol == sdp::TransportProtocol::kTcp;
  if (tcp && (!c.tcpType || *c.tcpType == sdp::TcpType::kSo)) {
    return Status::Fail("ERR_ICE_UNSUPPORTED_CANDIDATE",
                        "TCP candidate " + c.address + " skipped: " +
                            (c.tcpType ? "simultaneous-open (tcptype so) is not supported"
                                       : "no tcptype (RFC 6544 requires one)"));
  }
  auto address = net::Address::Parse(c.address, c.port);
  if (!address) {
    return Status::Fail("ERR_ICE_UNSUPPORTED_CANDIDATE",
                        "candidate address " + c.address + " is not a numeric IP address");
  }
  ice::Candidate out;
  out.type = TypeFromSdp(c.type);
  out.transport = tcp ? ice::TransportProtocol::kTcp : ice::TransportProtocol::kUdp;
  if (tcp) {
    out.tcpType =
        *c.tcpType == sdp::TcpType::kActive ? ice::TcpType::kActive : ice::TcpType::kPassive;
  }
  out.address = *address;
  out.priority = c.priority;
  out.foundation = c.foundation;
  out.component = static_cast<uint8_t>(c.component);
  if (c.relatedAddress && c.relatedPort) {
    if (auto related = net::Address::Parse(*c.relatedAddress, *c.relatedPort)) {
      out.relatedAddress = *related;
      out.hasRelatedAddress = true;
    }
  }
  return out;
}

sdp::Candidate ToSdp(const ice::Candidate& c) {
  sdp::Candidate out;
  out.foundation = c.foundation;
  out.component = c.component;
  out.transport = c.transport == ice::TransportProtocol::kUdp ? "udp" : "tcp";
  out.protocol = c.transport == ice::TransportProtocol::kUdp ? sdp::TransportProtocol::kUdp
                                                             : sdp::TransportProtocol::kTcp;
  out.priority = c.priority;
  out.address = c.address.IpString();
  out.addressKind = c.address.isIpv4() ? sdp::AddressKind::kIpv4 : sdp::AddressKind::kIpv6;
  out.port = c.address.port();
  out.type = TypeToSdp(c.type);
  if (c.hasRelatedAddress) {
    out.relatedAddress = c.relatedAddress.IpString();
    out.relatedPort = c.relatedAddress.port();
  }
  if (c.tcpType == ice::TcpType::kActive) out.tcpType = sdp::TcpType::kActive;
  if (c.tcpType == ice::TcpType::kPassive) out.tcpType = sdp::TcpType::kPassive;
  out.generation = 0;
  return out;
}

}  // namespace kvs::pc
