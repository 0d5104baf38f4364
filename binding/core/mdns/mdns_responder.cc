#include "mdns/mdns_responder.h"

#include <cstdio>

#include "mdns/mdns_message.h"

namespace kvs::mdns {

std::string UuidV4(const uint8_t (&bytes)[16]) {
  uint8_t b[16];
  for (size_t i = 0; i < 16; ++i) b[i] = bytes[i];
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::string Responder::NameFor(const net::Address& address, const uint8_t (&uuid)[16]) {
  net::Address ip = address;
  ip.setPort(0);
  for (const auto& e : names_) {
    if (e.address == ip) return e.name;
  }
  names_.push_back({UuidV4(uuid) + ".local", ip});
  return names_.back().name;
}

std::optional<Reply> Responder::HandleQuery(ByteSpan datagram, const net::Address& from) const {
  auto parsed = Parse(datagram);
  if (!parsed.ok() || parsed.value().isResponse()) return std::nullopt;
  const Message& q = parsed.value();
  std::vector<Record> answers;
  bool unicast = from.port() != kPort;  // a legacy one-shot resolver: answer it directly
  for (const Question& question : q.questions) {
    for (const auto& e : names_) {
      if (!SameName(question.name, e.name)) continue;
      const uint16_t type = e.address.isIpv4() ? kTypeA : kTypeAaaa;
      if (question.type != type && question.type != kTypeAny) continue;
      Record r;
      r.name = e.name;
      r.type = type;
      r.cacheFlush = from.port() == kPort;  // §10.2: not in legacy unicast answers
      r.ttl = kTtlSeconds;
      r.address = e.address;
      answers.push_back(std::move(r));
      unicast |= question.unicastResponse;
    }
  }
  if (answers.empty()) return std::nullopt;
  auto bytes = BuildResponse(answers);
  if (!bytes.ok()) return std::nullopt;
  Reply reply;
  reply.bytes = bytes.take();
  if (unicast) {
    reply.unicastTo = from;
    // §6.7: a legacy resolver matches the answer to its query by id.
    if (from.port() != kPort && reply.bytes.size() >= 2) {
      reply.bytes[0] = static_cast<uint8_t>(q.id >> 8);
      reply.bytes[1] = static_cast<uint8_t>(q.id & 0xFF);
    }
  }
  return reply;
}

}  // namespace kvs::mdns
