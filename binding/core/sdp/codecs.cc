#include "sdp/codecs.h"

#include "sdp/text.h"

namespace kvs::sdp {

namespace {

// Payload types and fmtp per c-sdk.md §3. The RTX payload types are our choice (the reference
// does not fix them): free dynamic types next to their codec.
const CodecInfo kCodecs[] = {
    {Codec::kH264, MediaKind::kVideo, "H264", 90000, 0, 125, 126,
     "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
    {Codec::kH265, MediaKind::kVideo, "H265", 90000, 0, 127, 124, ""},
    {Codec::kVp8, MediaKind::kVideo, "VP8", 90000, 0, 96, 97, ""},
    {Codec::kOpus, MediaKind::kAudio, "opus", 48000, 2, 111, 0, "minptime=10;useinbandfec=1"},
    {Codec::kPcmu, MediaKind::kAudio, "PCMU", 8000, 0, 0, 0, ""},
    {Codec::kPcma, MediaKind::kAudio, "PCMA", 8000, 0, 8, 0, ""},
};

// RFC 3551 static payload types, which an offer may list without an rtpmap.
std::optional<RtpMap> StaticRtpMap(uint8_t pt) {
  if (pt == 0) return RtpMap{"PCMU", 8000, std::nullopt};
  if (pt == 8) return RtpMap{"PCMA", 8000, std::nullopt};
  return std::nullopt;
}

std::optional<int> H264Score(const RtpFormat& f) {
  std::string fmtp = f.fmtp.value_or("");
  // RFC 6184 §8.1: absent packetization-mode means 0, absent profile-level-id means 420010.
  if (FmtpParameter(fmtp, "packetization-mode").value_or("0") != "1") return std::nullopt;
  std::string plid = FmtpParameter(fmtp, "profile-level-id").value_or("420010");
  if (H264ProfileOf(plid) != H264Profile::kConstrainedBaseline) return std::nullopt;
  return text::EqualsIgnoreCase(plid, "42e01f") ? 2 : 1;
}

}  // namespace

const CodecInfo& InfoOf(Codec c) {
  for (const auto& info : kCodecs) {
    if (info.codec == c) return info;
  }
  return kCodecs[0];
}

const char* MediaKindName(MediaKind k) { return k == MediaKind::kAudio ? "audio" : "video"; }

std::vector<Codec> DefaultCodecs(MediaKind k) {
  std::vector<Codec> out;
  for (const auto& info : kCodecs) {
    if (info.kind == k) out.push_back(info.codec);
  }
  return out;
}

std::optional<std::string> FmtpParameter(std::string_view fmtp, std::string_view key) {
  while (!fmtp.empty()) {
    auto item = text::SplitOnce(fmtp, ';');
    auto kv = text::SplitOnce(text::TrimWhitespace(item.first), '=');
    if (text::EqualsIgnoreCase(text::TrimWhitespace(kv.first), key)) {
      return std::string(text::TrimWhitespace(kv.second));
    }
    fmtp = item.found ? item.second : std::string_view();
  }
  return std::nullopt;
}

std::optional<H264Profile> H264ProfileOf(std::string_view plid) {
  if (plid.size() != 6) return std::nullopt;
  auto byte = [&](size_t i) -> std::optional<uint8_t> {
    uint8_t v = 0;
    for (size_t k = i; k < i + 2; ++k) {
      char c = plid[k];
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return std::nullopt;
      v = static_cast<uint8_t>(v * 16 + d);
    }
    return v;
  };
  auto idc = byte(0);
  auto iop = byte(2);
  if (!idc || !iop || !byte(4)) return std::nullopt;
  // constraint_set0..3 flags are the top four bits of profile-iop.
  bool set0 = (*iop & 0x80) != 0, set1 = (*iop & 0x40) != 0;
  bool set4 = (*iop & 0x08) != 0, set5 = (*iop & 0x04) != 0;
  switch (*idc) {
    case 0x42:
      return set1 ? H264Profile::kConstrainedBaseline : H264Profile::kBaseline;
    case 0x4D:
      return set0 ? H264Profile::kConstrainedBaseline : H264Profile::kMain;
    case 0x58:
      if (set0 && set1) return H264Profile::kConstrainedBaseline;
      return set0 ? H264Profile::kBaseline : H264Profile::kExtended;
    case 0x64:
      return (set4 && set5) ? H264Profile::kConstrainedHigh : H264Profile::kHigh;
    default:
      return H264Profile::kOther;
  }
}

std::optional<int> MatchScore(Codec ours, const RtpFormat& theirs) {
  const CodecInfo& info = InfoOf(ours);
  std::optional<RtpMap> map = theirs.rtpmap ? theirs.rtpmap : StaticRtpMap(theirs.payloadType);
  if (!map) return std::nullopt;
  if (!text::EqualsIgnoreCase(map->encoding, info.name) || map->clockRate != info.clockRate) {
    return std::nullopt;
  }
  // Opus is always "/2" (RFC 7587); for the others an explicit "/1" is the default.
  uint32_t channels = map->channels.value_or(1);
  if (channels != (info.channels == 0 ? 1 : info.channels)) return std::nullopt;
  if (ours == Codec::kH264) return H264Score(theirs);
  return 1;
}

std::optional<Codec> IdentifyCodec(const RtpFormat& f) {
  std::optional<Codec> best;
  int bestScore = 0;
  for (const auto& info : kCodecs) {
    auto score = MatchScore(info.codec, f);
    if (score && *score > bestScore) {
      best = info.codec;
      bestScore = *score;
    }
  }
  return best;
}

std::optional<uint8_t> RtxAssociatedPayloadType(const RtpFormat& f) {
  if (!f.rtpmap || !text::EqualsIgnoreCase(f.rtpmap->encoding, "rtx") || !f.fmtp) {
    return std::nullopt;
  }
  auto apt = FmtpParameter(*f.fmtp, "apt");
  if (!apt) return std::nullopt;
  auto pt = text::ParseUnsigned(*apt, 127);
  if (!pt) return std::nullopt;
  return static_cast<uint8_t>(*pt);
}

}  // namespace kvs::sdp
