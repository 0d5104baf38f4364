#include "rtp/rtp_header_extensions.h"

#include <cstring>
#include <string>

#include "rtp/rtp_errors.h"

namespace kvs::rtp {

namespace {

constexpr uint8_t kOneByteTerminatorId = 15;

Status ExtensionError(const std::string& what) { return Status::Fail(kErrRtpExtension, what); }

}  // namespace

Result<HeaderExtensions> HeaderExtensions::Parse(uint16_t profile, ByteSpan body) {
  HeaderExtensions out;
  Status s = Parse(profile, body, &out);
  if (!s.ok()) return s;
  return out;
}

Status HeaderExtensions::Parse(uint16_t profile, ByteSpan body, HeaderExtensions* out) {
  out->base_ = body.data;
  out->count_ = 0;
  const bool oneByte = IsOneByteExtensionProfile(profile);
  if (!oneByte && !IsTwoByteExtensionProfile(profile)) return Status::Ok();

  const uint8_t* p = body.data;
  size_t pos = 0;
  while (pos < body.size) {
    uint8_t id;
    size_t size;
    if (oneByte) {
      id = static_cast<uint8_t>(p[pos] >> 4);
      // A padding byte is 0; any byte with id 0 is skipped the same way, as it names no element.
      if (id == 0) {
        ++pos;
        continue;
      }
      if (id == kOneByteTerminatorId) break;
      size = static_cast<size_t>(p[pos] & 0x0F) + 1;
      ++pos;
    } else {
      id = p[pos];
      if (id == 0) {
        ++pos;
        continue;
      }
      if (pos + 1 >= body.size) {
        out->count_ = 0;
        return ExtensionError("two-byte element " + std::to_string(id) + " lacks its length");
      }
      size = p[pos + 1];
      pos += 2;
    }
    if (size > body.size - pos) {
      out->count_ = 0;
      return ExtensionError("element " + std::to_string(id) + " of " + std::to_string(size) +
                            " bytes runs past the extension block");
    }
    if (out->count_ == kCapacity) {
      out->count_ = 0;
      return Status::Fail(kErrRtpTooManyExtensions,
                          "more than " + std::to_string(kCapacity) + " header extensions");
    }
    out->entries_[out->count_++] = {static_cast<uint32_t>(pos), id, static_cast<uint8_t>(size)};
    pos += size;
  }
  return Status::Ok();
}

Result<ExtensionForm> ResolveExtensionForm(ArrayView<HeaderExtension> extensions,
                                           ExtensionForm form) {
  bool fitsOneByte = true;
  uint64_t seen[4] = {0, 0, 0, 0};
  for (const HeaderExtension& e : extensions) {
    if (e.id == 0) return Status::Fail(kErrRtpInvalidArgument, "header extension id 0");
    if (e.data.size > kMaxTwoByteExtensionSize) {
      return Status::Fail(kErrRtpInvalidArgument, "header extension " + std::to_string(e.id) +
                                                      " has " + std::to_string(e.data.size) +
                                                      " bytes (at most 255)");
    }
    uint64_t& word = seen[e.id / 64];
    const uint64_t bit = uint64_t{1} << (e.id % 64);
    if (word & bit) {
      return Status::Fail(kErrRtpInvalidArgument,
                          "header extension id " + std::to_string(e.id) + " used twice");
    }
    word |= bit;
    if (e.id > kMaxOneByteExtensionId || e.data.size == 0 ||
        e.data.size > kMaxOneByteExtensionSize) {
      fitsOneByte = false;
    }
  }
  switch (form) {
    case ExtensionForm::kAuto:
      return fitsOneByte ? ExtensionForm::kOneByte : ExtensionForm::kTwoByte;
    case ExtensionForm::kOneByte:
      if (!fitsOneByte) {
        return Status::Fail(kErrRtpInvalidArgument,
                            "an element needs the two-byte form (id > 14 or size not 1-16)");
      }
      return form;
    case ExtensionForm::kTwoByte:
      return form;
  }
  return Status::Fail(kErrRtpInvalidArgument, "unknown extension form");
}

size_t HeaderExtensionBlockSize(ArrayView<HeaderExtension> extensions, ExtensionForm form) {
  if (extensions.empty()) return 0;
  const size_t perElement = form == ExtensionForm::kOneByte ? 1 : 2;
  size_t body = 0;
  for (const HeaderExtension& e : extensions) body += perElement + e.data.size;
  return 4 + (body + 3) / 4 * 4;
}

size_t WriteHeaderExtensionBlock(ArrayView<HeaderExtension> extensions, ExtensionForm form,
                                 uint8_t* out) {
  const size_t total = HeaderExtensionBlockSize(extensions, form);
  if (total == 0) return 0;
  const bool oneByte = form == ExtensionForm::kOneByte;
  const uint16_t profile = oneByte ? kOneByteExtensionProfile : kTwoByteExtensionProfile;
  const size_t words = (total - 4) / 4;
  out[0] = static_cast<uint8_t>(profile >> 8);
  out[1] = static_cast<uint8_t>(profile);
  out[2] = static_cast<uint8_t>(words >> 8);
  out[3] = static_cast<uint8_t>(words);
  size_t pos = 4;
  for (const HeaderExtension& e : extensions) {
    if (oneByte) {
      out[pos++] = static_cast<uint8_t>(size_t{e.id} << 4 | (e.data.size - 1));
    } else {
      out[pos++] = e.id;
      out[pos++] = static_cast<uint8_t>(e.data.size);
    }
    if (e.data.size != 0) std::memcpy(out + pos, e.data.data, e.data.size);
    pos += e.data.size;
  }
  while (pos < total) out[pos++] = 0;
  return total;
}

}  // namespace kvs::rtp
