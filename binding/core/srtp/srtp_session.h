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

  // In place: the packet grows by the authentication tag (and SRTCP index) or shrinks back.
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
