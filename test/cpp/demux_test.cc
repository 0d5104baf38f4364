#include "net/demux.h"

#include <doctest/doctest.h>

#include <vector>

using kvs::ByteSpan;
using kvs::net::Classify;
using kvs::net::PacketClass;

namespace {

// A datagram of `size` bytes starting with `first` then `second` (zeros after).
PacketClass Of(uint8_t first, uint8_t second, size_t size) {
  std::vector<uint8_t> d(size, 0);
  if (size > 0) d[0] = first;
  if (size > 1) d[1] = second;
  return Classify(ByteSpan(d));
}

}  // namespace

TEST_CASE("RFC 7983 demultiplexing by the first byte, RFC 5761 by the second") {
  struct Row {
    uint8_t first;
    uint8_t second;
    size_t size;
    PacketClass expected;
    const char* why;
  };
  const Row rows[] = {
      {0x00, 0x01, 20, PacketClass::kStun, "Binding request"},
      {0x01, 0x01, 20, PacketClass::kStun, "Binding success"},
      {0x03, 0x00, 20, PacketClass::kStun, "top of the STUN range"},
      {0x00, 0x01, 19, PacketClass::kUnknown, "shorter than a STUN header"},
      {0x04, 0x00, 100, PacketClass::kUnknown, "gap between STUN and ZRTP"},
      {0x0F, 0x00, 100, PacketClass::kUnknown, "just below ZRTP"},
      {0x10, 0x00, 100, PacketClass::kZrtp, "ZRTP"},
      {0x13, 0x00, 100, PacketClass::kZrtp, "top of ZRTP"},
      {0x14, 0xFE, 13, PacketClass::kDtls, "change_cipher_spec, smallest record"},
      {0x16, 0xFE, 100, PacketClass::kDtls, "handshake"},
      {0x17, 0xFE, 100, PacketClass::kDtls, "application data (SCTP)"},
      {0x3F, 0x00, 100, PacketClass::kDtls, "top of the DTLS range"},
      {0x16, 0xFE, 12, PacketClass::kUnknown, "shorter than a DTLS record header"},
      {0x40, 0x00, 4, PacketClass::kChannelData, "channel 0x4000, empty"},
      {0x4F, 0xFF, 8, PacketClass::kChannelData, "channel 0x4FFF"},
      {0x40, 0x00, 3, PacketClass::kUnknown, "shorter than a ChannelData header"},
      {0x50, 0x00, 100, PacketClass::kUnknown, "QUIC range, not used here"},
      {0x7F, 0x00, 100, PacketClass::kUnknown, "below RTP"},
      {0x80, 0x60, 12, PacketClass::kRtp, "RTP, PT 96, no marker"},
      {0x80, 0xE0, 100, PacketClass::kRtp, "RTP, PT 96 with marker"},
      {0x80, 0x7F, 100, PacketClass::kRtp, "RTP, PT 127"},
      {0x80, 0xFD, 100, PacketClass::kRtp, "RTP, PT 125 (H.264) with marker"},
      {0x80, 0xBF, 100, PacketClass::kRtp, "RTP, PT 63 with marker, just below RTCP"},
      {0x80, 0xE0, 11, PacketClass::kUnknown, "shorter than an RTP header"},
      {0x80, 0xC0, 8, PacketClass::kRtcp, "RTCP type 192 (FIR, RFC 2032)"},
      {0x80, 0xC8, 28, PacketClass::kRtcp, "SR"},
      {0x81, 0xC9, 32, PacketClass::kRtcp, "RR with one block"},
      {0x8F, 0xCD, 20, PacketClass::kRtcp, "RTPFB (TWCC)"},
      {0x81, 0xCE, 12, PacketClass::kRtcp, "PSFB (PLI)"},
      {0x80, 0xDF, 8, PacketClass::kRtcp, "type 223, top of the RTCP range"},
      {0x80, 0xE0, 8, PacketClass::kUnknown, "type 224 reads as RTP and is too short"},
      {0x81, 0xC9, 7, PacketClass::kUnknown, "shorter than an RTCP header"},
      {0xBF, 0xC8, 28, PacketClass::kRtcp, "top of the RTP/RTCP first-byte range"},
      {0xC0, 0xC8, 28, PacketClass::kUnknown, "above RTP"},
      {0xFF, 0xFF, 100, PacketClass::kUnknown, "nothing"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.why);
    CHECK(Of(r.first, r.second, r.size) == r.expected);
  }
  CHECK(Classify(ByteSpan()) == PacketClass::kUnknown);
  std::vector<uint8_t> one{0x80};
  CHECK(Classify(ByteSpan(one)) == PacketClass::kUnknown);
}
