#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "mdns/mdns_message.h"
#include "mdns/mdns_resolver.h"
#include "mdns/mdns_responder.h"

using kvs::ByteSpan;
using kvs::net::Address;
namespace mdns = kvs::mdns;

namespace {

const std::string kName = "1f0e3c4a-9b2d-4e5f-8a7b-6c5d4e3f2a1b.local";

// A response as Chromium's responder writes one: id 0, QR|AA, one A answer with the
// cache-flush bit, TTL 120.
std::vector<uint8_t> ChromiumStyleAnswer(const std::string& name, const Address& ip) {
  mdns::Record r;
  r.name = name;
  r.type = ip.isIpv4() ? mdns::kTypeA : mdns::kTypeAaaa;
  r.cacheFlush = true;
  r.ttl = 120;
  r.address = ip;
  auto bytes = mdns::BuildResponse({r});
  REQUIRE(bytes.ok());
  return bytes.value();
}

}  // namespace

TEST_CASE("mDNS: a query is RFC 1035 bytes with id 0 and one question per type") {
  auto q = mdns::BuildQuery({{"ab.local", mdns::kTypeA, false}});
  REQUIRE(q.ok());
  const std::vector<uint8_t> expected = {
      0, 0,   0,   0, 0,   1,   0,   0,   0,   0, 0, 0,         // header
      2, 'a', 'b', 5, 'l', 'o', 'c', 'a', 'l', 0, 0, 1, 0, 1};  // A, IN
  CHECK(q.value() == expected);
  auto qu = mdns::BuildQuery({{"ab.local.", mdns::kTypeAaaa, true}});
  REQUIRE(qu.ok());
  CHECK(qu.value().size() == expected.size());  // a trailing dot is the same name
  CHECK(qu.value()[qu.value().size() - 3] == 28);
  CHECK(qu.value()[qu.value().size() - 2] == 0x80);  // QU bit
  auto parsed = mdns::Parse(ByteSpan(qu.value()));
  REQUIRE(parsed.ok());
  REQUIRE(parsed.value().questions.size() == 1);
  CHECK(parsed.value().questions[0].name == "ab.local");
  CHECK(parsed.value().questions[0].unicastResponse);
  CHECK_FALSE(parsed.value().isResponse());
}

TEST_CASE("mDNS: bad names are refused when building") {
  for (const std::string& bad : {std::string(), std::string("a..local"), std::string(".local"),
                                 std::string(64, 'x') + ".local", std::string(250, 'a') + ".b"}) {
    auto q = mdns::BuildQuery({{bad, mdns::kTypeA, false}});
    CHECK_MESSAGE(!q.ok(), bad);
    if (!q.ok()) CHECK(q.status().code() == "ERR_MDNS_NAME");
  }
}

TEST_CASE("mDNS: responses round-trip A and AAAA with the cache-flush bit") {
  const Address v4 = *Address::Parse("10.99.0.1", 0);
  auto parsed = mdns::Parse(ByteSpan(ChromiumStyleAnswer(kName, v4)));
  REQUIRE(parsed.ok());
  const auto& m = parsed.value();
  CHECK(m.isResponse());
  REQUIRE(m.answers.size() == 1);
  CHECK(m.answers[0].name == kName);
  CHECK(m.answers[0].cacheFlush);
  CHECK(m.answers[0].rrClass == mdns::kClassIn);
  CHECK(m.answers[0].ttl == 120);
  REQUIRE(m.answers[0].address);
  CHECK(*m.answers[0].address == v4);

  const Address v6 = *Address::Parse("fd00::7", 0);
  auto p6 = mdns::Parse(ByteSpan(ChromiumStyleAnswer(kName, v6)));
  REQUIRE(p6.ok());
  REQUIRE(p6.value().answers.size() == 1);
  CHECK(*p6.value().answers[0].address == v6);
}

TEST_CASE("mDNS: compression pointers are followed backwards only") {
  // Header (1 question, 1 answer); the question names "x.local"; the answer points at it.
  std::vector<uint8_t> msg = {
      0, 0,   0x84, 0,   0,   1,   0, 1,   0, 0, 0,  0,    1,  'x',
      5, 'l', 'o',  'c', 'a', 'l', 0, 0,   1, 0, 1,  0xC0, 12,  // pointer to offset 12
      0, 1,   0x80, 1,   0,   0,   0, 120, 0, 4, 10, 0,    0,  9};
  auto ok = mdns::Parse(ByteSpan(msg));
  REQUIRE(ok.ok());
  REQUIRE(ok.value().answers.size() == 1);
  CHECK(ok.value().answers[0].name == "x.local");
  CHECK(ok.value().answers[0].address->IpString() == "10.0.0.9");

  // A label then a pointer into the middle of the "local" label: still backwards, so legal.
  std::vector<uint8_t> suffix = msg;
  suffix[25] = 0xC0;
  suffix[26] = 14;  // "local" alone
  auto s = mdns::Parse(ByteSpan(suffix));
  REQUIRE(s.ok());
  CHECK(s.value().answers[0].name == "local");

  // A pointer to itself, and one forwards: refused, never followed.
  for (uint8_t target : {uint8_t{25}, uint8_t{30}}) {
    std::vector<uint8_t> bad = msg;
    bad[26] = target;
    auto r = mdns::Parse(ByteSpan(bad));
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.status().code() == "ERR_MDNS_NAME");
  }
}

TEST_CASE("mDNS: truncation anywhere is ERR_MDNS_TRUNCATED, never a read past the end") {
  const auto whole = ChromiumStyleAnswer(kName, *Address::Parse("10.99.0.1", 0));
  for (size_t n = 0; n < whole.size(); ++n) {
    auto r = mdns::Parse(ByteSpan(whole.data(), n));
    CHECK_FALSE(r.ok());
    if (!r.ok()) {
      CHECK((r.status().code() == "ERR_MDNS_TRUNCATED" || r.status().code() == "ERR_MDNS_NAME"));
    }
  }
  // Counts that promise more than there is.
  std::vector<uint8_t> liar = {0, 0, 0x84, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0};
  CHECK_FALSE(mdns::Parse(ByteSpan(liar)).ok());
}

TEST_CASE("mDNS: names compare without case; candidate names are one label under .local") {
  CHECK(mdns::SameName("ABC.Local", "abc.local."));
  CHECK_FALSE(mdns::SameName("abc.local", "abd.local"));
  CHECK(mdns::IsMdnsCandidateName(kName));
  CHECK(mdns::IsMdnsCandidateName("host.LOCAL"));
  CHECK_FALSE(mdns::IsMdnsCandidateName("a.b.local"));
  CHECK_FALSE(mdns::IsMdnsCandidateName(".local"));
  CHECK_FALSE(mdns::IsMdnsCandidateName("example.com"));
}

TEST_CASE(
    "mDNS resolver: queries A and AAAA, repeats after 1 s then doubling, settles on the answer") {
  mdns::Resolver r;
  CHECK(r.Resolve(kName, 1000));
  auto q = r.TakeQueries();
  REQUIRE(q.size() == 2);
  auto a = mdns::Parse(ByteSpan(q[0]));
  auto aaaa = mdns::Parse(ByteSpan(q[1]));
  REQUIRE((a.ok() && aaaa.ok()));
  CHECK(a.value().questions.at(0).type == mdns::kTypeA);
  CHECK(aaaa.value().questions.at(0).type == mdns::kTypeAaaa);
  CHECK(a.value().questions.at(0).name == kName);

  r.Tick(1500);
  CHECK(r.TakeQueries().empty());
  r.Tick(2000);
  CHECK(r.TakeQueries().size() == 2);  // 1 s later
  r.Tick(3900);
  CHECK(r.TakeQueries().empty());
  r.Tick(4000);
  CHECK(r.TakeQueries().size() == 2);  // 2 s after that
  CHECK(r.pending() == 1);

  // An answer for another name changes nothing; ours (in another case) settles it.
  CHECK_FALSE(r.HandlePacket(
      ByteSpan(ChromiumStyleAnswer("other.local", *Address::Parse("10.0.0.2", 0))), 4100));
  std::string upper = kName;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(
      r.HandlePacket(ByteSpan(ChromiumStyleAnswer(upper, *Address::Parse("10.99.0.1", 0))), 4200));
  auto outcomes = r.TakeOutcomes();
  REQUIRE(outcomes.size() == 1);
  CHECK(outcomes[0].name == kName);
  REQUIRE(outcomes[0].address);
  CHECK(outcomes[0].address->IpString() == "10.99.0.1");
  CHECK(r.pending() == 0);
  CHECK_FALSE(r.NextTickMs());

  // Asked again, the cached answer comes at once, without a query.
  CHECK(r.Resolve(kName, 5000));
  CHECK(r.TakeQueries().empty());
  CHECK(r.TakeOutcomes().size() == 1);
}

TEST_CASE("mDNS resolver: a query sent is no answer; an unanswered name times out with a reason") {
  mdns::ResolverConfig cfg;
  cfg.timeoutMs = 3000;
  mdns::Resolver r(cfg);
  REQUIRE(r.Resolve(kName, 0));
  const auto queries = r.TakeQueries();
  // Our own query looped back by the kernel is not a response.
  CHECK_FALSE(r.HandlePacket(ByteSpan(queries[0]), 10));
  for (uint64_t t = 100; t < 3000; t += 100) r.Tick(t);
  CHECK(r.TakeOutcomes().empty());
  r.Tick(3000);
  auto outcomes = r.TakeOutcomes();
  REQUIRE(outcomes.size() == 1);
  CHECK_FALSE(outcomes[0].address);
  CHECK(outcomes[0].reason.find("not resolved within 3000 ms") != std::string::npos);
  CHECK(r.pending() == 0);
}

TEST_CASE("mDNS resolver: a starved loop's gap does not count against the timeout") {
  mdns::ResolverConfig cfg;
  cfg.timeoutMs = 3000;
  mdns::Resolver r(cfg);
  REQUIRE(r.Resolve(kName, 0));
  r.Tick(100);
  r.Tick(8000);  // the loop stood still for ~8 s
  CHECK(r.TakeOutcomes().empty());
  CHECK(
      r.HandlePacket(ByteSpan(ChromiumStyleAnswer(kName, *Address::Parse("10.99.0.1", 0))), 8001));
  CHECK(r.TakeOutcomes().at(0).address.has_value());
}

TEST_CASE(
    "mDNS resolver: names that are not candidate names, or too many, are refused with a reason") {
  mdns::ResolverConfig cfg;
  cfg.maxNames = 2;
  mdns::Resolver r(cfg);
  CHECK_FALSE(r.Resolve("host.example.com", 0));
  CHECK(r.Resolve("a.local", 0));
  CHECK(r.Resolve("b.local", 0));
  CHECK_FALSE(r.Resolve("c.local", 0));
  auto outcomes = r.TakeOutcomes();
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].reason.find("not an mDNS candidate name") != std::string::npos);
  CHECK(outcomes[1].reason.find("too many mDNS names") != std::string::npos);
}

TEST_CASE("mDNS responder: names are v4 UUIDs under .local, one per address") {
  mdns::Responder r;
  const uint8_t zeros[16] = {};
  const uint8_t ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  CHECK(mdns::UuidV4(zeros) == "00000000-0000-4000-8000-000000000000");
  CHECK(mdns::UuidV4(ones) == "ffffffff-ffff-4fff-bfff-ffffffffffff");
  const std::string a = r.NameFor(*Address::Parse("10.99.0.1", 5000), zeros);
  CHECK(a == "00000000-0000-4000-8000-000000000000.local");
  CHECK(r.NameFor(*Address::Parse("10.99.0.1", 6000), ones) == a);  // same IP, same name
  CHECK(r.NameFor(*Address::Parse("fd00::1", 0), ones) != a);
  CHECK(r.size() == 2);
  CHECK(mdns::IsMdnsCandidateName(a));
}

TEST_CASE("mDNS responder: answers A for an IPv4 name, multicast from 5353, unicast when asked") {
  mdns::Responder r;
  const uint8_t id[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const std::string name = r.NameFor(*Address::Parse("10.99.0.1", 0), id);
  const Address peer5353 = *Address::Parse("10.99.0.7", 5353);

  auto query = mdns::BuildQuery({{name, mdns::kTypeA, false}});
  REQUIRE(query.ok());
  auto reply = r.HandleQuery(ByteSpan(query.value()), peer5353);
  REQUIRE(reply);
  CHECK_FALSE(reply->unicastTo);
  auto parsed = mdns::Parse(ByteSpan(reply->bytes));
  REQUIRE(parsed.ok());
  CHECK(parsed.value().isResponse());
  REQUIRE(parsed.value().answers.size() == 1);
  CHECK(parsed.value().answers[0].address->IpString() == "10.99.0.1");
  CHECK(parsed.value().answers[0].cacheFlush);
  CHECK(parsed.value().answers[0].ttl == 120);

  // The resolver on the other side settles on exactly this reply.
  mdns::Resolver resolver;
  REQUIRE(resolver.Resolve(name, 0));
  CHECK(resolver.HandlePacket(ByteSpan(reply->bytes), 1));
  CHECK(resolver.TakeOutcomes().at(0).address->IpString() == "10.99.0.1");

  // AAAA for an IPv4 name, another name, a response: no reply.
  auto aaaa = mdns::BuildQuery({{name, mdns::kTypeAaaa, false}});
  CHECK_FALSE(r.HandleQuery(ByteSpan(aaaa.value()), peer5353));
  auto other = mdns::BuildQuery({{"other.local", mdns::kTypeA, false}});
  CHECK_FALSE(r.HandleQuery(ByteSpan(other.value()), peer5353));
  CHECK_FALSE(r.HandleQuery(ByteSpan(reply->bytes), peer5353));

  // QU, and a legacy resolver on another port: unicast back to it, its id echoed.
  auto qu = mdns::BuildQuery({{name, mdns::kTypeAny, true}});
  auto uni = r.HandleQuery(ByteSpan(qu.value()), peer5353);
  REQUIRE(uni);
  CHECK(uni->unicastTo == peer5353);
  std::vector<uint8_t> legacy = query.value();
  legacy[0] = 0x12;
  legacy[1] = 0x34;
  const Address oneShot = *Address::Parse("10.99.0.7", 40000);
  auto l = r.HandleQuery(ByteSpan(legacy), oneShot);
  REQUIRE(l);
  CHECK(l->unicastTo == oneShot);
  CHECK(l->bytes[0] == 0x12);
  CHECK(l->bytes[1] == 0x34);
  CHECK_FALSE(mdns::Parse(ByteSpan(l->bytes)).value().answers.at(0).cacheFlush);
}
