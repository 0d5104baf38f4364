// The inbound packet checks that guard usrsctp (sctp_packet_check.h), against hand-built
// packets in the RFC 4960 §3 layout.
#include <doctest/doctest.h>

#include <vector>

#include "sctp/sctp_packet_check.h"

using namespace kvs;
using namespace kvs::sctp;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes Header() {
  return {0x13, 0x88, 0x13, 0x88,   // source and destination port 5000
          0x01, 0x02, 0x03, 0x04,   // verification tag
          0x00, 0x00, 0x00, 0x00};  // checksum (offloaded)
}

Bytes Chunk(uint8_t type, const Bytes& body, bool pad = true) {
  Bytes c;
  c.reserve(body.size() + 8);  // also keeps GCC 12's -O3 array-bounds false positive away
  c.insert(c.end(), {type, 0, 0, 0});
  const size_t length = 4 + body.size();
  c[2] = static_cast<uint8_t>(length >> 8);
  c[3] = static_cast<uint8_t>(length);
  c.insert(c.end(), body.begin(), body.end());
  while (pad && c.size() % 4 != 0) c.push_back(0);
  return c;
}

Bytes Param(uint16_t type, const Bytes& value, bool pad = true) {
  Bytes p;
  p.reserve(value.size() + 8);  // also keeps GCC 12's -O3 array-bounds false positive away
  p.insert(p.end(), {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 0});
  const size_t length = 4 + value.size();
  p[2] = static_cast<uint8_t>(length >> 8);
  p[3] = static_cast<uint8_t>(length);
  p.insert(p.end(), value.begin(), value.end());
  while (pad && p.size() % 4 != 0) p.push_back(0);
  return p;
}

Bytes InitFixed() {
  return {0x11, 0x22, 0x33, 0x44,   // initiate tag
          0x00, 0x10, 0x00, 0x00,   // a_rwnd
          0x04, 0x00, 0x04, 0x00,   // outbound and inbound streams: 1024
          0x00, 0x00, 0x00, 0x07};  // initial TSN
}

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

TEST_CASE("SCTP packet check: well-formed packets pass") {
  const Bytes data = Chunk(0, {0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 51, 'h', 'i', '!'});
  const Bytes sack = Chunk(3, {0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0});
  // Forward-TSN-supported (0xC000) with no value, Supported Extensions (0x8008) unpadded last.
  const Bytes init = Chunk(1,
                           Cat({InitFixed(), Param(0xC000, {}),
                                Param(0x8008, {0x82, 0xC0, 0x0F},
                                      /*pad=*/false)}),
                           /*pad=*/false);
  const Bytes heartbeat = Chunk(4, Param(1, {1, 2, 3, 4, 5, 6, 7, 8}));
  const Bytes abort = Chunk(6, Param(12, {}));  // cause: user-initiated abort
  const Bytes reconfig = Chunk(130, Param(13, {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1}));
  const Bytes shutdown = Chunk(7, {0, 0, 0, 9});
  const Bytes bare = Chunk(11, {});  // COOKIE ACK
  for (const Bytes& body : {data, Cat({data, sack}), init, heartbeat, abort, reconfig, shutdown,
                            bare, Cat({sack, data, heartbeat})}) {
    const Bytes packet = Cat({Header(), body});
    CHECK_MESSAGE(CheckInboundPacket(packet).ok(), CheckInboundPacket(packet).message());
  }
  // The last chunk may omit its padding.
  const Bytes unpadded = Cat({Header(), Chunk(0, {0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 51, 'x'},
                                              /*pad=*/false)});
  CHECK(unpadded.size() % 4 != 0);
  CHECK(CheckInboundPacket(unpadded).ok());
}

TEST_CASE("SCTP packet check: malformed packets are refused") {
  struct Row {
    const char* name;
    Bytes packet;
    const char* code;
  };
  Bytes zeroLengthChunk = Cat({Header(), Bytes{0, 0, 0, 0}});
  Bytes shortChunk = Cat({Header(), Bytes{0, 0, 0, 3}});
  Bytes longChunk = Cat({Header(), Bytes{0, 0, 0, 40, 1, 2, 3, 4}});
  Bytes shortInit = Cat({Header(), Chunk(1, {1, 2, 3, 4, 5, 6, 7, 8})});
  // The packet that hung usrsctp: an INIT whose parameter claims length 0.
  Bytes zeroParamInit =
      Cat({Header(), Chunk(1, Cat({InitFixed(), Bytes{0x00, 0x0C, 0x00, 0x00}, Bytes(8, 0)}))});
  Bytes threeParamInitAck =
      Cat({Header(), Chunk(2, Cat({InitFixed(), Bytes{0x00, 0x07, 0x00, 0x03, 0}}))});
  Bytes longParam = Cat({Header(), Chunk(4, Bytes{0x00, 0x01, 0x00, 0x20, 1, 2, 3, 4})});
  Bytes zeroCause = Cat({Header(), Chunk(6, Bytes{0x00, 0x0C, 0x00, 0x00})});
  Bytes zeroReconfig = Cat({Header(), Chunk(130, Bytes{0x00, 0x0D, 0x00, 0x00})});
  Bytes badSecondChunk = Cat({Header(), Chunk(11, {}), Bytes{3, 0, 0, 2}});
  // The second packet that hung usrsctp (from the fuzzer): an INIT of length 25 whose body
  // ends in one stray byte after its last parameter, then "padding" 01 00 00. usrsctp read
  // 00 01 00 00 as a parameter of length 0.
  Bytes strayByteInit =
      Cat({Header(), Bytes{0x01, 0x00, 0x00, 0x19}, Bytes(11, 0x5f),
           Bytes{0x00, 0x11, 0x44, 0x22, 0x32, 0x03, 0x10, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00}});
  Bytes strayHeartbeat = Cat({Header(), Chunk(4, Bytes{0x00, 0x01, 0x00, 0x04, 0x07})});
  const Row rows[] = {
      {"empty", {}, "ERR_SCTP_PACKET_TRUNCATED"},
      {"header only", Header(), "ERR_SCTP_PACKET_TRUNCATED"},
      {"chunk length 0", zeroLengthChunk, "ERR_SCTP_CHUNK_LENGTH"},
      {"chunk length 3", shortChunk, "ERR_SCTP_CHUNK_LENGTH"},
      {"chunk past the packet", longChunk, "ERR_SCTP_CHUNK_LENGTH"},
      {"INIT shorter than its fixed part", shortInit, "ERR_SCTP_CHUNK_LENGTH"},
      {"INIT parameter of length 0", zeroParamInit, "ERR_SCTP_PARAM_LENGTH"},
      {"INIT ACK parameter of length 3", threeParamInitAck, "ERR_SCTP_PARAM_LENGTH"},
      {"HEARTBEAT parameter past the chunk", longParam, "ERR_SCTP_PARAM_LENGTH"},
      {"ABORT cause of length 0", zeroCause, "ERR_SCTP_PARAM_LENGTH"},
      {"RE-CONFIG parameter of length 0", zeroReconfig, "ERR_SCTP_PARAM_LENGTH"},
      {"second chunk of length 2", badSecondChunk, "ERR_SCTP_CHUNK_LENGTH"},
      {"INIT with a stray byte after its parameters", strayByteInit, "ERR_SCTP_PARAM_LENGTH"},
      {"HEARTBEAT with a stray byte", strayHeartbeat, "ERR_SCTP_PARAM_LENGTH"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    const Status st = CheckInboundPacket(row.packet);
    CHECK(st.code() == row.code);
  }
}
