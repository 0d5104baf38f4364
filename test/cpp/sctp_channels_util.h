// Two DataChannels (a DTLS client and a DTLS server) joined by a TestLink, with everything
// they report recorded; and a reader of the DATA chunks in an SCTP packet, to check the wire.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <vector>

#include "common/bytes.h"
#include "sctp/data_channels.h"
#include "sctp_test_link.h"

namespace kvs::testing {

inline std::vector<uint8_t> Pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    v[i] = static_cast<uint8_t>(x);
  }
  return v;
}

struct DataChunk {
  uint16_t streamId = 0;
  uint32_t ppid = 0;
  bool unordered = false;
  std::vector<uint8_t> payload;
};

// The DATA chunks (RFC 4960 §3.3.1) of one SCTP packet.
inline std::vector<DataChunk> DataChunks(ByteSpan packet) {
  std::vector<DataChunk> out;
  ByteReader r(packet);
  r.skip(12);  // common header
  while (r.ok() && r.remaining() >= 4) {
    const uint8_t type = r.u8();
    const uint8_t flags = r.u8();
    const uint16_t length = r.u16();
    if (!r.ok() || length < 4) break;
    ByteSpan body = r.bytes(length - 4u);
    if (!r.ok()) break;
    if (type == 0 && body.size >= 12) {
      ByteReader d(body);
      d.u32();  // TSN
      DataChunk c;
      c.streamId = d.u16();
      d.u16();  // stream sequence number
      c.ppid = d.u32();
      c.unordered = (flags & 0x04) != 0;
      ByteSpan payload = d.bytes(d.remaining());
      c.payload.assign(payload.data, payload.data + payload.size);
      out.push_back(std::move(c));
    }
    r.skip((4 - length % 4) % 4);  // padding
  }
  return out;
}

struct Received {
  std::vector<uint8_t> data;
  bool binary = false;
};

struct Peer {
  std::unique_ptr<sctp::DataChannels> dc;
  std::vector<sctp::DataChannelInfo> announced;
  std::vector<uint16_t> opened;
  std::vector<uint16_t> closing;
  std::vector<uint16_t> closed;
  std::vector<uint16_t> low;
  std::map<uint16_t, std::vector<Received>> messages;
  std::vector<std::pair<uint16_t, Status>> errors;
  std::vector<sctp::AssociationState> states;
  Status reason;
  // Extra hooks a test may set.
  std::function<void(uint16_t)> onOpen;
  std::function<void(uint16_t, const std::vector<uint8_t>&, bool)> onMessage;
  std::function<void(uint16_t)> onLow;

  size_t count(uint16_t id) const {
    auto it = messages.find(id);
    return it == messages.end() ? 0 : it->second.size();
  }
  bool has(const std::vector<uint16_t>& v, uint16_t id) const {
    for (uint16_t x : v) {
      if (x == id) return true;
    }
    return false;
  }
};

struct ChannelsPair {
  TestLink link;
  Peer peer[2];  // peer[0] is the DTLS client

  explicit ChannelsPair(sctp::DataChannelsConfig base = {}, uint32_t seed = 1,
                        bool bothClients = false)
      : link(seed) {
    for (int i = 0; i < 2; ++i) {
      sctp::DataChannelsConfig c = base;
      c.dtlsClient = bothClients || i == 0;
      c.sctp.wake = link.Waker(i);
      Peer* p = &peer[i];
      sctp::DataChannelsCallbacks cb;
      cb.onPacket = link.Sender(i);
      cb.onAssociationState = [p](sctp::AssociationState s, const Status& why) {
        p->states.push_back(s);
        p->reason = why;
      };
      cb.onChannel = [p](const sctp::DataChannelInfo& info) { p->announced.push_back(info); };
      cb.onOpen = [p](uint16_t id) {
        p->opened.push_back(id);
        if (p->onOpen) p->onOpen(id);
      };
      cb.onMessage = [p](uint16_t id, std::vector<uint8_t>&& data, bool binary) {
        if (p->onMessage) p->onMessage(id, data, binary);
        p->messages[id].push_back({std::move(data), binary});
      };
      cb.onBufferedAmountLow = [p](uint16_t id) {
        p->low.push_back(id);
        if (p->onLow) p->onLow(id);
      };
      cb.onClosing = [p](uint16_t id) { p->closing.push_back(id); };
      cb.onClose = [p](uint16_t id) { p->closed.push_back(id); };
      cb.onError = [p](uint16_t id, const Status& e) { p->errors.emplace_back(id, e); };
      auto dc = sctp::DataChannels::Create(std::move(c), std::move(cb));
      REQUIRE_MESSAGE(dc.ok(), dc.status().message());
      p->dc = dc.take();
      link.Attach(i, {[p](ByteSpan pkt) {
                        if (p->dc) p->dc->HandlePacket(pkt);
                      },
                      [p] {
                        if (p->dc) p->dc->Poll();
                      }});
    }
  }

  bool Connected() const {
    return peer[0].dc && peer[1].dc &&
           peer[0].dc->associationState() == sctp::AssociationState::kConnected &&
           peer[1].dc->associationState() == sctp::AssociationState::kConnected;
  }

  void Start() {
    REQUIRE(peer[0].dc->Start().ok());
    REQUIRE(peer[1].dc->Start().ok());
    REQUIRE(link.RunUntil([&] { return Connected(); }, 10000));
  }

  bool RunUntil(const std::function<bool()>& done, uint64_t maxMs = 30000) {
    return link.RunUntil(done, maxMs);
  }
};

}  // namespace kvs::testing
