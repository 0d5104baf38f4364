#include "srtp/srtp_session.h"

#include <srtp2/srtp.h>

#include <mutex>
#include <string>

#include "crypto/openssl.h"

namespace kvs::srtp {
namespace {

// libsrtp2 keeps process-wide state (crypto kernel); it is initialised once and kept.
Status EnsureLibSrtp() {
  static srtp_err_status_t initStatus = [] {
    crypto::EnsureOpenSslInitialised();
    return srtp_init();
  }();
  if (initStatus != srtp_err_status_ok) {
    return Status::Fail("ERR_SRTP_INIT", "srtp_init failed with status " +
                                             std::to_string(static_cast<int>(initStatus)));
  }
  return Status::Ok();
}

Status SrtpFailure(const char* what, srtp_err_status_t st) {
  const char* code = "ERR_SRTP";
  switch (st) {
    case srtp_err_status_auth_fail:
      code = "ERR_SRTP_AUTH_FAIL";
      break;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      code = "ERR_SRTP_REPLAY";
      break;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
      code = "ERR_SRTP_MALFORMED";
      break;
    default:
      break;
  }
  return Status::Fail(code,
                      std::string(what) + " failed (libsrtp status " + std::to_string(st) + ")");
}

void SetPolicies(SrtpProfile profile, srtp_policy_t& policy) {
  switch (profile) {
    case SrtpProfile::kAesCm128HmacSha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      break;
    case SrtpProfile::kAesCm128HmacSha1_32:
      // RFC 5764 §4.1.2: the short tag applies to SRTP only; SRTCP keeps 80 bits.
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      break;
    case SrtpProfile::kAeadAes128Gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
      break;
  }
}

// srtp_protect_rtcp appends the tag and MKI plus the 4-byte E flag and SRTCP index.
constexpr size_t kSrtcpTrailerRoom = SRTP_MAX_TRAILER_LEN + 4;

}  // namespace

Result<std::unique_ptr<SrtpSession>> SrtpSession::Create(SrtpProfile profile,
                                                         const std::vector<uint8_t>& keySalt,
                                                         SrtpDirection direction) {
  Status init = EnsureLibSrtp();
  if (!init.ok()) return init;
  const auto& info = InfoOf(profile);
  if (keySalt.size() != info.keyLength + info.saltLength) {
    return Status::Fail("ERR_INVALID_ARGUMENT",
                        std::string(info.name) + " needs a " +
                            std::to_string(info.keyLength + info.saltLength) +
                            "-byte key and salt, got " + std::to_string(keySalt.size()));
  }
  // libsrtp reads the key during srtp_create and keeps its own expanded copy.
  std::vector<uint8_t> key = keySalt;
  srtp_policy_t policy{};
  SetPolicies(profile, policy);
  policy.ssrc.type = direction == SrtpDirection::kOutbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = key.data();
  policy.window_size = SrtpSession::kReplayWindowPackets;
  // NACK-driven retransmissions resend packets with their original sequence number.
  policy.allow_repeat_tx = direction == SrtpDirection::kOutbound ? 1 : 0;
  policy.next = nullptr;
  srtp_t ctx = nullptr;
  srtp_err_status_t st = srtp_create(&ctx, &policy);
  if (st != srtp_err_status_ok) return SrtpFailure("srtp_create", st);
  return std::make_unique<SrtpSession>(Key{}, profile, direction, ctx);
}

SrtpSession::SrtpSession(Key, SrtpProfile profile, SrtpDirection direction, srtp_ctx_t_* ctx)
    : profile_(profile), direction_(direction), ctx_(ctx) {}

SrtpSession::~SrtpSession() { srtp_dealloc(ctx_); }

static_assert(SrtpSession::kMaxRtpTrailer >= SRTP_MAX_TRAILER_LEN, "room for the SRTP tag");
static_assert(SrtpSession::kMaxRtcpTrailer >= kSrtcpTrailerRoom, "room for the SRTCP trailer");

Result<size_t> SrtpSession::ProtectRtp(uint8_t* buf, size_t length, size_t capacity) {
  if (direction_ != SrtpDirection::kOutbound) {
    return Status::Fail("ERR_INVALID_STATE", "protect on an inbound SRTP session");
  }
  if (length < 12) return Status::Fail("ERR_SRTP_MALFORMED", "RTP packet under 12 bytes");
  if (capacity < length + SRTP_MAX_TRAILER_LEN || length > 65535) {
    return Status::Fail("ERR_INVALID_ARGUMENT", "no room for the SRTP trailer");
  }
  int len = static_cast<int>(length);
  const srtp_err_status_t st = srtp_protect(ctx_, buf, &len);
  if (st != srtp_err_status_ok) return SrtpFailure("srtp_protect", st);
  return static_cast<size_t>(len);
}

Result<size_t> SrtpSession::UnprotectRtp(uint8_t* buf, size_t length) {
  if (direction_ != SrtpDirection::kInbound) {
    return Status::Fail("ERR_INVALID_STATE", "unprotect on an outbound SRTP session");
  }
  if (length < 12 || length > 65535) {
    return Status::Fail("ERR_SRTP_MALFORMED",
                        "SRTP packet of " + std::to_string(length) + " bytes");
  }
  int len = static_cast<int>(length);
  const srtp_err_status_t st = srtp_unprotect(ctx_, buf, &len);
  if (st != srtp_err_status_ok) return SrtpFailure("srtp_unprotect", st);
  return static_cast<size_t>(len);
}

Result<size_t> SrtpSession::ProtectRtcp(uint8_t* buf, size_t length, size_t capacity) {
  if (direction_ != SrtpDirection::kOutbound) {
    return Status::Fail("ERR_INVALID_STATE", "protect on an inbound SRTP session");
  }
  if (length < 8) return Status::Fail("ERR_SRTP_MALFORMED", "RTCP packet under 8 bytes");
  if (capacity < length + kSrtcpTrailerRoom || length > 65535) {
    return Status::Fail("ERR_INVALID_ARGUMENT", "no room for the SRTCP trailer");
  }
  int len = static_cast<int>(length);
  const srtp_err_status_t st = srtp_protect_rtcp(ctx_, buf, &len);
  if (st != srtp_err_status_ok) return SrtpFailure("srtp_protect_rtcp", st);
  return static_cast<size_t>(len);
}

Result<size_t> SrtpSession::UnprotectRtcp(uint8_t* buf, size_t length) {
  if (direction_ != SrtpDirection::kInbound) {
    return Status::Fail("ERR_INVALID_STATE", "unprotect on an outbound SRTP session");
  }
  if (length < 8 || length > 65535) {
    return Status::Fail("ERR_SRTP_MALFORMED",
                        "SRTCP packet of " + std::to_string(length) + " bytes");
  }
  int len = static_cast<int>(length);
  const srtp_err_status_t st = srtp_unprotect_rtcp(ctx_, buf, &len);
  if (st != srtp_err_status_ok) return SrtpFailure("srtp_unprotect_rtcp", st);
  return static_cast<size_t>(len);
}

namespace {

// Grows the vector for the trailer, runs `op`, and trims to the result either way.
template <typename Op>
Status InVector(std::vector<uint8_t>& packet, size_t trailer, Op op) {
  const size_t length = packet.size();
  packet.resize(length + trailer);
  Result<size_t> r = op(packet.data(), length, packet.size());
  packet.resize(r.ok() ? r.value() : length);
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace

Status SrtpSession::ProtectRtp(std::vector<uint8_t>& packet) {
  return InVector(packet, SRTP_MAX_TRAILER_LEN,
                  [this](uint8_t* b, size_t n, size_t cap) { return ProtectRtp(b, n, cap); });
}

Status SrtpSession::UnprotectRtp(std::vector<uint8_t>& packet) {
  return InVector(packet, 0, [this](uint8_t* b, size_t n, size_t) { return UnprotectRtp(b, n); });
}

Status SrtpSession::ProtectRtcp(std::vector<uint8_t>& packet) {
  return InVector(packet, kSrtcpTrailerRoom,
                  [this](uint8_t* b, size_t n, size_t cap) { return ProtectRtcp(b, n, cap); });
}

Status SrtpSession::UnprotectRtcp(std::vector<uint8_t>& packet) {
  return InVector(packet, 0, [this](uint8_t* b, size_t n, size_t) { return UnprotectRtcp(b, n); });
}

const char* LibSrtpVersion() { return srtp_get_version_string(); }

}  // namespace kvs::srtp
