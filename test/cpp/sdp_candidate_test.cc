#include <doctest/doctest.h>

#include <string>

#include "fixtures/sdp/sdp_fixtures.h"
#include "sdp/candidate.h"

using kvs::sdp::AddressKind;
using kvs::sdp::Candidate;
using kvs::sdp::CandidateType;
using kvs::sdp::FormatCandidate;
using kvs::sdp::ParseCandidate;
using kvs::sdp::TcpType;
using kvs::sdp::TransportProtocol;

namespace {

Candidate MustParse(const std::string& text) {
  auto c = ParseCandidate(text);
  REQUIRE_MESSAGE(c.ok(), text << " -> " << c.status().message());
  return c.take();
}

// Parse, format, parse again: the text is reproduced and the records are equal.
void CheckRoundTrip(const std::string& text) {
  Candidate first = MustParse(text);
  std::string formatted = FormatCandidate(first);
  std::string expected = text.rfind("a=", 0) == 0 ? text.substr(2) : text;
  CHECK(formatted == expected);
  CHECK(MustParse(formatted) == first);
}

std::string ErrorOf(const std::string& text) {
  auto c = ParseCandidate(text);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == "ERR_SDP_CANDIDATE");
  return c.status().message();
}

}  // namespace

TEST_CASE("candidate: a real Chromium host candidate, trickle form") {
  const std::string text =
      "candidate:4199616700 1 udp 2113937151 192.0.2.2 52613 typ host generation 0 ufrag xAd0 "
      "network-cost 999";
  Candidate c = MustParse(text);
  CHECK(c.foundation == "4199616700");
  CHECK(c.component == 1);
  CHECK(c.transport == "udp");
  CHECK(c.protocol == TransportProtocol::kUdp);
  CHECK(c.priority == 2113937151u);
  CHECK(c.address == "192.0.2.2");
  CHECK(c.addressKind == AddressKind::kIpv4);
  CHECK(c.port == 52613);
  CHECK(c.type == CandidateType::kHost);
  CHECK_FALSE(c.relatedAddress.has_value());
  CHECK(c.generation == 0u);
  CHECK(c.ufrag == std::string("xAd0"));
  CHECK(c.networkCost == 999u);
  CHECK_FALSE(c.networkId.has_value());
  CHECK(c.extensions.empty());
  CheckRoundTrip(text);
}

TEST_CASE("candidate: every line Chromium trickled parses and round-trips") {
  std::string all(kvs::sdp::fixtures::kChromiumTrickledCandidates);
  size_t start = 0;
  int count = 0;
  while (start < all.size()) {
    size_t nl = all.find('\n', start);
    std::string line = all.substr(start, nl - start);
    start = nl == std::string::npos ? all.size() : nl + 1;
    if (line.empty()) continue;
    CheckRoundTrip(line);
    ++count;
  }
  CHECK(count == 6);
}

TEST_CASE("candidate: a= prefix, CRLF and trailing whitespace are accepted") {
  Candidate c = MustParse("a=candidate:1 1 UDP 2122252543 fd00::2 53211 typ host \r\n");
  CHECK(c.transport == "UDP");
  CHECK(c.protocol == TransportProtocol::kUdp);
  CHECK(c.address == "fd00::2");
  CHECK(c.addressKind == AddressKind::kIpv6);
  CHECK(FormatCandidate(c) == "candidate:1 1 UDP 2122252543 fd00::2 53211 typ host");
}

TEST_CASE("candidate: one line; the terminator and blanks may come mixed, a break inside fails") {
  // Found by the SDP fuzzer: "\n\t" at the end left the "\n" in the last value, and the
  // formatted candidate (without it) no longer equalled the parsed one.
  Candidate c = MustParse("candidate:1 1 udp 1 10.0.0.1 9 typ host x y\n\t\r\n \t");
  REQUIRE(c.extensions.size() == 1);
  CHECK(c.extensions[0].second == "y");
  CHECK(ParseCandidate(FormatCandidate(c)).value() == c);
  for (const char* bad : {"candidate:1 1 udp 1 10.0.0.1 9 typ host x y\nz w",
                          "candidate:1 1 udp 1 10.0.0.1 9\r typ host"}) {
    auto r = ParseCandidate(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("line break") != std::string::npos);
  }
  std::string withNul("candidate:1 1 udp 1 10.0.0.1 9 typ host x y\0z", 45);
  CHECK_FALSE(ParseCandidate(withNul).ok());
}

TEST_CASE("candidate: srflx, prflx and relay with related address and port") {
  Candidate srflx = MustParse(
      "candidate:842163049 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 192.168.1.20 "
      "rport 51000 generation 0 ufrag abcd network-id 1 network-cost 10");
  CHECK(srflx.type == CandidateType::kSrflx);
  CHECK(srflx.relatedAddress == std::string("192.168.1.20"));
  CHECK(srflx.relatedPort == uint16_t{51000});
  CHECK(srflx.networkId == 1u);
  CHECK(srflx.networkCost == 10u);
  CheckRoundTrip(FormatCandidate(srflx));

  Candidate prflx =
      MustParse("candidate:3 1 udp 1853824767 198.51.100.9 40000 typ prflx raddr 0.0.0.0 rport 0");
  CHECK(prflx.type == CandidateType::kPrflx);
  CHECK(prflx.relatedPort == uint16_t{0});

  const std::string relay =
      "candidate:2511853108 1 udp 16777215 198.51.100.20 61072 typ relay raddr 203.0.113.7 "
      "rport 61234 generation 0";
  Candidate r = MustParse(relay);
  CHECK(r.type == CandidateType::kRelay);
  CHECK(r.priority == 16777215u);
  CheckRoundTrip(relay);
}

TEST_CASE("candidate: TCP with each tcptype, transport case-insensitive") {
  Candidate active = MustParse("candidate:2 1 TCP 2105524479 192.0.2.2 9 typ host tcptype active");
  CHECK(active.protocol == TransportProtocol::kTcp);
  CHECK(active.tcpType == TcpType::kActive);
  CHECK(active.port == 9);
  Candidate passive =
      MustParse("candidate:5 1 tcp 1518280447 192.0.2.2 443 typ host tcptype passive");
  CHECK(passive.tcpType == TcpType::kPassive);
  Candidate so = MustParse(
      "candidate:6 1 Tcp 1518280447 192.0.2.2 5000 typ srflx raddr "
      "10.0.0.1 rport 5000 tcptype so");
  CHECK(so.protocol == TransportProtocol::kTcp);
  CHECK(so.transport == "Tcp");
  CHECK(so.tcpType == TcpType::kSo);
  CheckRoundTrip("candidate:2 1 TCP 2105524479 192.0.2.2 9 typ host tcptype active");
  CheckRoundTrip(
      "candidate:6 1 Tcp 1518280447 192.0.2.2 5000 typ srflx raddr 10.0.0.1 rport 5000 tcptype so");
}

TEST_CASE("candidate: mDNS .local host names are kept as names and flagged") {
  const std::string text =
      "candidate:1467250027 1 udp 2122260223 3c5b6c1e-8e9a-4c2b-9d8e-7f6a5b4c3d2e.local 54400 "
      "typ host generation 0 network-id 1";
  Candidate c = MustParse(text);
  CHECK(c.address == "3c5b6c1e-8e9a-4c2b-9d8e-7f6a5b4c3d2e.local");
  CHECK(c.addressKind == AddressKind::kMdnsHostname);
  CHECK(c.isMdns());
  CheckRoundTrip(text);
  Candidate upper = MustParse("candidate:1 1 udp 1 ABC.LOCAL 1 typ host");
  CHECK(upper.isMdns());
  Candidate fqdn = MustParse("candidate:1 1 udp 1 turn.example.com 3478 typ relay");
  CHECK(fqdn.addressKind == AddressKind::kHostname);
  CHECK_FALSE(fqdn.isMdns());
}

TEST_CASE("candidate: the C SDK's IPv4 and IPv6 forms, with its \"raddr ::/0\"") {
  const std::string v4 =
      "candidate:3306271862 1 udp 2130706431 10.0.0.5 50874 typ host raddr 0.0.0.0 rport 0 "
      "generation 0 network-cost 999";
  CheckRoundTrip(v4);
  const std::string v6 =
      "candidate:1947221432 1 udp 2130706175 2001:0DB8:0000:0000:0000:0000:0000:0005 50875 typ "
      "host raddr ::/0 rport 0 generation 0 network-cost 999";
  Candidate c = MustParse(v6);
  CHECK(c.addressKind == AddressKind::kIpv6);
  CHECK(c.relatedAddress == std::string("::/0"));
  CheckRoundTrip(v6);
  CHECK(ErrorOf("candidate:1 1 udp 1 ::1 1 typ host raddr ::/129 rport 0") ==
        "candidate: raddr \"::/129\" is not an address");
}

TEST_CASE("candidate: IPv6 forms") {
  for (const char* addr : {"::1", "2001:db8::1", "fe80::1ff:fe23:4567:890a", "::ffff:192.0.2.1",
                           "2001:db8:0:0:0:0:2:1", "::"}) {
    Candidate c = MustParse(std::string("candidate:1 1 udp 1 ") + addr + " 1 typ host");
    CHECK_MESSAGE(c.addressKind == AddressKind::kIpv6, addr);
  }
  for (const char* bad :
       {"1::2::3", "2001:db8:::1", "12345::1", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0", ":1::2"}) {
    CHECK_MESSAGE(!ParseCandidate(std::string("candidate:1 1 udp 1 ") + bad + " 1 typ host").ok(),
                  bad);
  }
}

TEST_CASE("candidate: unknown extensions are kept in order") {
  const std::string text =
      "candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host generation 2 x-foo bar ufrag u1 "
      "x-baz 7";
  Candidate c = MustParse(text);
  REQUIRE(c.extensions.size() == 2);
  CHECK(c.extensions[0] == std::make_pair(std::string("x-foo"), std::string("bar")));
  CHECK(c.extensions[1] == std::make_pair(std::string("x-baz"), std::string("7")));
  // Known fields are written first, then the extensions.
  CHECK(FormatCandidate(c) ==
        "candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host generation 2 ufrag u1 x-foo bar "
        "x-baz 7");
  CHECK(MustParse(FormatCandidate(c)) == c);
}

TEST_CASE("candidate: malformed input is rejected with the field named") {
  CHECK(ErrorOf("") == "candidate: does not start with \"candidate:\"");
  CHECK(ErrorOf("a=foo:1 1 udp 1 1.2.3.4 1 typ host") ==
        "candidate: does not start with \"candidate:\"");
  CHECK(ErrorOf("candidate:1 1 udp 1 1.2.3.4 1 typ") ==
        "candidate: expected at least 8 fields (foundation component transport priority address "
        "port typ type), got 7");
  CHECK(ErrorOf("candidate:1 0 udp 1 1.2.3.4 1 typ host") ==
        "candidate: component \"0\" is not a number from 1 to 256");
  CHECK(ErrorOf("candidate:1 257 udp 1 1.2.3.4 1 typ host") ==
        "candidate: component \"257\" is not a number from 1 to 256");
  CHECK(ErrorOf("candidate:1 1 udp 4294967296 1.2.3.4 1 typ host") ==
        "candidate: priority \"4294967296\" is not a 32-bit number");
  CHECK(ErrorOf("candidate:1 1 udp -5 1.2.3.4 1 typ host") ==
        "candidate: priority \"-5\" is not a 32-bit number");
  CHECK(ErrorOf("candidate:1 1 udp 1 1.2.3.256 1 typ host") ==
        "candidate: address \"1.2.3.256\" is neither an IPv4 or IPv6 address nor a hostname");
  CHECK(ErrorOf("candidate:1 1 udp 1 1.2.3.4 65536 typ host") ==
        "candidate: port \"65536\" is not a number from 0 to 65535");
  CHECK(ErrorOf("candidate:1 1 udp 1 1.2.3.4 1 type host") ==
        "candidate: expected \"typ\" after the port, got \"type\"");
  CHECK(ErrorOf("candidate:1 1 udp 1 1.2.3.4 1 typ stun") ==
        "candidate: type \"stun\" is not host, srflx, prflx or relay");
  CHECK(ErrorOf("candidate:1 1 tcp 1 1.2.3.4 1 typ host tcptype both") ==
        "candidate: tcptype \"both\" is not active, passive or so");
  CHECK(ErrorOf("candidate:1 1 udp 1 1.2.3.4 1 typ srflx raddr") ==
        "candidate: extension \"raddr\" has no value");
  CHECK(ErrorOf("candidate:1 1 udp 1 1.2.3.4 1 typ srflx raddr x!y rport 1") ==
        "candidate: raddr \"x!y\" is not an address");
  CHECK(ErrorOf("candidate:1 1 udp 1 1.2.3.4 1 typ host generation 0 generation 1") ==
        "candidate: duplicate generation");
  CHECK(ErrorOf("candidate:f\"oo 1 udp 1 1.2.3.4 1 typ host") ==
        "candidate: foundation \"f\\\"oo\" is not 1-64 ice-chars");
  CHECK(ErrorOf("candidate:1 1 u\x01p 1 1.2.3.4 1 typ host") ==
        "candidate: transport \"u\\x01p\" is not a token");
}

TEST_CASE("candidate: an unknown transport token is kept but flagged as other") {
  Candidate c = MustParse("candidate:1 1 ssltcp 1 192.0.2.1 443 typ host");
  CHECK(c.protocol == TransportProtocol::kOther);
  CHECK(FormatCandidate(c) == "candidate:1 1 ssltcp 1 192.0.2.1 443 typ host");
}
