// One direction of SRTP/SRTCP protection (libsrtp2 on our OpenSSL). An outbound session
// protects every SSRC we send; an inbound one unprotects every SSRC the peer sends.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/status.h"
#include "srtp/srtp_profile.h"

struct srtp_ctx_t_;

namespace kvs::srtp {

enum class SrtpDirection { kOutbound, kInbound };

class SrtpSession {
  struct Key {};

 public:
  // keySalt: master key followed by master salt, as SrtpKeys carries them.
  static Result<std::unique_ptr<SrtpSession>> Create(SrtpProfile profile,
                                                     const std::vector<uint8_t>& keySalt,
                                                     SrtpDirection direction);
  SrtpSession(Key, SrtpProfile profile, SrtpDirection direction, srtp_ctx_t_* ctx);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // Room a protected packet needs beyond the plain one: the tag (and, for SRTCP, the E flag
  // and index).
  // libsrtp documents that it may write SRTP_MAX_TRAILER_LEN (tag and MKI) past the packet.
  static constexpr size_t kMaxRtpTrailer = 144;
  // The inbound replay window. A packet resent after a NACK keeps its sequence number, so the
  // window must span the peer's whole retransmission history (media-facts.md: a 1024-packet
  // window broke NACK repair elsewhere); our own history is bounded by the same figure.
  static constexpr uint16_t kReplayWindowPackets = 8192;
  static constexpr size_t kMaxRtcpTrailer = 144 + 4;

  // In place on buf[0, length): buf must hold `capacity` bytes, at least length plus the
  // trailer. Returns the protected (or unprotected) length.
  Result<size_t> ProtectRtp(uint8_t* buf, size_t length, size_t capacity);
  Result<size_t> UnprotectRtp(uint8_t* buf, size_t length);
  Result<size_t> ProtectRtcp(uint8_t* buf, size_t length, size_t capacity);
  Result<size_t> UnprotectRtcp(uint8_t* buf, size_t length);

  // The same on a vector: the packet grows by the trailer or shrinks back.
  Status ProtectRtp(std::vector<uint8_t>& packet);
  Status UnprotectRtp(std::vector<uint8_t>& packet);
  Status ProtectRtcp(std::vector<uint8_t>& packet);
  Status UnprotectRtcp(std::vector<uint8_t>& packet);

  SrtpProfile profile() const { return profile_; }

 private:
  SrtpProfile profile_;
  SrtpDirection direction_;
  srtp_ctx_t_* ctx_;
};

// "libsrtp2 2.5.0"
const char* LibSrtpVersion();

}  // namespace kvs::srtp
