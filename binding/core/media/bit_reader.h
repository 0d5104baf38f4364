// Reading the bits of an H.264/H.265 RBSP out of a NAL unit (H.264 §7.2, §9.1): fixed-width
// fields, unsigned and signed exp-Golomb codes, with the emulation prevention bytes (the 03 of
// 00 00 03) dropped on the fly. Bounds-checked like ByteReader: reading past the end, or an
// exp-Golomb code longer than 32 bits, sets the error flag and yields zeros, so a parser reads
// a run of fields and checks ok() once.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"

namespace kvs::media {

class RbspBitReader {
 public:
  // `nalPayload`: the NAL unit after its header.
  explicit RbspBitReader(ByteSpan nalPayload) : data_(nalPayload) {}

  bool ok() const { return ok_; }

  // Up to 32 bits, most significant first.
  uint32_t Bits(unsigned n) {
    uint32_t v = 0;
    for (unsigned i = 0; i < n; ++i) v = v << 1 | Bit();
    return ok_ ? v : 0;
  }
  bool Flag() { return Bit() != 0; }
  void Skip(unsigned n) {
    for (unsigned i = 0; i < n && ok_; ++i) (void)Bit();  // value unused: only the position
  }
  // ue(v): 2^leadingZeros - 1 + the next leadingZeros bits. At most 31 leading zeros.
  uint32_t Ue() {
    unsigned zeros = 0;
    while (ok_ && Bit() == 0) {
      if (++zeros > 31) {
        ok_ = false;
        return 0;
      }
    }
    if (!ok_) return 0;
    const uint64_t v = (uint64_t{1} << zeros) - 1 + Bits(zeros);
    return ok_ ? static_cast<uint32_t>(v) : 0;
  }
  // se(v): ue mapped to 0, 1, -1, 2, -2...
  int64_t Se() {
    const uint32_t k = Ue();
    return (k & 1) != 0 ? static_cast<int64_t>((int64_t{k} + 1) / 2) : -static_cast<int64_t>(k / 2);
  }

 private:
  uint32_t Bit() {
    if (!ok_) return 0;
    if (bitsLeft_ == 0 && !NextByte()) {
      ok_ = false;
      return 0;
    }
    --bitsLeft_;
    return (byte_ >> bitsLeft_) & 1u;
  }
  bool NextByte() {
    if (pos_ >= data_.size) return false;
    uint8_t b = data_.data[pos_++];
    if (zeros_ >= 2 && b == 3) {  // emulation prevention: not part of the RBSP
      zeros_ = 0;
      if (pos_ >= data_.size) return false;
      b = data_.data[pos_++];
    }
    zeros_ = b == 0 ? zeros_ + 1 : 0;
    byte_ = b;
    bitsLeft_ = 8;
    return true;
  }

  ByteSpan data_;
  size_t pos_ = 0;
  unsigned zeros_ = 0;
  uint8_t byte_ = 0;
  unsigned bitsLeft_ = 0;
  bool ok_ = true;
};

}  // namespace kvs::media
