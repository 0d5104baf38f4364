#include <doctest/doctest.h>

#include "ice/srflx_gatherer.h"
#include "stun/stun_builders.h"
#include "stun/stun_codec.h"

using kvs::ice::SrflxGatherer;
using kvs::net::Address;

namespace {

kvs::ice::RandomSource Counter() {
  return [n = uint8_t{0}](uint8_t* out, size_t len) mutable {
    for (size_t i = 0; i < len; ++i) out[i] = ++n;
  };
}

// What a STUN server answers to `request`, reporting `mapped`.
std::vector<uint8_t> Answer(const std::vector<uint8_t>& request, const Address& mapped) {
  auto req = kvs::stun::Parse(kvs::ByteSpan(request));
  REQUIRE(req.ok());
  auto bytes = kvs::stun::Serialize(kvs::stun::BindingSuccess(req.value().transactionId, mapped),
                                    kvs::stun::EncodeOptions{false, false, {}, true, 0});
  REQUIRE(bytes.ok());
  return bytes.take();
}

}  // namespace

TEST_CASE("a NAT's mapped address becomes a server-reflexive candidate, counted per server") {
  SrflxGatherer g(Counter());
  const Address server = *Address::Parse("198.51.100.1", 3478);
  const Address host = *Address::Parse("10.0.0.2", 5000);
  g.AddServer("stun:198.51.100.1", server);
  g.AddHost(0, host, 1000);
  auto out = g.TakeOutgoing();
  REQUIRE(out.size() == 1);
  CHECK(out[0].to == server);
  CHECK_FALSE(g.done());
  const Address mapped = *Address::Parse("203.0.113.9", 40000);
  std::optional<kvs::ice::ServerReflexive> found;
  // From somewhere else, or on another socket: not ours.
  CHECK_FALSE(g.HandleResponse(0, *Address::Parse("198.51.100.2", 3478),
                               kvs::ByteSpan(Answer(out[0].bytes, mapped)), 1010, &found));
  CHECK_FALSE(
      g.HandleResponse(1, server, kvs::ByteSpan(Answer(out[0].bytes, mapped)), 1010, &found));
  REQUIRE(g.HandleResponse(0, server, kvs::ByteSpan(Answer(out[0].bytes, mapped)), 1020, &found));
  REQUIRE(found.has_value());
  CHECK(found->mapped == mapped);
  CHECK(found->base == host);
  CHECK(g.done());
  CHECK(g.stats()[0].requestsSent == 1);
  CHECK(g.stats()[0].responsesReceived == 1);
  CHECK(g.stats()[0].totalRoundTripTimeMs == 20);
}

TEST_CASE("without a NAT the mapped address is the host's own and no candidate is made") {
  SrflxGatherer g(Counter());
  const Address server = *Address::Parse("127.0.0.1", 3478);
  const Address host = *Address::Parse("127.0.0.1", 5000);
  g.AddServer("stun:127.0.0.1", server);
  g.AddHost(0, host, 0);
  auto out = g.TakeOutgoing();
  REQUIRE(out.size() == 1);
  std::optional<kvs::ice::ServerReflexive> found;
  REQUIRE(g.HandleResponse(0, server, kvs::ByteSpan(Answer(out[0].bytes, host)), 5, &found));
  CHECK_FALSE(found.has_value());
  CHECK(g.done());
}

TEST_CASE("an unanswered request is retransmitted, then given up; other families are skipped") {
  SrflxGatherer g(Counter(), /*initialRtoMs=*/100, /*maxTransmissions=*/3);
  g.AddServer("stun:198.51.100.1", *Address::Parse("198.51.100.1", 3478));
  g.AddServer("stun:[2001:db8::1]", *Address::Parse("2001:db8::1", 3478));
  g.AddHost(0, *Address::Parse("10.0.0.2", 5000), 0);
  CHECK(g.TakeOutgoing().size() == 1);  // only the IPv4 server
  g.Tick(100);
  CHECK(g.TakeOutgoing().size() == 1);
  g.Tick(250);
  CHECK(g.TakeOutgoing().empty());  // next one is due at 300
  g.Tick(300);
  CHECK(g.TakeOutgoing().size() == 1);
  CHECK_FALSE(g.done());
  g.Tick(2000);
  CHECK(g.done());
  CHECK(g.stats()[0].requestsSent == 1);
  CHECK(g.stats()[0].responsesReceived == 0);
}
