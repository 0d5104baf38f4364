#include "stun/stun_builders.h"

#include <openssl/rand.h>

#include "crypto/openssl.h"
#include "stun/stun_integrity.h"

namespace kvs::stun {
namespace {

void AddCredentials(Message& m, const std::optional<TurnCredentials>& c) {
  if (!c) return;
  m.AddText(attr::kUsername, c->username);
  m.AddText(attr::kRealm, c->realm);
  m.AddText(attr::kNonce, c->nonce);
}

Status Missing(const char* what) {
  return Status::Fail("ERR_STUN_MISSING_ATTRIBUTE", std::string("no ") + what);
}

}  // namespace

Result<TransactionId> NewTransactionId() {
  crypto::EnsureOpenSslInitialised();
  TransactionId tid{};
  if (RAND_bytes(tid.data(), static_cast<int>(tid.size())) != 1) {
    return Status::Fail("ERR_STUN_RANDOM", crypto::TakeOpenSslErrors());
  }
  return tid;
}

Message BindingRequest(const TransactionId& tid) {
  return Message(Method::kBinding, Class::kRequest, tid);
}

Message IceBindingRequest(const TransactionId& tid, const IceCheck& check) {
  Message m(Method::kBinding, Class::kRequest, tid);
  m.AddText(attr::kUsername, check.username);
  m.AddU32(attr::kPriority, check.priority);
  m.AddU64(check.controlling ? attr::kIceControlling : attr::kIceControlled, check.tieBreaker);
  if (check.useCandidate) m.AddFlag(attr::kUseCandidate);
  return m;
}

IceCheckAttributes ReadIceCheck(const Message& request) {
  IceCheckAttributes out;
  if (auto u = request.GetText(attr::kUsername)) out.username = std::string(*u);
  out.priority = request.GetU32(attr::kPriority);
  out.controlling = request.GetU64(attr::kIceControlling);
  out.controlled = request.GetU64(attr::kIceControlled);
  out.useCandidate = request.Has(attr::kUseCandidate);
  return out;
}

Status AuthenticateIceRequest(ByteSpan raw, const Message& request, std::string_view localUfrag,
                              ByteSpan localKey) {
  Status fingerprint = CheckFingerprint(raw);
  if (!fingerprint.ok()) return fingerprint;
  auto username = request.GetText(attr::kUsername);
  if (!username || !request.hadMessageIntegrity) {
    return Status::Fail("ERR_STUN_BAD_REQUEST", !username ? "no USERNAME" : "no MESSAGE-INTEGRITY");
  }
  if (username->size() <= localUfrag.size() ||
      username->substr(0, localUfrag.size()) != localUfrag ||
      (*username)[localUfrag.size()] != ':') {
    return Status::Fail("ERR_STUN_UNAUTHORIZED",
                        "USERNAME \"" + std::string(*username) + "\" is not for this agent");
  }
  Status integrity = CheckMessageIntegrity(raw, localKey);
  if (!integrity.ok()) return Status::Fail("ERR_STUN_UNAUTHORIZED", integrity.message());
  return Status::Ok();
}

uint16_t ErrorResponseCodeFor(const Status& check) {
  if (check.code() == "ERR_STUN_BAD_REQUEST") return error::kBadRequest;
  if (check.code() == "ERR_STUN_UNAUTHORIZED") return error::kUnauthorized;
  return 0;
}

Message BindingSuccess(const TransactionId& tid, const net::Address& mapped) {
  Message m(Method::kBinding, Class::kSuccessResponse, tid);
  m.AddXorAddress(attr::kXorMappedAddress, mapped);
  return m;
}

Message ErrorResponse(Method method, const TransactionId& tid, uint16_t code, std::string reason) {
  Message m(method, Class::kErrorResponse, tid);
  m.AddErrorCode(code, reason.empty() ? DefaultReason(code) : reason);
  return m;
}

Message UnknownAttributeResponse(const Message& request) {
  Message m = ErrorResponse(request.method, request.transactionId, error::kUnknownAttribute);
  m.AddUnknownAttributes(request.unknownRequired);
  return m;
}

Message AllocateRequest(const TransactionId& tid, const AllocateParams& p) {
  Message m(Method::kAllocate, Class::kRequest, tid);
  m.AddRequestedTransport(p.transport);
  if (p.family) m.AddRequestedAddressFamily(*p.family);
  if (p.lifetime) m.AddU32(attr::kLifetime, *p.lifetime);
  if (p.dontFragment) m.AddFlag(attr::kDontFragment);
  if (p.evenPort) m.AddEvenPort(*p.evenPort);
  AddCredentials(m, p.credentials);
  return m;
}

Message RefreshRequest(const TransactionId& tid, uint32_t lifetime,
                       const std::optional<TurnCredentials>& credentials) {
  Message m(Method::kRefresh, Class::kRequest, tid);
  m.AddU32(attr::kLifetime, lifetime);
  AddCredentials(m, credentials);
  return m;
}

Message CreatePermissionRequest(const TransactionId& tid, const std::vector<net::Address>& peers,
                                const std::optional<TurnCredentials>& credentials) {
  Message m(Method::kCreatePermission, Class::kRequest, tid);
  for (const auto& peer : peers) m.AddXorAddress(attr::kXorPeerAddress, peer);
  AddCredentials(m, credentials);
  return m;
}

Message ChannelBindRequest(const TransactionId& tid, uint16_t channel, const net::Address& peer,
                           const std::optional<TurnCredentials>& credentials) {
  Message m(Method::kChannelBind, Class::kRequest, tid);
  m.AddChannelNumber(channel);
  m.AddXorAddress(attr::kXorPeerAddress, peer);
  AddCredentials(m, credentials);
  return m;
}

Message SendIndication(const TransactionId& tid, const net::Address& peer, ByteSpan data,
                       bool dontFragment) {
  Message m(Method::kSend, Class::kIndication, tid);
  m.AddXorAddress(attr::kXorPeerAddress, peer);
  if (dontFragment) m.AddFlag(attr::kDontFragment);
  m.AddBytes(attr::kData, data);
  return m;
}

Result<DataIndication> ReadDataIndication(const Message& m) {
  if (!m.Is(Method::kData, Class::kIndication)) {
    return Status::Fail("ERR_STUN_WRONG_MESSAGE", "not a Data indication");
  }
  auto peer = m.GetXorAddress(attr::kXorPeerAddress);
  if (!peer) return Missing("XOR-PEER-ADDRESS");
  auto data = m.GetBytes(attr::kData);
  if (!data) return Missing("DATA");
  return DataIndication{*peer, *data};
}

Result<AllocateSuccess> ReadAllocateSuccess(const Message& m) {
  if (!m.Is(Method::kAllocate, Class::kSuccessResponse)) {
    return Status::Fail("ERR_STUN_WRONG_MESSAGE", "not an Allocate success response");
  }
  AllocateSuccess out;
  out.relayed = m.GetAllXorAddresses(attr::kXorRelayedAddress);
  if (out.relayed.empty()) return Missing("XOR-RELAYED-ADDRESS");
  auto lifetime = m.GetU32(attr::kLifetime);
  if (!lifetime) return Missing("LIFETIME");
  out.lifetime = *lifetime;
  out.mapped = m.GetXorAddress(attr::kXorMappedAddress);
  if (auto token = m.GetBytes(attr::kReservationToken)) {
    out.reservationToken = std::vector<uint8_t>(token->data, token->data + token->size);
  }
  return out;
}

Result<Challenge> ReadChallenge(const Message& m) {
  auto ec = m.GetErrorCode();
  if (m.cls != Class::kErrorResponse || !ec ||
      (ec->code != error::kUnauthorized && ec->code != error::kStaleNonce)) {
    return Status::Fail("ERR_STUN_WRONG_MESSAGE", "not a 401 or 438 error response");
  }
  Challenge c;
  c.code = ec->code;
  auto nonce = m.GetText(attr::kNonce);
  if (!nonce) return Missing("NONCE");
  c.nonce = std::string(*nonce);
  auto realm = m.GetText(attr::kRealm);
  if (!realm && c.code == error::kUnauthorized) return Missing("REALM");
  if (realm) c.realm = std::string(*realm);
  return c;
}

}  // namespace kvs::stun
