// Data channels (RFC 8831, RFC 8832) over two in-memory associations.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>

#include "sctp/data_channels.h"
#include "sctp/dcep.h"
#include "sctp_channels_util.h"

using namespace kvs;
using namespace kvs::sctp;
using kvs::testing::ChannelsPair;
using kvs::testing::DataChunks;
using kvs::testing::Pattern;

namespace {

std::vector<uint8_t> Text(const std::string& s) { return {s.begin(), s.end()}; }

DataChannelInit Named(const std::string& label, const std::string& protocol = "") {
  DataChannelInit init;
  init.label = label;
  init.protocol = protocol;
  return init;
}

// The sequence number a test wrote into the first four bytes of a message.
uint32_t Seq(const std::vector<uint8_t>& m) {
  return (uint32_t(m[0]) << 24) | (uint32_t(m[1]) << 16) | (uint32_t(m[2]) << 8) | m[3];
}

std::vector<uint8_t> Numbered(uint32_t seq, size_t size) {
  std::vector<uint8_t> m = Pattern(size, seq);
  m[0] = static_cast<uint8_t>(seq >> 24);
  m[1] = static_cast<uint8_t>(seq >> 16);
  m[2] = static_cast<uint8_t>(seq >> 8);
  m[3] = static_cast<uint8_t>(seq);
  return m;
}

}  // namespace

TEST_CASE("Data channels: in-band channels from both sides, ids by DTLS role") {
  ChannelsPair p;
  p.Start();
  auto fromClient = p.peer[0].dc->CreateChannel(Named("chat", "proto-a"));
  auto fromServer = p.peer[1].dc->CreateChannel(Named("files"));
  REQUIRE(fromClient.ok());
  REQUIRE(fromServer.ok());
  CHECK(fromClient.value() == 0);  // the DTLS client opens even ids
  CHECK(fromServer.value() == 1);  // the server odd ones
  auto second = p.peer[0].dc->CreateChannel(Named("more"));
  REQUIRE(second.ok());
  CHECK(second.value() == 2);
  // Not open until a Poll, never inside CreateChannel.
  CHECK(p.peer[0].opened.empty());
  REQUIRE(p.RunUntil([&] {
    return p.peer[0].opened.size() == 3 && p.peer[1].opened.size() == 3 &&
           p.peer[1].announced.size() == 2 && p.peer[0].announced.size() == 1;
  }));
  CHECK(p.peer[1].announced[0].id == 0);
  CHECK(p.peer[1].announced[0].label == "chat");
  CHECK(p.peer[1].announced[0].protocol == "proto-a");
  CHECK_FALSE(p.peer[1].announced[0].negotiated);
  CHECK(p.peer[0].announced[0].id == 1);
  CHECK(p.peer[0].announced[0].label == "files");
  CHECK(*p.peer[1].dc->State(2) == DataChannelState::kOpen);

  REQUIRE(p.peer[0].dc->SendText(0, "hello").ok());
  REQUIRE(p.peer[1].dc->SendText(0, "hello back").ok());
  REQUIRE(p.peer[1].dc->SendBinary(1, ByteSpan(Pattern(100, 1))).ok());
  REQUIRE(p.RunUntil([&] {
    return p.peer[1].count(0) == 1 && p.peer[0].count(0) == 1 && p.peer[0].count(1) == 1;
  }));
  CHECK(p.peer[1].messages[0][0].data == Text("hello"));
  CHECK_FALSE(p.peer[1].messages[0][0].binary);
  CHECK(p.peer[0].messages[0][0].data == Text("hello back"));
  CHECK(p.peer[0].messages[1][0].data == Pattern(100, 1));
  CHECK(p.peer[0].messages[1][0].binary);
}

TEST_CASE("Data channels: created before the association is up, they open with it") {
  ChannelsPair p;
  REQUIRE(p.peer[0].dc->CreateChannel(Named("early")).ok());
  DataChannelInit n;
  n.negotiated = true;
  n.id = 9;
  REQUIRE(p.peer[0].dc->CreateChannel(n).ok());
  REQUIRE(p.peer[1].dc->CreateChannel(n).ok());
  CHECK(p.peer[0].dc->SendText(0, "too soon").code() == "ERR_DATACHANNEL_STATE");
  p.Start();
  REQUIRE(p.RunUntil([&] { return p.peer[0].opened.size() == 2 && p.peer[1].opened.size() == 2; }));
  REQUIRE(p.peer[1].announced.size() == 1);
  CHECK(p.peer[1].announced[0].label == "early");
}

TEST_CASE("Data channels: negotiated channels send no DCEP") {
  ChannelsPair p;
  size_t dcepChunks = 0;
  p.link.SetTap([&](int, ByteSpan pkt) {
    for (const auto& c : DataChunks(pkt)) dcepChunks += c.ppid == kPpidDcep;
  });
  p.Start();
  DataChannelInit n;
  n.label = "neg";
  n.negotiated = true;
  n.id = 4;
  auto a = p.peer[0].dc->CreateChannel(n);
  auto b = p.peer[1].dc->CreateChannel(n);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a.value() == 4);
  REQUIRE(p.RunUntil([&] { return !p.peer[0].opened.empty() && !p.peer[1].opened.empty(); }));
  REQUIRE(p.peer[0].dc->SendText(4, "x").ok());
  REQUIRE(p.peer[1].dc->SendText(4, "y").ok());
  REQUIRE(p.RunUntil([&] { return p.peer[0].count(4) == 1 && p.peer[1].count(4) == 1; }));
  CHECK(dcepChunks == 0);
  CHECK(p.peer[0].announced.empty());
  CHECK(p.peer[1].announced.empty());
  // The id is taken now, and negotiated channels need one.
  CHECK(p.peer[0].dc->CreateChannel(n).status().code() == "ERR_DATACHANNEL_ID_IN_USE");
  n.id.reset();
  CHECK(p.peer[0].dc->CreateChannel(n).status().code() == "ERR_DATACHANNEL_ID_REQUIRED");
  n.id = 1024;
  CHECK(p.peer[0].dc->CreateChannel(n).status().code() == "ERR_DATACHANNEL_ID");
}

TEST_CASE("Data channels: DCEP on the wire, and ordered only until the ACK") {
  ChannelsPair p;
  std::vector<kvs::testing::DataChunk> fromClient;
  p.link.SetTap([&](int side, ByteSpan pkt) {
    if (side != 0) return;
    for (auto& c : DataChunks(pkt)) fromClient.push_back(std::move(c));
  });
  p.Start();
  DataChannelInit init = Named("u", "p");
  init.ordered = false;
  init.maxRetransmits = 3;
  // Sent from the open event: before the peer's ACK can have arrived.
  p.peer[0].onOpen = [&](uint16_t id) { REQUIRE(p.peer[0].dc->SendText(id, "first").ok()); };
  auto id = p.peer[0].dc->CreateChannel(init);
  REQUIRE(id.ok());
  REQUIRE(p.RunUntil([&] { return p.peer[1].count(id.value()) == 1; }));
  REQUIRE(p.peer[0].dc->SendText(id.value(), "second").ok());
  REQUIRE(p.RunUntil([&] { return p.peer[1].count(id.value()) == 2; }));

  REQUIRE(fromClient.size() == 3);
  // 1. DATA_CHANNEL_OPEN, ordered, PPID 50, exactly the RFC 8832 layout.
  CHECK(fromClient[0].ppid == kPpidDcep);
  CHECK_FALSE(fromClient[0].unordered);
  CHECK(fromClient[0].payload ==
        std::vector<uint8_t>({0x03, 0x81, 0x01, 0x00, 0, 0, 0, 3, 0, 1, 0, 1, 'u', 'p'}));
  // 2. A message sent before the ACK goes ordered although the channel is unordered.
  CHECK(fromClient[1].ppid == kPpidString);
  CHECK_FALSE(fromClient[1].unordered);
  // 3. After the ACK: unordered.
  CHECK(fromClient[2].payload == Text("second"));
  CHECK(fromClient[2].unordered);
  // The peer learned the channel's parameters from the OPEN.
  REQUIRE(p.peer[1].announced.size() == 1);
  CHECK_FALSE(p.peer[1].announced[0].ordered);
  CHECK(p.peer[1].announced[0].maxRetransmits == 3u);
  CHECK_FALSE(p.peer[1].announced[0].maxPacketLifeTimeMs);
}

TEST_CASE("Data channels: the ACK on the wire is one byte on the same stream") {
  ChannelsPair p;
  std::vector<kvs::testing::DataChunk> fromServer;
  p.link.SetTap([&](int side, ByteSpan pkt) {
    if (side != 1) return;
    for (auto& c : DataChunks(pkt)) fromServer.push_back(std::move(c));
  });
  p.Start();
  DataChannelInit init = Named("t");
  init.maxPacketLifeTimeMs = 1500;
  auto id = p.peer[0].dc->CreateChannel(init);
  REQUIRE(id.ok());
  REQUIRE(p.RunUntil([&] { return !fromServer.empty(); }));
  CHECK(fromServer[0].streamId == id.value());
  CHECK(fromServer[0].ppid == kPpidDcep);
  CHECK(fromServer[0].payload == std::vector<uint8_t>{0x02});
  REQUIRE(p.peer[1].announced.size() == 1);
  CHECK(p.peer[1].announced[0].maxPacketLifeTimeMs == 1500u);
  CHECK(p.peer[1].announced[0].ordered);
}

TEST_CASE("Data channels: strings, binary and empty messages, with the RFC 8831 PPIDs") {
  ChannelsPair p;
  std::vector<kvs::testing::DataChunk> wire;
  p.link.SetTap([&](int side, ByteSpan pkt) {
    if (side != 0) return;
    for (auto& c : DataChunks(pkt)) {
      if (c.ppid != kPpidDcep) wire.push_back(std::move(c));
    }
  });
  p.Start();
  auto id = p.peer[0].dc->CreateChannel(Named("kinds"));
  REQUIRE(id.ok());
  REQUIRE(p.RunUntil([&] { return !p.peer[0].opened.empty(); }));
  REQUIRE(p.peer[0].dc->SendText(0, "text").ok());
  REQUIRE(p.peer[0].dc->SendBinary(0, ByteSpan(Text("bin"))).ok());
  REQUIRE(p.peer[0].dc->SendText(0, "").ok());
  REQUIRE(p.peer[0].dc->Send(0, {}, true).ok());
  REQUIRE(p.RunUntil([&] { return p.peer[1].count(0) == 4; }));
  const auto& got = p.peer[1].messages[0];
  CHECK(got[0].data == Text("text"));
  CHECK_FALSE(got[0].binary);
  CHECK(got[1].data == Text("bin"));
  CHECK(got[1].binary);
  CHECK(got[2].data.empty());
  CHECK_FALSE(got[2].binary);
  CHECK(got[3].data.empty());
  CHECK(got[3].binary);
  REQUIRE(wire.size() == 4);
  CHECK(wire[0].ppid == kPpidString);
  CHECK(wire[1].ppid == kPpidBinary);
  CHECK(wire[2].ppid == kPpidStringEmpty);
  CHECK(wire[2].payload == std::vector<uint8_t>{0});  // one zero byte (RFC 8831 §6.6)
  CHECK(wire[3].ppid == kPpidBinaryEmpty);
  CHECK(wire[3].payload == std::vector<uint8_t>{0});
  auto stats = p.peer[1].dc->Stats(0);
  REQUIRE(stats.ok());
  CHECK(stats.value().messagesReceived == 4);
  CHECK(stats.value().bytesReceived == 7);
  auto sent = p.peer[0].dc->Stats(0);
  CHECK(sent.value().messagesSent == 4);
  CHECK(sent.value().bytesSent == 7);
  CHECK(sent.value().label == "kinds");
  CHECK(sent.value().state == DataChannelState::kOpen);
}

TEST_CASE("Data channels: ordered and unordered delivery") {
  ChannelsPair p;
  p.Start();
  auto ordered = p.peer[0].dc->CreateChannel(Named("o"));
  DataChannelInit u = Named("u");
  u.ordered = false;
  auto unordered = p.peer[0].dc->CreateChannel(u);
  REQUIRE(ordered.ok());
  REQUIRE(unordered.ok());
  REQUIRE(p.RunUntil([&] { return p.peer[0].opened.size() == 2 && p.peer[1].opened.size() == 2; }));
  p.link.SetLoss(0.05);  // reordering comes from retransmissions
  for (uint32_t i = 0; i < 500; ++i) {
    REQUIRE(p.peer[0].dc->Send(ordered.value(), Numbered(i, 300), true).ok());
    REQUIRE(p.peer[0].dc->Send(unordered.value(), Numbered(i, 300), true).ok());
  }
  REQUIRE(p.RunUntil(
      [&] {
        return p.peer[1].count(ordered.value()) == 500 && p.peer[1].count(unordered.value()) == 500;
      },
      120000));
  std::vector<uint32_t> seqO;
  std::vector<uint32_t> seqU;
  for (const auto& m : p.peer[1].messages[ordered.value()]) seqO.push_back(Seq(m.data));
  for (const auto& m : p.peer[1].messages[unordered.value()]) seqU.push_back(Seq(m.data));
  CHECK(std::is_sorted(seqO.begin(), seqO.end()));
  std::vector<uint32_t> sortedU = seqU;
  std::sort(sortedU.begin(), sortedU.end());
  for (uint32_t i = 0; i < 500; ++i) REQUIRE(sortedU[i] == i);  // all there, once each
  CHECK_FALSE(std::is_sorted(seqU.begin(), seqU.end()));        // and some overtook others
}

TEST_CASE("Data channels: a 16 MiB message each way arrives byte-exact") {
  DataChannelsConfig c;
  c.remoteMaxMessageSize = 0;  // no limit
  ChannelsPair p(c);
  p.Start();
  auto id = p.peer[0].dc->CreateChannel(Named("big"));
  REQUIRE(id.ok());
  REQUIRE(p.RunUntil([&] { return !p.peer[0].opened.empty() && !p.peer[1].opened.empty(); }));
  const size_t kSize = 16 * 1024 * 1024;
  REQUIRE(p.peer[0].dc->Send(0, Pattern(kSize, 1), true).ok());
  REQUIRE(p.peer[1].dc->Send(0, Pattern(kSize, 2), true).ok());
  REQUIRE(p.RunUntil([&] { return p.peer[1].count(0) == 1 && p.peer[0].count(0) == 1; }, 120000));
  CHECK(p.peer[1].messages[0][0].data == Pattern(kSize, 1));
  CHECK(p.peer[0].messages[0][0].data == Pattern(kSize, 2));
}

TEST_CASE("Data channels: 64 MiB streamed with back-pressure arrive complete and in order") {
  DataChannelsConfig c;
  c.maxBufferedBytes = 4 * 1024 * 1024;
  ChannelsPair p(c);
  p.Start();
  auto id = p.peer[0].dc->CreateChannel(Named("stream"));
  REQUIRE(id.ok());
  REQUIRE(p.RunUntil([&] { return !p.peer[0].opened.empty(); }));
  constexpr size_t kMessage = 16 * 1024;
  constexpr uint32_t kCount = 64 * 1024 * 1024 / kMessage;
  constexpr size_t kHigh = 1024 * 1024;
  constexpr size_t kLow = 256 * 1024;
  REQUIRE(p.peer[0].dc->SetBufferedAmountLowThreshold(0, kLow).ok());
  uint32_t next = 0;
  size_t maxBuffered = 0;
  int refused = 0;
  // Fill to the high mark; the low event refills.
  auto fill = [&] {
    while (next < kCount && p.peer[0].dc->BufferedAmount(0) < kHigh) {
      if (!p.peer[0].dc->Send(0, Numbered(next, kMessage), true).ok()) {
        ++refused;
        return;
      }
      ++next;
      maxBuffered = std::max(maxBuffered, p.peer[0].dc->BufferedAmount(0));
    }
  };
  p.peer[0].onLow = [&](uint16_t) { fill(); };
  uint32_t expected = 0;
  bool inOrder = true;
  bool intact = true;
  p.peer[1].onMessage = [&](uint16_t, const std::vector<uint8_t>& m, bool) {
    if (m.size() != kMessage || Seq(m) != expected) inOrder = false;
    if (m != Numbered(expected, kMessage)) intact = false;
    ++expected;
  };
  fill();
  REQUIRE(p.RunUntil([&] { return expected == kCount; }, 600000));
  CHECK(inOrder);
  CHECK(intact);
  CHECK(refused == 0);
  CHECK(maxBuffered <= kHigh + kMessage);
  CHECK(p.peer[0].low.size() > 10);  // refilled by the event, many times
  CHECK(p.peer[0].dc->BufferedAmount(0) == 0);
  auto stats = p.peer[1].dc->Stats(0);
  CHECK(stats.value().bytesReceived == uint64_t(kCount) * kMessage);
}

TEST_CASE("Data channels: 5% loss, reliable delivers all, maxRetransmits 0 never stalls") {
  DataChannelsConfig c;
  ChannelsPair p(c, 20240601);
  p.Start();
  auto reliable = p.peer[0].dc->CreateChannel(Named("reliable"));
  DataChannelInit lossy = Named("lossy");
  lossy.maxRetransmits = 0;
  auto unreliable = p.peer[0].dc->CreateChannel(lossy);
  REQUIRE(reliable.ok());
  REQUIRE(unreliable.ok());
  REQUIRE(p.RunUntil([&] { return p.peer[0].opened.size() == 2 && p.peer[1].opened.size() == 2; }));
  p.link.SetLoss(0.05);
  constexpr uint32_t kCount = 2000;
  // Paced: a burst every 10 ms of fake time, as a real sender would be.
  for (uint32_t i = 0; i < kCount; i += 20) {
    for (uint32_t k = i; k < i + 20; ++k) {
      REQUIRE(p.peer[0].dc->Send(reliable.value(), Numbered(k, 1000), true).ok());
      REQUIRE(p.peer[0].dc->Send(unreliable.value(), Numbered(k, 1000), true).ok());
    }
    p.link.Flush();
    kvs::testing::FakeClock::Advance(10);
  }
  REQUIRE(p.RunUntil([&] { return p.peer[1].count(reliable.value()) == kCount; }, 300000));
  CHECK(p.link.droppedPackets(0) > 50);
  // Reliable: everything, in order, intact.
  const auto& r = p.peer[1].messages[reliable.value()];
  for (uint32_t i = 0; i < kCount; ++i) {
    REQUIRE(r[i].data == Numbered(i, 1000));
  }
  // maxRetransmits 0: what arrived is in order and intact, losses were skipped...
  const auto& u = p.peer[1].messages[unreliable.value()];
  CHECK(u.size() < kCount);
  CHECK(u.size() > kCount / 2);
  uint32_t last = 0;
  bool first = true;
  for (const auto& m : u) {
    const uint32_t s = Seq(m.data);
    CHECK((first || s > last));
    CHECK(m.data == Numbered(s, 1000));
    last = s;
    first = false;
  }
  // ...and the channel does not stall behind them: a message sent after the losses comes
  // through at once.
  p.link.SetLoss(0);
  const size_t before = u.size();
  REQUIRE(p.peer[0].dc->Send(unreliable.value(), Numbered(kCount, 1000), true).ok());
  REQUIRE(p.RunUntil([&] { return p.peer[1].count(unreliable.value()) == before + 1; }, 2000));
  CHECK(Seq(p.peer[1].messages[unreliable.value()].back().data) == kCount);
}

TEST_CASE("Data channels: closing one of three leaves the other two working") {
  ChannelsPair p;
  p.Start();
  for (const char* label : {"a", "b", "c"}) REQUIRE(p.peer[0].dc->CreateChannel(Named(label)).ok());
  REQUIRE(p.RunUntil([&] { return p.peer[0].opened.size() == 3 && p.peer[1].opened.size() == 3; }));
  // Queued data on the closing channel is delivered before the reset.
  REQUIRE(p.peer[0].dc->SendText(2, "last words").ok());
  REQUIRE(p.peer[0].dc->CloseChannel(2).ok());
  CHECK(*p.peer[0].dc->State(2) == DataChannelState::kClosing);
  CHECK(p.peer[0].dc->SendText(2, "more").code() == "ERR_DATACHANNEL_STATE");
  REQUIRE(p.RunUntil(
      [&] { return p.peer[0].has(p.peer[0].closed, 2) && p.peer[1].has(p.peer[1].closed, 2); }));
  CHECK(p.peer[1].count(2) == 1);
  CHECK(p.peer[1].has(p.peer[1].closing, 2));  // the remote side saw it closing first
  CHECK_FALSE(p.peer[0].dc->State(2).has_value());
  CHECK(p.peer[0].closed.size() == 1);
  CHECK(p.peer[1].closed.size() == 1);
  // The other two still work both ways.
  REQUIRE(p.peer[0].dc->SendText(0, "to a").ok());
  REQUIRE(p.peer[1].dc->SendText(4, "to c").ok());
  REQUIRE(p.RunUntil([&] { return p.peer[1].count(0) == 1 && p.peer[0].count(4) == 1; }));
  // The id is free again.
  auto again = p.peer[0].dc->CreateChannel(Named("b2"));
  REQUIRE(again.ok());
  CHECK(again.value() == 2);
  REQUIRE(p.RunUntil([&] { return p.peer[1].announced.size() == 4; }));
  CHECK(p.peer[1].announced[3].label == "b2");
  REQUIRE(p.peer[0].dc->SendText(2, "new b").ok());
  REQUIRE(p.RunUntil([&] { return p.peer[1].count(2) == 2; }));
}

TEST_CASE("Data channels: the peer's reset closes ours") {
  ChannelsPair p;
  p.Start();
  REQUIRE(p.peer[1].dc->CreateChannel(Named("x")).ok());
  REQUIRE(p.RunUntil([&] { return !p.peer[0].opened.empty(); }));
  REQUIRE(p.peer[1].dc->CloseChannel(1).ok());
  REQUIRE(p.RunUntil([&] { return !p.peer[0].closed.empty() && !p.peer[1].closed.empty(); }));
  CHECK(p.peer[0].closing == std::vector<uint16_t>{1});
  CHECK(p.peer[0].closed == std::vector<uint16_t>{1});
}

TEST_CASE("Data channels: an OPEN that breaks the parity rule is refused") {
  // Both sides believe they are the DTLS client: each one's OPEN has the other's parity.
  ChannelsPair p({}, 1, /*bothClients=*/true);
  p.Start();
  REQUIRE(p.peer[0].dc->CreateChannel(Named("bad")).ok());
  REQUIRE(p.RunUntil([&] { return !p.peer[1].errors.empty(); }));
  CHECK(p.peer[1].errors[0].second.code() == "ERR_DATACHANNEL_OPEN_REFUSED");
  CHECK(p.peer[1].announced.empty());
  // No ACK, and the stream is reset: the opener's channel closes.
  REQUIRE(p.RunUntil([&] { return !p.peer[0].closed.empty(); }));
}

TEST_CASE("Data channels: a send over the remote max-message-size fails at once") {
  DataChannelsConfig c;  // the SDP omitted max-message-size: 65536
  ChannelsPair p(c);
  p.Start();
  REQUIRE(p.peer[0].dc->CreateChannel(Named("m")).ok());
  REQUIRE(p.RunUntil([&] { return !p.peer[0].opened.empty(); }));
  Status st = p.peer[0].dc->Send(0, Pattern(65537, 1), true);
  CHECK(st.code() == "ERR_DATACHANNEL_MESSAGE_TOO_LARGE");
  CHECK(st.message().find("65537") != std::string::npos);
  CHECK(st.message().find("65536") != std::string::npos);
  CHECK(p.peer[0].dc->BufferedAmount(0) == 0);
  CHECK(p.peer[0].dc->Send(0, Pattern(65536, 1), true).ok());
  p.peer[0].dc->SetRemoteMaxMessageSize(262144);  // what browsers advertise
  CHECK(p.peer[0].dc->Send(0, Pattern(262144, 2), true).ok());
  CHECK(p.peer[0].dc->Send(0, Pattern(262145, 2), true).code() ==
        "ERR_DATACHANNEL_MESSAGE_TOO_LARGE");
  REQUIRE(p.RunUntil([&] { return p.peer[1].count(0) == 2; }));
  CHECK(p.peer[0].dc->Stats(0).value().messagesSent == 2);
}

TEST_CASE("Data channels: the total send queue is bounded, and a slow peer only queues") {
  DataChannelsConfig c;
  c.maxBufferedBytes = 2 * 1024 * 1024;
  c.remoteMaxMessageSize = 0;
  ChannelsPair p(c);
  p.Start();
  REQUIRE(p.peer[0].dc->CreateChannel(Named("q")).ok());
  REQUIRE(p.peer[0].dc->CreateChannel(Named("r")).ok());
  REQUIRE(p.RunUntil([&] { return p.peer[0].opened.size() == 2; }));
  // The peer stops answering for a while: sends queue, nothing fails...
  p.link.SetBlackhole(1, true);
  int accepted = 0;
  Status refused;
  for (int i = 0; i < 100 && refused.ok(); ++i) {
    refused = p.peer[0].dc->Send(i % 2 == 0 ? 0 : 2, Pattern(64 * 1024, 1), true);
    if (refused.ok()) ++accepted;
  }
  // ...until the bound, which the error names.
  CHECK(refused.code() == "ERR_DATACHANNEL_QUEUE_FULL");
  CHECK(refused.message().find("2097152") != std::string::npos);
  CHECK(accepted >= 32);  // usrsctp's own buffer holds some, our queue the rest
  CHECK(p.peer[0].dc->BufferedAmount(0) + p.peer[0].dc->BufferedAmount(2) ==
        p.peer[0].dc->BufferedBytes());
  p.link.SetBlackhole(1, false);
  REQUIRE(p.RunUntil([&] { return p.peer[1].count(0) + p.peer[1].count(2) == size_t(accepted); },
                     120000));
  CHECK(p.peer[0].dc->BufferedBytes() == 0);
  CHECK(p.peer[0].dc->Send(0, Pattern(64 * 1024, 1), true).ok());
}

TEST_CASE("Data channels: a peer that vanishes mid-transfer closes every channel") {
  DataChannelsConfig c;
  c.remoteMaxMessageSize = 0;
  ChannelsPair p(c);
  p.Start();
  REQUIRE(p.peer[0].dc->CreateChannel(Named("a")).ok());
  REQUIRE(p.peer[0].dc->CreateChannel(Named("b")).ok());
  REQUIRE(p.RunUntil([&] { return p.peer[0].opened.size() == 2 && p.peer[1].opened.size() == 2; }));
  REQUIRE(p.peer[0].dc->Send(0, Pattern(8 * 1024 * 1024, 3), true).ok());
  REQUIRE(p.peer[1].dc->Send(2, Pattern(8 * 1024 * 1024, 4), true).ok());
  p.link.Flush(2000);
  p.link.SetBlackhole(1, true);
  p.peer[1].dc.reset();  // gone, mid-transfer both ways
  p.link.SetBlackhole(0, true);
  REQUIRE(p.RunUntil([&] { return p.peer[0].dc->associationState() == AssociationState::kFailed; },
                     300000));
  CHECK(p.peer[0].reason.code() == "ERR_SCTP_COMM_LOST");
  CHECK(p.peer[0].closed.size() == 2);
  CHECK(p.peer[0].dc->AllStats().empty());
  CHECK(p.peer[0].dc->CreateChannel(Named("late")).status().code() == "ERR_DATACHANNEL_CLOSED");
}

TEST_CASE("Data channels: a callback may destroy them") {
  ChannelsPair p;
  p.Start();
  REQUIRE(p.peer[0].dc->CreateChannel(Named("a")).ok());
  REQUIRE(p.RunUntil([&] { return !p.peer[1].opened.empty(); }));
  p.peer[1].onMessage = [&](uint16_t, const std::vector<uint8_t>&, bool) { p.peer[1].dc.reset(); };
  REQUIRE(p.peer[0].dc->SendText(0, "one").ok());
  REQUIRE(p.peer[0].dc->SendText(0, "two").ok());
  REQUIRE(p.RunUntil([&] { return p.peer[1].dc == nullptr; }));
  p.link.RunUntil([] { return false; }, 100);
}

TEST_CASE("Data channels: graceful close of the association closes the channels") {
  ChannelsPair p;
  p.Start();
  REQUIRE(p.peer[0].dc->CreateChannel(Named("a")).ok());
  REQUIRE(p.RunUntil([&] { return !p.peer[1].opened.empty(); }));
  REQUIRE(p.peer[0].dc->SendText(0, "bye").ok());
  p.peer[0].dc->Close();
  REQUIRE(p.RunUntil([&] {
    return p.peer[0].dc->associationState() == AssociationState::kClosed &&
           p.peer[1].dc->associationState() == AssociationState::kClosed;
  }));
  CHECK(p.peer[1].count(0) == 1);
  CHECK(p.peer[0].closed == std::vector<uint16_t>{0});
  CHECK(p.peer[1].closed == std::vector<uint16_t>{0});
}

TEST_CASE("Data channels: maxPacketLifeTime under loss delivers an in-order subset") {
  ChannelsPair p({}, 77);
  p.Start();
  DataChannelInit timed = Named("timed");
  timed.maxPacketLifeTimeMs = 50;  // shorter than any retransmission timeout
  auto id = p.peer[0].dc->CreateChannel(timed);
  REQUIRE(id.ok());
  REQUIRE(p.RunUntil([&] { return !p.peer[0].opened.empty() && !p.peer[1].opened.empty(); }));
  p.link.SetLoss(0.05);
  constexpr uint32_t kCount = 1000;
  for (uint32_t i = 0; i < kCount; i += 10) {
    for (uint32_t k = i; k < i + 10; ++k) {
      REQUIRE(p.peer[0].dc->Send(id.value(), Numbered(k, 1000), true).ok());
    }
    p.link.Flush();
    kvs::testing::FakeClock::Advance(10);
  }
  p.link.RunUntil([] { return false; }, 3000);  // let the retransmissions that may happen end
  p.link.SetLoss(0);
  const size_t before = p.peer[1].count(id.value());
  REQUIRE(p.peer[0].dc->Send(id.value(), Numbered(kCount, 1000), true).ok());
  REQUIRE(p.RunUntil([&] { return p.peer[1].count(id.value()) == before + 1; }, 2000));
  const auto& got = p.peer[1].messages[id.value()];
  CHECK(got.size() > kCount / 2);
  CHECK(got.size() < kCount + 1);  // some were abandoned
  std::vector<uint32_t> seqs;
  for (const auto& m : got) seqs.push_back(Seq(m.data));
  CHECK(std::is_sorted(seqs.begin(), seqs.end()));
  CHECK(std::adjacent_find(seqs.begin(), seqs.end()) == seqs.end());  // no duplicates
  CHECK(seqs.back() == kCount);
}
