// Builders for the messages ICE and the TURN client send and answer, so those state machines
// stay short. Each returns a Message: serialize it with stun_codec.h (SerializeWithIntegrity
// for authenticated ones). Transaction ids are inputs, so the builders are deterministic;
// NewTransactionId() draws one from OpenSSL's RNG.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "net/address.h"
#include "stun/stun_message.h"

namespace kvs::stun {

//   ERR_STUN_RANDOM  OpenSSL's RNG failed
Result<TransactionId> NewTransactionId();

// --- Binding (RFC 8489, ICE connectivity checks RFC 8445 §7.1) ---

// A plain Binding request (server-reflexive discovery, keepalive).
Message BindingRequest(const TransactionId& tid);

struct IceCheck {
  std::string username;   // "remoteUfrag:localUfrag"
  uint32_t priority = 0;  // the prflx priority of the local candidate
  bool controlling = false;
  uint64_t tieBreaker = 0;
  bool useCandidate = false;  // only when controlling (nomination)
};
// USERNAME, PRIORITY, ICE-CONTROLLING or ICE-CONTROLLED, USE-CANDIDATE; add MESSAGE-INTEGRITY
// with the remote password and FINGERPRINT when serializing.
Message IceBindingRequest(const TransactionId& tid, const IceCheck& check);

// The ICE attributes of a received Binding request.
struct IceCheckAttributes {
  std::string username;
  std::optional<uint32_t> priority;
  std::optional<uint64_t> controlling;  // tie-breaker if ICE-CONTROLLING
  std::optional<uint64_t> controlled;   // tie-breaker if ICE-CONTROLLED
  bool useCandidate = false;
};
IceCheckAttributes ReadIceCheck(const Message& request);

// The receiving agent's checks of a Binding request (RFC 8445 §7.3, RFC 8489 §9.1.3), on
// the raw bytes it arrived as and their parse. In order:
//   ERR_STUN_NO_FINGERPRINT, ERR_STUN_FINGERPRINT_MISMATCH  not an ICE check: drop silently
//   ERR_STUN_BAD_REQUEST   no USERNAME or no MESSAGE-INTEGRITY: answer 400
//   ERR_STUN_UNAUTHORIZED  USERNAME is not "localUfrag:..." or the HMAC fails with the local
//                          password: answer 401
Status AuthenticateIceRequest(ByteSpan raw, const Message& request, std::string_view localUfrag,
                              ByteSpan localKey);
// The error response code a failed check calls for (400, 401), or 0 to drop silently.
uint16_t ErrorResponseCodeFor(const Status& check);

// Success answer with the request's source as XOR-MAPPED-ADDRESS.
Message BindingSuccess(const TransactionId& tid, const net::Address& mapped);
// Error answer for any method; reason defaults to the RFC's phrase.
Message ErrorResponse(Method method, const TransactionId& tid, uint16_t code,
                      std::string reason = {});
// 420 for a request whose unknownRequired is not empty, listing those attributes.
Message UnknownAttributeResponse(const Message& request);

// --- TURN (RFC 8656) ---

// The long-term credential attributes a TURN request carries once challenged (after a 401
// or 438): USERNAME, REALM, NONCE. Add MESSAGE-INTEGRITY with LongTermKey() when serializing.
struct TurnCredentials {
  std::string username;
  std::string realm;
  std::string nonce;
};

struct AllocateParams {
  uint8_t transport = kTransportUdp;  // REQUESTED-TRANSPORT
  std::optional<net::Family> family;  // REQUESTED-ADDRESS-FAMILY (IPv4 is the default)
  std::optional<uint32_t> lifetime;   // seconds
  bool dontFragment = false;
  std::optional<bool> evenPort;  // EVEN-PORT with its R bit
  std::optional<TurnCredentials> credentials;
};
Message AllocateRequest(const TransactionId& tid, const AllocateParams& params);
// lifetime 0 deletes the allocation.
Message RefreshRequest(const TransactionId& tid, uint32_t lifetime,
                       const std::optional<TurnCredentials>& credentials);
Message CreatePermissionRequest(const TransactionId& tid, const std::vector<net::Address>& peers,
                                const std::optional<TurnCredentials>& credentials);
Message ChannelBindRequest(const TransactionId& tid, uint16_t channel, const net::Address& peer,
                           const std::optional<TurnCredentials>& credentials);
Message SendIndication(const TransactionId& tid, const net::Address& peer, ByteSpan data,
                       bool dontFragment = false);

// A Data indication's peer and payload (the span points into the message).
struct DataIndication {
  net::Address peer;
  ByteSpan data;
};
//   ERR_STUN_WRONG_MESSAGE  not a Data indication
//   ERR_STUN_MISSING_ATTRIBUTE  no XOR-PEER-ADDRESS or no DATA
Result<DataIndication> ReadDataIndication(const Message& message);

// What an Allocate success response says.
struct AllocateSuccess {
  std::vector<net::Address> relayed;  // one per family (RFC 8656 allows two)
  std::optional<net::Address> mapped;
  uint32_t lifetime = 0;
  std::optional<std::vector<uint8_t>> reservationToken;
};
//   ERR_STUN_WRONG_MESSAGE, ERR_STUN_MISSING_ATTRIBUTE (XOR-RELAYED-ADDRESS or LIFETIME)
Result<AllocateSuccess> ReadAllocateSuccess(const Message& message);

// The realm and nonce of a 401 or 438 challenge, and the error code.
struct Challenge {
  uint16_t code = 0;
  std::string realm;  // empty on a 438 that only refreshes the nonce
  std::string nonce;
};
//   ERR_STUN_WRONG_MESSAGE  not an error response, or not 401/438
//   ERR_STUN_MISSING_ATTRIBUTE  no NONCE (or no REALM on a 401)
Result<Challenge> ReadChallenge(const Message& message);

}  // namespace kvs::stun
