#include "mdns/mdns_message.h"

#include <cctype>

namespace kvs::mdns {
namespace {

// More pointers than labels a 255-byte name can hold means a loop.
constexpr int kMaxPointerHops = 128;

Status BadName(const std::string& why) { return Status::Fail("ERR_MDNS_NAME", why); }
Status Truncated(const std::string& where) {
  return Status::Fail("ERR_MDNS_TRUNCATED", "mDNS message truncated in " + where);
}

Status WriteName(ByteWriter& w, std::string_view name) {
  if (name.empty()) return BadName("empty name");
  if (name.back() == '.') name.remove_suffix(1);
  if (name.size() + 2 > kMaxNameLength) return BadName("name longer than 255 bytes");
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    const size_t length = dot - start;
    if (length == 0) return BadName("empty label in \"" + std::string(name) + "\"");
    if (length > kMaxLabelLength) return BadName("label longer than 63 bytes");
    w.u8(static_cast<uint8_t>(length));
    w.text(name.substr(start, length));
    start = dot + 1;
  }
  w.u8(0);
  return Status::Ok();
}

// Reads a name at `offset` of the whole message; `next` is where the record continues
// (after the name's first pointer, or its terminating zero).
Status ReadName(ByteSpan message, size_t offset, std::string& out, size_t& next) {
  out.clear();
  size_t pos = offset;
  bool jumped = false;
  int hops = 0;
  size_t wireLength = 1;  // the root label
  for (;;) {
    if (pos >= message.size) return Truncated("a name");
    const uint8_t length = message.data[pos];
    if ((length & 0xC0) == 0xC0) {
      if (pos + 1 >= message.size) return Truncated("a name pointer");
      const size_t target = (static_cast<size_t>(length & 0x3F) << 8) | message.data[pos + 1];
      // Only backwards: a pointer to itself or later could loop or read ahead of the name.
      if (target >= pos) return BadName("compression pointer that does not point backwards");
      if (++hops > kMaxPointerHops) return BadName("too many compression pointers");
      if (!jumped) next = pos + 2;
      jumped = true;
      pos = target;
      continue;
    }
    if ((length & 0xC0) != 0) return BadName("reserved label type");
    if (length == 0) {
      if (!jumped) next = pos + 1;
      return Status::Ok();
    }
    if (pos + 1 + length > message.size) return Truncated("a label");
    wireLength += 1u + length;
    if (wireLength > kMaxNameLength) return BadName("name longer than 255 bytes");
    if (!out.empty()) out.push_back('.');
    out.append(reinterpret_cast<const char*>(message.data + pos + 1), length);
    pos += 1u + length;
  }
}

Status ReadRecords(ByteSpan message, size_t& pos, uint16_t count, std::vector<Record>& out) {
  for (uint16_t i = 0; i < count; ++i) {
    Record r;
    size_t next = 0;
    Status st = ReadName(message, pos, r.name, next);
    if (!st.ok()) return st;
    ByteReader reader(message.sub(next, message.size - next));
    r.type = reader.u16();
    const uint16_t rrClass = reader.u16();
    r.ttl = reader.u32();
    const uint16_t rdLength = reader.u16();
    ByteSpan rdata = reader.bytes(rdLength);
    if (!reader.ok()) return Truncated("a record");
    r.rrClass = static_cast<uint16_t>(rrClass & ~kClassTopBit);
    r.cacheFlush = (rrClass & kClassTopBit) != 0;
    r.rdata.assign(rdata.data, rdata.data + rdata.size);
    if (r.type == kTypeA && rdata.size == 4) {
      r.address =
          net::Address::Ipv4({rdata.data[0], rdata.data[1], rdata.data[2], rdata.data[3]}, 0);
    } else if (r.type == kTypeAaaa && rdata.size == 16) {
      std::array<uint8_t, 16> ip{};
      for (size_t k = 0; k < 16; ++k) ip[k] = rdata.data[k];
      r.address = net::Address::Ipv6(ip, 0);
    }
    pos = next + reader.position();
    out.push_back(std::move(r));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<uint8_t>> BuildQuery(const std::vector<Question>& questions) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u16(0);  // id
  w.u16(0);  // flags: a standard query
  w.u16(static_cast<uint16_t>(questions.size()));
  w.u16(0);
  w.u16(0);
  w.u16(0);
  for (const auto& q : questions) {
    Status st = WriteName(w, q.name);
    if (!st.ok()) return st;
    w.u16(q.type);
    w.u16(static_cast<uint16_t>(kClassIn | (q.unicastResponse ? kClassTopBit : 0)));
  }
  return out;
}

Result<std::vector<uint8_t>> BuildResponse(const std::vector<Record>& answers) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u16(0);
  w.u16(kFlagResponse | kFlagAuthoritative);
  w.u16(0);
  w.u16(static_cast<uint16_t>(answers.size()));
  w.u16(0);
  w.u16(0);
  for (const auto& r : answers) {
    Status st = WriteName(w, r.name);
    if (!st.ok()) return st;
    std::vector<uint8_t> rdata = r.rdata;
    if (rdata.empty() && r.address)
      rdata.assign(r.address->ipBytes(), r.address->ipBytes() + r.address->ipSize());
    w.u16(r.type);
    w.u16(static_cast<uint16_t>(r.rrClass | (r.cacheFlush ? kClassTopBit : 0)));
    w.u32(r.ttl);
    w.u16(static_cast<uint16_t>(rdata.size()));
    w.bytes(ByteSpan(rdata));
  }
  return out;
}

Result<Message> Parse(ByteSpan datagram) {
  ByteReader header(datagram);
  Message m;
  m.id = header.u16();
  m.flags = header.u16();
  const uint16_t qd = header.u16();
  const uint16_t an = header.u16();
  const uint16_t ns = header.u16();
  const uint16_t ar = header.u16();
  if (!header.ok()) return Truncated("the header");
  size_t pos = header.position();
  for (uint16_t i = 0; i < qd; ++i) {
    Question q;
    size_t next = 0;
    Status st = ReadName(datagram, pos, q.name, next);
    if (!st.ok()) return st;
    ByteReader reader(datagram.sub(next, datagram.size - next));
    q.type = reader.u16();
    const uint16_t qClass = reader.u16();
    if (!reader.ok()) return Truncated("a question");
    q.unicastResponse = (qClass & kClassTopBit) != 0;
    pos = next + reader.position();
    m.questions.push_back(std::move(q));
  }
  for (auto [count, list] :
       {std::pair{an, &m.answers}, std::pair{ns, &m.authorities}, std::pair{ar, &m.additionals}}) {
    Status st = ReadRecords(datagram, pos, count, *list);
    if (!st.ok()) return st;
  }
  return m;
}

bool SameName(std::string_view a, std::string_view b) {
  if (!a.empty() && a.back() == '.') a.remove_suffix(1);
  if (!b.empty() && b.back() == '.') b.remove_suffix(1);
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool IsMdnsCandidateName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  constexpr std::string_view kSuffix = ".local";
  if (name.size() <= kSuffix.size() || name.size() > kMaxNameLength - 2) return false;
  if (!SameName(name.substr(name.size() - kSuffix.size()), kSuffix)) return false;
  const std::string_view label = name.substr(0, name.size() - kSuffix.size());
  return !label.empty() && label.size() <= kMaxLabelLength &&
         label.find('.') == std::string_view::npos;
}

}  // namespace kvs::mdns
