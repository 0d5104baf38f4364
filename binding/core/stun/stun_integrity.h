// STUN credentials and the integrity and fingerprint checks (RFC 8489 §9, §14.5-7). The
// checks run on the raw received bytes, never on a re-serialization: padding and ignored
// attributes are covered exactly as the sender hashed them.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace kvs::stun {

using Key = std::vector<uint8_t>;

// Short-term credentials (ICE): the password itself. RFC 8489 asks for the OpaqueString
// profile (RFC 8265) first; ICE passwords are ASCII, so the text is used as given.
Key ShortTermKey(std::string_view password);
// Long-term credentials (TURN): MD5(username ":" realm ":" password). The strings are used
// as given (no SASLprep/OpaqueString normalisation), which is exact for ASCII and for
// passwords already in normal form.
Key LongTermKey(std::string_view username, std::string_view realm, std::string_view password);
// The same with PASSWORD-ALGORITHM SHA-256 (RFC 8489 §18.5.1.2): SHA-256 of that string.
Key LongTermKeySha256(std::string_view username, std::string_view realm, std::string_view password);

// USERHASH (RFC 8489 §14.4): SHA-256(username ":" realm).
std::vector<uint8_t> Userhash(std::string_view username, std::string_view realm);

// Verifies the first MESSAGE-INTEGRITY of a raw message (header already valid).
//   ERR_STUN_EMPTY_KEY          the key is empty (an empty password, or a key derivation that
//                               failed): nothing verifies with it
//   ERR_STUN_NO_INTEGRITY       no MESSAGE-INTEGRITY attribute
//   ERR_STUN_INTEGRITY_MISMATCH the HMAC does not match the key
// and the header and TLV codes of stun_codec.h.
Status CheckMessageIntegrity(ByteSpan message, ByteSpan key);
// The same for MESSAGE-INTEGRITY-SHA256 (a truncated HMAC is compared on its length).
Status CheckMessageIntegritySha256(ByteSpan message, ByteSpan key);
// Verifies FINGERPRINT, which must be the last attribute.
//   ERR_STUN_NO_FINGERPRINT        no FINGERPRINT attribute
//   ERR_STUN_FINGERPRINT_NOT_LAST  an attribute follows it
//   ERR_STUN_FINGERPRINT_MISMATCH  the CRC does not match
Status CheckFingerprint(ByteSpan message);

// The ERR_STUN_EMPTY_KEY status.
Status EmptyKey();

// Building blocks, exposed for the serializer and the tests.
uint32_t Crc32(ByteSpan data);  // ISO-HDLC CRC-32, as zlib and RFC 1952
// ERR_STUN_CRYPTO if OpenSSL fails (then the checks fail too).
Result<std::array<uint8_t, 20>> HmacSha1(ByteSpan key, ByteSpan data);
Result<std::array<uint8_t, 32>> HmacSha256(ByteSpan key, ByteSpan data);

}  // namespace kvs::stun
