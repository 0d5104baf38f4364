// RTP header extensions as RFC 8285 defines them: the one-byte form (profile 0xBEDE, ids
// 1-14, 1-16 data bytes) and the two-byte form (profile 0x100X, ids 1-255, 0-255 data bytes),
// parsed into a fixed-capacity list of (id, bytes) views and written back. The two-byte form
// may only be sent when the peer offered a=extmap-allow-mixed (RFC 8285 §6); kAuto picks the
// one-byte form whenever every element fits it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/status.h"
#include "rtp/array_view.h"

namespace kvs::rtp {

inline constexpr uint16_t kOneByteExtensionProfile = 0xBEDE;
// The two-byte form's profile is 0x100 in the upper 12 bits and "appbits" in the lower 4.
inline constexpr uint16_t kTwoByteExtensionProfile = 0x1000;
inline constexpr uint8_t kMaxOneByteExtensionId = 14;
inline constexpr size_t kMaxOneByteExtensionSize = 16;
inline constexpr size_t kMaxTwoByteExtensionSize = 255;

constexpr bool IsOneByteExtensionProfile(uint16_t profile) {
  return profile == kOneByteExtensionProfile;
}
constexpr bool IsTwoByteExtensionProfile(uint16_t profile) {
  return (profile & 0xFFF0) == kTwoByteExtensionProfile;
}

// One element: a local id (negotiated with a=extmap) and its data, viewed in place.
struct HeaderExtension {
  uint8_t id = 0;
  ByteSpan data;
};

enum class ExtensionForm : uint8_t {
  kAuto,     // writing only: one-byte when every element fits, else two-byte
  kOneByte,  // RFC 8285 §4.2
  kTwoByte,  // RFC 8285 §4.3
};

// The elements of one extension block in wire order, as views into the packet (which must
// outlive this). Holds no pointers into itself, so copies stay valid.
class HeaderExtensions {
 public:
  // Enough for any one-byte block without repeated ids (14) and for what WebRTC negotiates in
  // the two-byte form; a block with more elements is rejected, not silently cut.
  static constexpr size_t kCapacity = 32;

  // Parses the extension data that follows the 4-byte extension header (`body` is length*4
  // bytes). Padding bytes (0) are skipped; in the one-byte form id 15 ends the block (RFC 8285
  // §4.2). A profile that is neither form yields an empty list: the block belongs to another
  // RTP profile and is not an error.
  static Result<HeaderExtensions> Parse(uint16_t profile, ByteSpan body);
  // The same into an existing object (no copy of the element table; on error *out is empty).
  static Status Parse(uint16_t profile, ByteSpan body, HeaderExtensions* out);
  // No elements (what an RTP packet without the X bit has).
  void Clear() {
    base_ = nullptr;
    count_ = 0;
  }

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  HeaderExtension operator[](size_t i) const {
    return {entries_[i].id, ByteSpan(base_ + entries_[i].offset, entries_[i].size)};
  }
  // The data of the first element with this id (repeats are not meaningful), if present.
  std::optional<ByteSpan> Find(uint8_t id) const {
    for (size_t i = 0; i < count_; ++i) {
      if (entries_[i].id == id) return (*this)[i].data;
    }
    return std::nullopt;
  }

 private:
  struct Entry {
    uint32_t offset;  // from base_
    uint8_t id;
    uint8_t size;
  };
  const uint8_t* base_ = nullptr;
  std::array<Entry, kCapacity> entries_{};
  uint8_t count_ = 0;
};

// The form that `form` resolves to for these elements, or ERR_RTP_INVALID_ARGUMENT when an
// element fits neither the requested form nor any (id 0, id > 255, size > 255, or an id used
// twice). kOneByte is refused for ids above 14 or sizes outside 1-16.
Result<ExtensionForm> ResolveExtensionForm(ArrayView<HeaderExtension> extensions,
                                           ExtensionForm form);

// Bytes of the whole extension block as written into an RTP header: the 4-byte header, the
// elements and the zero padding to 32 bits. 0 for no elements (no block, X bit clear).
// `form` must be resolved (kOneByte or kTwoByte).
size_t HeaderExtensionBlockSize(ArrayView<HeaderExtension> extensions, ExtensionForm form);

// Writes the block HeaderExtensionBlockSize() counts into `out`, which must hold that many
// bytes; `form` must come from ResolveExtensionForm (the elements are not checked again).
// Returns the bytes written.
size_t WriteHeaderExtensionBlock(ArrayView<HeaderExtension> extensions, ExtensionForm form,
                                 uint8_t* out);

}  // namespace kvs::rtp
