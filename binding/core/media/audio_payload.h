// Opus (RFC 7587) and G.711 PCMU/PCMA (RFC 3551 §4.5.14): one frame per payload, as is. Opus
// packets are self-delimiting enough for the decoder (RFC 6716 §3) and G.711 is one byte per
// sample (160 bytes per 20 ms at 8 kHz), so neither has a payload header; a frame that does not
// fit in one payload is an error (Opus has no fragmentation, and splitting G.711 would need
// timestamps, which belong to the caller).
#pragma once

#include "media/rtp_payload.h"

namespace kvs::media {

enum class AudioCodec { kOpus, kPcmu, kPcma };
const char* AudioCodecName(AudioCodec codec);  // "Opus", "PCMU", "PCMA"

class AudioPacketizer final : public Packetizer {
 public:
  explicit AudioPacketizer(AudioCodec codec) : codec_(codec) {}
  // One payload referencing the whole frame, marker false (see RtpPayload::marker). Errors:
  // ERR_MEDIA_EMPTY_FRAME (RFC 6716 R1: an Opus packet has at least its TOC byte),
  // ERR_MEDIA_FRAME_TOO_LARGE naming the frame size and maxPayload.
  Status Packetize(const SharedBytes& frame, size_t maxPayload,
                   std::vector<RtpPayload>& out) override;

 private:
  AudioCodec codec_;
};

class AudioDepacketizer final : public Depacketizer {
 public:
  explicit AudioDepacketizer(AudioCodec codec) : codec_(codec) {}
  // Exactly one non-empty payload (ERR_AUDIO_MULTIPLE_PAYLOADS otherwise); always a key frame.
  Result<Frame> Depacketize(const std::vector<ByteSpan>& payloadsInSeqOrder) const override;
  Result<PayloadInfo> Inspect(ByteSpan payload) const override;

 private:
  AudioCodec codec_;
};

}  // namespace kvs::media
