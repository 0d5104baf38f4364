#include "media/audio_payload.h"

#include <limits>
#include <string>

namespace kvs::media {

const char* AudioCodecName(AudioCodec codec) {
  switch (codec) {
    case AudioCodec::kOpus:
      return "Opus";
    case AudioCodec::kPcmu:
      return "PCMU";
    case AudioCodec::kPcma:
      return "PCMA";
  }
  return "audio";
}

Status AudioPacketizer::Packetize(const SharedBytes& frame, size_t maxPayload,
                                  std::vector<RtpPayload>& out) {
  const std::string name = AudioCodecName(codec_);
  if (!frame || frame->empty()) {
    return Status::Fail("ERR_MEDIA_EMPTY_FRAME", name + " frame is empty");
  }
  if (frame->size() > maxPayload || frame->size() > std::numeric_limits<uint32_t>::max()) {
    return Status::Fail("ERR_MEDIA_FRAME_TOO_LARGE", name + " frame of " +
                                                         std::to_string(frame->size()) +
                                                         " bytes does not fit in one payload of " +
                                                         std::to_string(maxPayload) + " bytes");
  }
  RtpPayload p;
  p.source = frame;
  p.length = static_cast<uint32_t>(frame->size());
  out.push_back(std::move(p));
  return Status::Ok();
}

Result<Frame> AudioDepacketizer::Depacketize(const std::vector<ByteSpan>& payloads) const {
  const ByteSpan* found = nullptr;
  for (const ByteSpan& p : payloads) {
    if (p.size == 0) continue;  // padding only
    if (found != nullptr) {
      return Status::Fail(
          "ERR_AUDIO_MULTIPLE_PAYLOADS",
          std::string(AudioCodecName(codec_)) + " frames are one payload each; got several");
    }
    found = &p;
  }
  if (found == nullptr) {
    return Status::Fail("ERR_MEDIA_EMPTY_FRAME",
                        std::string("no ") + AudioCodecName(codec_) + " payload bytes");
  }
  Frame frame;
  frame.data.assign(found->data, found->data + found->size);
  frame.keyFrame = true;
  return frame;
}

Result<PayloadInfo> AudioDepacketizer::Inspect(ByteSpan payload) const {
  PayloadInfo info;
  if (payload.size == 0) {
    info.empty = true;
  } else {
    info.startsUnit = info.startsFrame = info.keyFrame = true;
  }
  return info;
}

}  // namespace kvs::media
