#include "media/payload_formats.h"

#include "media/audio_payload.h"
#include "media/h264_depacketizer.h"
#include "media/h264_packetizer.h"
#include "media/h265_depacketizer.h"
#include "media/h265_packetizer.h"
#include "media/vp8_depacketizer.h"
#include "media/vp8_packetizer.h"

namespace kvs::media {

std::unique_ptr<Packetizer> MakePacketizer(sdp::Codec codec, uint16_t initialPictureId) {
  switch (codec) {
    case sdp::Codec::kH264:
      return std::make_unique<H264Packetizer>();
    case sdp::Codec::kH265:
      return std::make_unique<H265Packetizer>();
    case sdp::Codec::kVp8:
      return std::make_unique<Vp8Packetizer>(Vp8PacketizerOptions{initialPictureId});
    case sdp::Codec::kOpus:
      return std::make_unique<AudioPacketizer>(AudioCodec::kOpus);
    case sdp::Codec::kPcmu:
      return std::make_unique<AudioPacketizer>(AudioCodec::kPcmu);
    case sdp::Codec::kPcma:
      return std::make_unique<AudioPacketizer>(AudioCodec::kPcma);
  }
  return nullptr;
}

std::unique_ptr<Depacketizer> MakeDepacketizer(sdp::Codec codec) {
  switch (codec) {
    case sdp::Codec::kH264:
      return std::make_unique<H264Depacketizer>();
    case sdp::Codec::kH265:
      return std::make_unique<H265Depacketizer>();
    case sdp::Codec::kVp8:
      return std::make_unique<Vp8Depacketizer>();
    case sdp::Codec::kOpus:
      return std::make_unique<AudioDepacketizer>(AudioCodec::kOpus);
    case sdp::Codec::kPcmu:
      return std::make_unique<AudioDepacketizer>(AudioCodec::kPcmu);
    case sdp::Codec::kPcma:
      return std::make_unique<AudioDepacketizer>(AudioCodec::kPcma);
  }
  return nullptr;
}

}  // namespace kvs::media
