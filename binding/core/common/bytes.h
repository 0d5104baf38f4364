// Bounds-checked big-endian reading and writing for the wire codecs. A reader never reads
// past its span: a short read sets the error flag and yields zeros, so a parser can read a
// whole header and check ok() once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvs {

struct ByteSpan {
  const uint8_t* data = nullptr;
  size_t size = 0;

  ByteSpan() = default;
  ByteSpan(const uint8_t* d, size_t n) : data(d), size(n) {}
  ByteSpan(const std::vector<uint8_t>& v) : data(v.data()), size(v.size()) {}  // NOLINT
  ByteSpan sub(size_t offset, size_t length) const {
    if (offset > size || length > size - offset) return {};
    return {data + offset, length};
  }
};

class ByteReader {
 public:
  explicit ByteReader(ByteSpan span) : span_(span) {}
  ByteReader(const uint8_t* data, size_t size) : span_(data, size) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? span_.size - pos_ : 0; }
  size_t position() const { return pos_; }

  uint8_t u8() { return static_cast<uint8_t>(Read(1)); }
  uint16_t u16() { return static_cast<uint16_t>(Read(2)); }
  uint32_t u24() { return static_cast<uint32_t>(Read(3)); }
  uint32_t u32() { return static_cast<uint32_t>(Read(4)); }
  uint64_t u64() { return Read(8); }

  // A view of the next n bytes; empty (and !ok()) if fewer remain.
  ByteSpan bytes(size_t n) {
    if (!Have(n)) return {};
    ByteSpan out{span_.data + pos_, n};
    pos_ += n;
    return out;
  }
  std::string_view text(size_t n) {
    ByteSpan b = bytes(n);
    return {reinterpret_cast<const char*>(b.data), b.size};
  }
  bool skip(size_t n) { return bytes(n).size == n && ok_; }

 private:
  bool Have(size_t n) {
    if (!ok_ || n > span_.size - pos_) {
      ok_ = false;
      return false;
    }
    return true;
  }
  uint64_t Read(size_t n) {
    if (!Have(n)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | span_.data[pos_ + i];
    pos_ += n;
    return v;
  }

  ByteSpan span_;
  size_t pos_ = 0;
  bool ok_ = true;
};

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { Write(v, 2); }
  void u24(uint32_t v) { Write(v, 3); }
  void u32(uint32_t v) { Write(v, 4); }
  void u64(uint64_t v) { Write(v, 8); }
  void bytes(ByteSpan b) {
    if (b.size != 0) out_.insert(out_.end(), b.data, b.data + b.size);
  }
  void text(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }
  void zeros(size_t n) { out_.insert(out_.end(), n, 0); }
  // Overwrites a 16-bit field written earlier (lengths known only at the end).
  void PatchU16(size_t offset, uint16_t v) {
    out_[offset] = static_cast<uint8_t>(v >> 8);
    out_[offset + 1] = static_cast<uint8_t>(v);
  }
  size_t size() const { return out_.size(); }

 private:
  void Write(uint64_t v, size_t n) {
    for (size_t i = n; i-- > 0;) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t>& out_;
};

}  // namespace kvs
