// DCEP codec against byte vectors written from the layout of RFC 8832 §5.1 and §5.2.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sctp/dcep.h"

using namespace kvs;
using namespace kvs::sctp;

namespace {

std::vector<uint8_t> Bytes(std::initializer_list<int> v) {
  std::vector<uint8_t> out;
  for (int b : v) out.push_back(static_cast<uint8_t>(b));
  return out;
}

}  // namespace

TEST_CASE("DCEP: PPIDs are the IANA values") {
  CHECK(kPpidDcep == 50);
  CHECK(kPpidString == 51);
  CHECK(kPpidBinaryPartial == 52);
  CHECK(kPpidBinary == 53);
  CHECK(kPpidStringPartial == 54);
  CHECK(kPpidStringEmpty == 56);
  CHECK(kPpidBinaryEmpty == 57);
}

TEST_CASE("DCEP: DATA_CHANNEL_OPEN, reliable ordered, from the RFC 8832 layout") {
  const std::vector<uint8_t> wire = Bytes({
      0x03,                    // Message Type: DATA_CHANNEL_OPEN
      0x00,                    // Channel Type: DATA_CHANNEL_RELIABLE
      0x01, 0x00,              // Priority: 256 (normal)
      0x00, 0x00, 0x00, 0x00,  // Reliability Parameter: 0 (ignored when reliable)
      0x00, 0x04,              // Label Length: 4
      0x00, 0x00,              // Protocol Length: 0
      'c', 'h', 'a', 't',      // Label
  });
  auto parsed = ParseDcepOpen(wire);
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  const DcepOpen& o = parsed.value();
  CHECK(o.reliability == Reliability::kReliable);
  CHECK(o.ordered);
  CHECK(o.priority == kPriorityNormal);
  CHECK(o.reliabilityParameter == 0);
  CHECK(o.label == "chat");
  CHECK(o.protocol.empty());

  auto built = BuildDcepOpen(o);
  REQUIRE(built.ok());
  CHECK(built.value() == wire);
}

TEST_CASE("DCEP: DATA_CHANNEL_OPEN, partial reliable rexmit unordered with a protocol") {
  const std::vector<uint8_t> wire = Bytes({
      0x03,                    // Message Type: DATA_CHANNEL_OPEN
      0x81,                    // Channel Type: PARTIAL_RELIABLE_REXMIT_UNORDERED
      0x02, 0x00,              // Priority: 512 (high)
      0x00, 0x00, 0x00, 0x03,  // Reliability Parameter: 3 retransmissions
      0x00, 0x01,              // Label Length: 1
      0x00, 0x03,              // Protocol Length: 3
      'x',                     // Label
      'b', 'f', 'c',           // Protocol
  });
  auto parsed = ParseDcepOpen(wire);
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  CHECK(parsed.value().reliability == Reliability::kRexmit);
  CHECK_FALSE(parsed.value().ordered);
  CHECK(parsed.value().priority == 512);
  CHECK(parsed.value().reliabilityParameter == 3);
  CHECK(parsed.value().label == "x");
  CHECK(parsed.value().protocol == "bfc");
  CHECK(BuildDcepOpen(parsed.value()).value() == wire);
}

TEST_CASE("DCEP: DATA_CHANNEL_OPEN, timed ordered with a UTF-8 label") {
  const std::vector<uint8_t> wire = Bytes({
      0x03,                    // Message Type
      0x02,                    // Channel Type: PARTIAL_RELIABLE_TIMED
      0x00, 0x80,              // Priority: 128 (below normal)
      0x00, 0x00, 0x05, 0xDC,  // Reliability Parameter: 1500 ms lifetime
      0x00, 0x02,              // Label Length: 2 (one two-byte UTF-8 character)
      0x00, 0x00,              // Protocol Length: 0
      0xC3, 0xA9,              // Label: U+00E9
  });
  auto parsed = ParseDcepOpen(wire);
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  CHECK(parsed.value().reliability == Reliability::kTimed);
  CHECK(parsed.value().ordered);
  CHECK(parsed.value().reliabilityParameter == 1500);
  CHECK(parsed.value().label == "\xC3\xA9");
  CHECK(BuildDcepOpen(parsed.value()).value() == wire);
}

TEST_CASE("DCEP: the six channel types") {
  struct Row {
    uint8_t byte;
    Reliability reliability;
    bool ordered;
  };
  const Row rows[] = {
      {0x00, Reliability::kReliable, true}, {0x80, Reliability::kReliable, false},
      {0x01, Reliability::kRexmit, true},   {0x81, Reliability::kRexmit, false},
      {0x02, Reliability::kTimed, true},    {0x82, Reliability::kTimed, false},
  };
  for (const Row& row : rows) {
    CAPTURE(int(row.byte));
    CHECK(ChannelTypeByte(row.reliability, row.ordered) == row.byte);
    std::vector<uint8_t> wire = Bytes({0x03, row.byte, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0});
    auto parsed = ParseDcepOpen(wire);
    REQUIRE(parsed.ok());
    CHECK(parsed.value().reliability == row.reliability);
    CHECK(parsed.value().ordered == row.ordered);
    // A reliable channel's parameter is ignored on input.
    CHECK(parsed.value().reliabilityParameter ==
          (row.reliability == Reliability::kReliable ? 0u : 7u));
  }
}

TEST_CASE("DCEP: a reliable channel sends reliability parameter 0 whatever it holds") {
  DcepOpen o;
  o.reliabilityParameter = 99;
  auto built = BuildDcepOpen(o);
  REQUIRE(built.ok());
  CHECK(built.value() == Bytes({0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_CASE("DCEP: DATA_CHANNEL_ACK") {
  CHECK(BuildDcepAck() == Bytes({0x02}));  // Message Type: DATA_CHANNEL_ACK
  CHECK(ParseDcepAck(Bytes({0x02})).ok());
  CHECK(PeekDcepType(Bytes({0x02})).value() == kDcepAck);
  CHECK(PeekDcepType(Bytes({0x03, 0})).value() == kDcepOpen);
  CHECK(PeekDcepType({}).status().code() == "ERR_DCEP_TRUNCATED");
}

TEST_CASE("DCEP: malformed DATA_CHANNEL_OPEN") {
  struct Row {
    const char* name;
    std::vector<uint8_t> wire;
    const char* code;
  };
  const Row rows[] = {
      {"empty", {}, "ERR_DCEP_TRUNCATED"},
      {"one byte", Bytes({0x03}), "ERR_DCEP_TRUNCATED"},
      {"11-byte header", Bytes({0x03, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}), "ERR_DCEP_TRUNCATED"},
      {"ACK type", Bytes({0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}), "ERR_DCEP_TYPE"},
      {"unknown type", Bytes({0x04, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}), "ERR_DCEP_TYPE"},
      {"channel type 0x03", Bytes({0x03, 0x03, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
       "ERR_DCEP_CHANNEL_TYPE"},
      {"channel type 0x40", Bytes({0x03, 0x40, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
       "ERR_DCEP_CHANNEL_TYPE"},
      {"channel type 0xFF", Bytes({0x03, 0xFF, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
       "ERR_DCEP_CHANNEL_TYPE"},
      {"label past the end", Bytes({0x03, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0, 0, 'a', 'b'}),
       "ERR_DCEP_TRUNCATED"},
      {"protocol past the end", Bytes({0x03, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 2, 'a', 'b'}),
       "ERR_DCEP_TRUNCATED"},
      {"label length 0xFFFF", Bytes({0x03, 0, 1, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 'a'}),
       "ERR_DCEP_TRUNCATED"},
      {"trailing byte", Bytes({0x03, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 'a', 'b'}),
       "ERR_DCEP_TRAILING"},
      {"label not UTF-8", Bytes({0x03, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0xFF}), "ERR_DCEP_UTF8"},
      {"protocol not UTF-8", Bytes({0x03, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0xC0, 0x80}),
       "ERR_DCEP_UTF8"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    auto parsed = ParseDcepOpen(row.wire);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == row.code);
  }
}

TEST_CASE("DCEP: malformed DATA_CHANNEL_ACK") {
  CHECK(ParseDcepAck({}).code() == "ERR_DCEP_TRUNCATED");
  CHECK(ParseDcepAck(Bytes({0x03})).code() == "ERR_DCEP_TYPE");
  CHECK(ParseDcepAck(Bytes({0x02, 0x00})).code() == "ERR_DCEP_TRAILING");
}

TEST_CASE("DCEP: build refuses what the wire cannot carry") {
  DcepOpen o;
  o.label.assign(65536, 'a');
  CHECK(BuildDcepOpen(o).status().code() == "ERR_DCEP_TOO_LONG");
  o.label.assign(65535, 'a');
  auto built = BuildDcepOpen(o);
  REQUIRE(built.ok());
  CHECK(built.value().size() == kDcepOpenHeaderSize + 65535);
  CHECK(ParseDcepOpen(built.value()).value() == o);
  o.label = "ok";
  o.protocol = "\xED\xA0\x80";  // an encoded surrogate
  CHECK(BuildDcepOpen(o).status().code() == "ERR_DCEP_UTF8");
}

TEST_CASE("DCEP: UTF-8 validation") {
  struct Row {
    std::vector<uint8_t> bytes;
    bool valid;
  };
  const Row rows[] = {
      {{}, true},
      {Bytes({'a', 'b'}), true},
      {Bytes({0xC3, 0xA9}), true},               // U+00E9
      {Bytes({0xE2, 0x82, 0xAC}), true},         // U+20AC
      {Bytes({0xF0, 0x9F, 0x98, 0x80}), true},   // U+1F600
      {Bytes({0xF4, 0x8F, 0xBF, 0xBF}), true},   // U+10FFFF
      {Bytes({0x80}), false},                    // lone continuation
      {Bytes({0xC3}), false},                    // truncated
      {Bytes({0xC0, 0xAF}), false},              // overlong '/'
      {Bytes({0xE0, 0x80, 0xAF}), false},        // overlong
      {Bytes({0xED, 0xA0, 0x80}), false},        // surrogate U+D800
      {Bytes({0xF4, 0x90, 0x80, 0x80}), false},  // U+110000
      {Bytes({0xF8, 0x88, 0x80, 0x80, 0x80}), false},
      {Bytes({0xE2, 0x28, 0xA1}), false},  // bad continuation
  };
  for (const Row& row : rows) {
    CHECK(IsValidUtf8(row.bytes) == row.valid);
  }
}
