// Multicast DNS messages (RFC 6762 over the DNS wire format of RFC 1035): the queries an ICE
// agent sends to resolve a peer's ".local" candidate name (draft-ietf-mmusic-mdns-ice-
// candidates) and the answers it reads back, plus the answers a responder sends for its own
// names. A pure codec: no I/O, no state. Every byte is bounds-checked; names may use
// compression pointers (RFC 1035 §4.1.4), followed only backwards and a bounded number of
// times, so no input can loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "net/address.h"

namespace kvs::mdns {

constexpr uint16_t kPort = 5353;
constexpr const char* kGroupIpv4 = "224.0.0.251";
constexpr const char* kGroupIpv6 = "ff02::fb";

constexpr uint16_t kTypeA = 1;
constexpr uint16_t kTypeAaaa = 28;
constexpr uint16_t kTypeAny = 255;
constexpr uint16_t kClassIn = 1;
// The top bit of a question's class asks for a unicast answer (QU, RFC 6762 §5.4); of a
// record's class it flushes caches (RFC 6762 §10.2).
constexpr uint16_t kClassTopBit = 0x8000;
constexpr uint16_t kFlagResponse = 0x8000;       // QR
constexpr uint16_t kFlagAuthoritative = 0x0400;  // AA

// RFC 1035 §2.3.4.
constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxLabelLength = 63;

struct Question {
  std::string name;  // dotted, without the trailing dot: "1f0e...-uuid.local"
  uint16_t type = kTypeA;
  bool unicastResponse = false;
};

struct Record {
  std::string name;
  uint16_t type = kTypeA;
  uint16_t rrClass = kClassIn;  // without the cache-flush bit
  bool cacheFlush = false;
  uint32_t ttl = 0;
  std::vector<uint8_t> rdata;
  // A and AAAA records: the address (port 0). Unset for other types or a bad length.
  std::optional<net::Address> address;
};

struct Message {
  uint16_t id = 0;
  uint16_t flags = 0;
  std::vector<Question> questions;
  std::vector<Record> answers;
  std::vector<Record> authorities;
  std::vector<Record> additionals;

  bool isResponse() const { return (flags & kFlagResponse) != 0; }
};

// RFC 6762 §18: multicast queries carry id 0 and no flags.
//   ERR_MDNS_NAME  a name that is empty, too long, or has an empty or too long label
Result<std::vector<uint8_t>> BuildQuery(const std::vector<Question>& questions);
// An authoritative response with the given answers (A/AAAA from `address` when rdata is
// empty), id 0.
//   ERR_MDNS_NAME
Result<std::vector<uint8_t>> BuildResponse(const std::vector<Record>& answers);

//   ERR_MDNS_TRUNCATED  the message ends inside a header, question, record or name
//   ERR_MDNS_NAME       a bad label length, a forward or looping compression pointer, a name
//                       longer than 255 bytes
Result<Message> Parse(ByteSpan datagram);

// DNS names compare without regard to ASCII case (RFC 1035 §2.3.3, RFC 6762 §16).
bool SameName(std::string_view a, std::string_view b);

// The draft's names: a UUID (or any label) under ".local", one label before it.
bool IsMdnsCandidateName(std::string_view name);

}  // namespace kvs::mdns
