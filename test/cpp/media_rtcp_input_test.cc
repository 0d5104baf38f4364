// One compound RTCP packet parsed once for every stream: each kind lands in its list, a bad
// packet is skipped and counted, a framing error keeps what came before.
#include "media/rtcp_input.h"

#include <doctest/doctest.h>

#include "rtp/rtcp_compound.h"
#include "rtp/rtcp_sdes.h"

using namespace kvs;
using namespace kvs::media;

TEST_CASE("ParseRtcpCompound: every feedback kind, once") {
  rtp::RtcpCompoundBuilder b(rtp::RtcpMode::kCompound);
  rtp::ReportBlock blk;
  blk.ssrc = 7;
  REQUIRE(b.Add(rtp::SenderReport{1, {}, {blk}}).ok());
  REQUIRE(b.Add(rtp::Sdes::Cname(1, "c")).ok());
  REQUIRE(b.Add(rtp::ReceiverReport{1, {blk}}).ok());
  REQUIRE(b.Add(rtp::Nack{1, 7, {{100, 0x0003}}}).ok());
  REQUIRE(b.Add(rtp::Pli{1, 7}).ok());
  REQUIRE(b.Add(rtp::Fir{1, {{7, 3}}}).ok());
  REQUIRE(b.Add(rtp::Remb{1, 1'000'000, {7}}).ok());
  rtp::TransportFeedback fb;
  fb.senderSsrc = 1;
  fb.baseSequence = 5;
  fb.packets = {{5, true, 1000}, {6, false, 0}};
  REQUIRE(b.Add(fb).ok());
  REQUIRE(b.Add(rtp::Bye{{1}, std::nullopt}).ok());
  auto bytes = b.Finish();
  REQUIRE(bytes.ok());
  // An APP packet (ignored) at the end.
  std::vector<uint8_t> compound = bytes.value();
  const uint8_t app[] = {0x80, 204, 0, 2, 0, 0, 0, 1, 'n', 'a', 'm', 'e'};
  compound.insert(compound.end(), app, app + sizeof app);

  ParsedRtcp p;
  REQUIRE(ParseRtcpCompound(compound, &p).ok());
  CHECK(p.senderReports.size() == 1);
  CHECK(p.senderReports[0].reportBlocks.size() == 1);
  CHECK(p.receiverReports.size() == 1);
  REQUIRE(p.nacks.size() == 1);
  CHECK(rtp::UnpackNack(p.nacks[0].items) == std::vector<uint16_t>{100, 101, 102});
  CHECK(p.plis.size() == 1);
  CHECK(p.firs.size() == 1);
  REQUIRE(p.rembs.size() == 1);
  CHECK(p.rembs[0].bitrateBps == 1'000'000);
  CHECK(p.transportFeedback.size() == 1);
  CHECK(p.byes.size() == 1);
  CHECK(p.ignoredPackets == 2);  // SDES and APP
  CHECK(p.rejectedPackets == 0);
  // Reuse: Clear keeps nothing.
  REQUIRE(ParseRtcpCompound(std::vector<uint8_t>{}, &p).ok());
  CHECK(p.empty());
}

TEST_CASE("ParseRtcpCompound: a bad packet is skipped; a framing error keeps what came before") {
  std::vector<uint8_t> c;
  // A NACK with an empty FCI (ERR_RTCP_MALFORMED), then a PLI.
  const uint8_t badNack[] = {0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 7};
  const uint8_t pli[] = {0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 7};
  c.insert(c.end(), badNack, badNack + sizeof badNack);
  c.insert(c.end(), pli, pli + sizeof pli);
  ParsedRtcp p;
  REQUIRE(ParseRtcpCompound(c, &p).ok());
  CHECK(p.rejectedPackets == 1);
  CHECK(p.plis.size() == 1);
  // A length that runs past the end.
  c.push_back(0x81);
  c.push_back(206);
  c.push_back(0);
  c.push_back(9);
  Status s = ParseRtcpCompound(c, &p);
  CHECK_FALSE(s.ok());
  CHECK(s.code() == "ERR_RTCP_LENGTH");
  CHECK(p.plis.size() == 1);
}
