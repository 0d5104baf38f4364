#include "mdns/mdns_resolver.h"

#include <cctype>

#include "mdns/mdns_message.h"

namespace kvs::mdns {

std::string Resolver::Key(const std::string& name) {
  std::string key = name;
  if (!key.empty() && key.back() == '.') key.pop_back();
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

bool Resolver::Resolve(const std::string& name, uint64_t nowMs) {
  const std::string key = Key(name);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    if (it->second.resolved) outcomes_.push_back({name, it->second.address, ""});
    return true;  // answered already, or the query under way will settle it
  }
  if (!IsMdnsCandidateName(name)) {
    outcomes_.push_back({name, std::nullopt, "\"" + name + "\" is not an mDNS candidate name"});
    return false;
  }
  if (entries_.size() >= config_.maxNames) {
    outcomes_.push_back(
        {name, std::nullopt, "too many mDNS names (" + std::to_string(config_.maxNames) + ")"});
    return false;
  }
  Entry e;
  e.name = name;
  e.startedMs = nowMs;
  e.intervalMs = config_.firstRepeatMs;
  Query(e, nowMs);
  entries_.emplace(key, std::move(e));
  return true;
}

void Resolver::Query(Entry& e, uint64_t nowMs) {
  // QM questions (multicast answers): the responders of browsers answer those; the QU bit
  // is only a hint that some ignore. One question per message: Chromium's responder parses
  // a query with exactly one question (net::DnsQuery) and drops the rest.
  for (uint16_t type : {kTypeA, kTypeAaaa}) {
    auto query = BuildQuery({{e.name, type, false}});
    if (!query.ok()) continue;
    queries_.push_back(query.take());
    ++queriesSent_;
  }
  e.nextQueryMs = nowMs + e.intervalMs;
  e.intervalMs *= 2;
}

bool Resolver::HandlePacket(ByteSpan datagram, uint64_t nowMs) {
  (void)nowMs;  // answers settle names whenever they come before the timeout
  auto parsed = Parse(datagram);
  if (!parsed.ok() || !parsed.value().isResponse()) return false;
  bool settled = false;
  const Message& m = parsed.value();
  for (const auto* list : {&m.answers, &m.additionals}) {
    for (const Record& r : *list) {
      if (!r.address || r.rrClass != kClassIn) continue;
      auto it = entries_.find(Key(r.name));
      if (it == entries_.end() || it->second.resolved) continue;
      // The first address answered wins: the draft's names map to one address each.
      it->second.resolved = true;
      it->second.address = *r.address;
      outcomes_.push_back({it->second.name, *r.address, ""});
      settled = true;
    }
  }
  return settled;
}

void Resolver::Tick(uint64_t nowMs) {
  if (lastTickMs_ && nowMs > *lastTickMs_ + config_.stallThresholdMs) {
    const uint64_t gap = nowMs - *lastTickMs_;
    for (auto& [key, e] : entries_) {
      if (!e.resolved) e.startedMs += gap;
    }
  }
  lastTickMs_ = nowMs;
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    if (e.resolved) {
      ++it;
      continue;
    }
    if (nowMs >= e.startedMs + config_.timeoutMs) {
      outcomes_.push_back({e.name, std::nullopt,
                           "mDNS name " + e.name + " was not resolved within " +
                               std::to_string(config_.timeoutMs) + " ms"});
      it = entries_.erase(it);  // a later candidate with the name may try again
      continue;
    }
    if (nowMs >= e.nextQueryMs) Query(e, nowMs);
    ++it;
  }
}

std::optional<uint64_t> Resolver::NextTickMs() const {
  std::optional<uint64_t> next;
  for (const auto& [key, e] : entries_) {
    if (e.resolved) continue;
    const uint64_t t = std::min(e.nextQueryMs, e.startedMs + config_.timeoutMs);
    if (!next || t < *next) next = t;
  }
  return next;
}

std::vector<std::vector<uint8_t>> Resolver::TakeQueries() { return std::exchange(queries_, {}); }
std::vector<Outcome> Resolver::TakeOutcomes() { return std::exchange(outcomes_, {}); }

size_t Resolver::pending() const {
  size_t n = 0;
  for (const auto& [key, e] : entries_) n += e.resolved ? 0 : 1;
  return n;
}

}  // namespace kvs::mdns
