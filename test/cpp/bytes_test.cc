#include <doctest/doctest.h>

#include "common/bytes.h"

TEST_CASE("ByteReader reads big-endian fields and refuses to read past the end") {
  const std::vector<uint8_t> buf = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  kvs::ByteReader r(buf);
  CHECK(r.u8() == 0x01);
  CHECK(r.u16() == 0x0203);
  CHECK(r.u24() == 0x040506);
  CHECK(r.ok());
  CHECK(r.remaining() == 1);
  CHECK(r.u32() == 0);  // only one byte left
  CHECK_FALSE(r.ok());
  CHECK(r.remaining() == 0);
  CHECK(r.u8() == 0);  // stays failed
}

TEST_CASE("ByteReader spans and text are views with bounds") {
  const std::vector<uint8_t> buf = {'a', 'b', 'c', 'd'};
  kvs::ByteReader r(buf);
  CHECK(r.text(2) == "ab");
  auto b = r.bytes(3);
  CHECK(b.size == 0);
  CHECK_FALSE(r.ok());
  kvs::ByteSpan whole(buf);
  CHECK(whole.sub(1, 3).size == 3);
  CHECK(whole.sub(2, 3).size == 0);
  CHECK(whole.sub(5, 0).size == 0);
}

TEST_CASE("ByteWriter writes big-endian and patches lengths") {
  std::vector<uint8_t> out;
  kvs::ByteWriter w(out);
  w.u16(0);
  w.u32(0xdeadbeef);
  w.u24(0x010203);
  w.text("hi");
  w.PatchU16(0, static_cast<uint16_t>(w.size()));
  CHECK(out ==
        std::vector<uint8_t>{0x00, 0x0b, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 'h', 'i'});
}
