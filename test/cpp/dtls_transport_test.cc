// The DTLS layer on its own: two transports on one loop, linked by a test wire that can drop
// datagrams, with the SRTP-key and application-data hand-offs observed.
#include "pc/dtls_transport.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>
#include <memory>
#include <vector>

#include "loop_test_util.h"
#include "test_util.h"

using kvs::ByteSpan;
using kvs::Status;
using kvs::dtls::DtlsRole;
using kvs::dtls::DtlsState;
using kvs::pc::DtlsTransport;
using kvs::srtp::SrtpKeys;
using kvs::srtp::SrtpProfile;

namespace {

struct Link {
  std::unique_ptr<kvs::loop::EventLoop> loop = kvs::testing::NewLoop();
  std::shared_ptr<const kvs::dtls::Certificate> clientCert = kvs::testing::NewCert();
  std::shared_ptr<const kvs::dtls::Certificate> serverCert = kvs::testing::NewCert();
  std::unique_ptr<DtlsTransport> client;
  std::unique_ptr<DtlsTransport> server;
  std::vector<DtlsState> clientStates, serverStates;
  std::vector<SrtpKeys> clientKeys, serverKeys;
  Status clientKeysVerdict;  // what the client's SRTP layer answers
  bool wireUp = true;

  Link() {
    kvs::testing::OnLoop(*loop, [this] {
      // Delivered on a later turn of the loop, as a socket would, never re-entrantly.
      auto to = [this](std::unique_ptr<DtlsTransport>* peer) {
        return [this, peer](ByteSpan d) {
          if (!wireUp) return Status::Ok();
          std::vector<uint8_t> copy(d.data, d.data + d.size);
          loop->Post([peer, copy] {
            if (*peer) (*peer)->HandleDatagram(ByteSpan(copy));
          });
          return Status::Ok();
        };
      };
      client = std::make_unique<DtlsTransport>(*loop, to(&server), clientCert);
      server = std::make_unique<DtlsTransport>(*loop, to(&client), serverCert);
      client->onStateChange = [this](DtlsState s) { clientStates.push_back(s); };
      server->onStateChange = [this](DtlsState s) { serverStates.push_back(s); };
      client->onSrtpKeys = [this](const SrtpKeys& k) {
        clientKeys.push_back(k);
        return clientKeysVerdict;
      };
      server->onSrtpKeys = [this](const SrtpKeys& k) {
        serverKeys.push_back(k);
        return Status::Ok();
      };
      return true;
    });
  }
  ~Link() {
    kvs::testing::OnLoop(*loop, [this] {
      client.reset();
      server.reset();
      return true;
    });
  }

  void Start(std::vector<SrtpProfile> clientProfiles = {SrtpProfile::kAeadAes128Gcm}) {
    kvs::testing::OnLoop(*loop, [&] {
      REQUIRE(client->Configure(DtlsRole::kClient, serverCert->fingerprint(), clientProfiles)
                  .ok());
      REQUIRE(server
                  ->Configure(DtlsRole::kServer, clientCert->fingerprint(),
                              {SrtpProfile::kAeadAes128Gcm})
                  .ok());
      server->Connect();
      client->Connect();
      return true;
    });
  }

  // Polls the loop until `done` holds there (at most ~10 s, in 10 ms steps).
  template <typename F>
  bool WaitFor(F done) {
    for (int i = 0; i < 1000; ++i) {
      if (kvs::testing::OnLoop(*loop, done)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
};

}  // namespace

TEST_CASE("the DTLS transport hands mirrored SRTP keys up once, and application data both ways") {
  Link link;
  link.Start();
  REQUIRE(link.WaitFor([&] {
    return link.client->state() == DtlsState::kConnected &&
           link.server->state() == DtlsState::kConnected;
  }));
  std::vector<std::vector<uint8_t>> atServer, atClient;
  const std::vector<uint8_t> hello = {1, 2, 3, 4};
  kvs::testing::OnLoop(*link.loop, [&] {
    REQUIRE(link.clientKeys.size() == 1);
    REQUIRE(link.serverKeys.size() == 1);
    CHECK(link.clientKeys[0].profile == SrtpProfile::kAeadAes128Gcm);
    CHECK(link.clientKeys[0].localKeySalt == link.serverKeys[0].remoteKeySalt);
    CHECK(link.clientKeys[0].remoteKeySalt == link.serverKeys[0].localKeySalt);
    CHECK(link.clientKeys[0].localKeySalt != link.clientKeys[0].remoteKeySalt);
    CHECK(link.clientStates == std::vector<DtlsState>{DtlsState::kConnecting,
                                                      DtlsState::kConnected});
    // Nobody listens yet: a record is dropped and counted, not kept.
    REQUIRE(link.client->SendApplicationData(ByteSpan(hello)).ok());
    return true;
  });
  REQUIRE(link.WaitFor([&] { return link.server->droppedApplicationRecords() == 1; }));
  kvs::testing::OnLoop(*link.loop, [&] {
    link.server->SetApplicationDataHandler(
        [&](ByteSpan d) { atServer.emplace_back(d.data, d.data + d.size); });
    link.client->SetApplicationDataHandler(
        [&](ByteSpan d) { atClient.emplace_back(d.data, d.data + d.size); });
    REQUIRE(link.client->SendApplicationData(ByteSpan(hello)).ok());
    REQUIRE(link.server->SendApplicationData(ByteSpan(hello)).ok());
    return true;
  });
  REQUIRE(link.WaitFor([&] { return atServer.size() == 1 && atClient.size() == 1; }));
  CHECK(atServer[0] == hello);
  CHECK(atClient[0] == hello);
  kvs::testing::OnLoop(*link.loop, [&] {
    CHECK(link.server->droppedApplicationRecords() == 1);
    CHECK(link.clientKeys.size() == 1);  // still once
    link.client->Close();
    return true;
  });
  REQUIRE(link.WaitFor([&] { return link.server->state() == DtlsState::kClosed; }));
  kvs::testing::OnLoop(*link.loop, [&] {
    CHECK(link.client->state() == DtlsState::kClosed);
    CHECK(link.client->SendApplicationData(ByteSpan(hello)).code() == "ERR_INVALID_STATE");
    return true;
  });
}

TEST_CASE("an SRTP layer that refuses the keys fails the DTLS transport with that reason") {
  Link link;
  link.clientKeysVerdict = Status::Fail("ERR_SRTP_INIT", "test: the SRTP sessions failed");
  link.Start();
  REQUIRE(link.WaitFor([&] { return link.client->state() == DtlsState::kFailed; }));
  kvs::testing::OnLoop(*link.loop, [&] {
    CHECK(link.client->failure().code() == "ERR_SRTP_INIT");
    // Reported once, and never as connected: a session without SRTP is no connection.
    CHECK(link.clientStates.back() == DtlsState::kFailed);
    CHECK(std::count(link.clientStates.begin(), link.clientStates.end(), DtlsState::kConnected) ==
          0);
    CHECK(std::count(link.clientStates.begin(), link.clientStates.end(), DtlsState::kFailed) ==
          1);
    const std::vector<uint8_t> x = {1};
    CHECK(link.client->SendApplicationData(ByteSpan(x)).code() == "ERR_INVALID_STATE");
    return true;
  });
}

TEST_CASE("a configuration DTLS cannot use fails the transport at once") {
  Link link;
  kvs::testing::OnLoop(*link.loop, [&] {
    Status st = link.client->Configure(DtlsRole::kClient, link.serverCert->fingerprint(), {});
    CHECK(st.code() == "ERR_INVALID_ARGUMENT");
    CHECK(link.client->state() == DtlsState::kFailed);
    CHECK(link.client->failure().code() == "ERR_INVALID_ARGUMENT");
    CHECK(link.clientStates == std::vector<DtlsState>{DtlsState::kFailed});
    // Nothing comes back to life afterwards.
    CHECK_FALSE(link.client
                    ->Configure(DtlsRole::kClient, link.serverCert->fingerprint(),
                                {SrtpProfile::kAeadAes128Gcm})
                    .ok());
    return true;
  });
}

TEST_CASE("a lost first flight is retransmitted by the transport's timer") {
  Link link;
  link.wireUp = false;  // the ClientHello goes nowhere
  link.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  kvs::testing::OnLoop(*link.loop, [&] {
    link.wireUp = true;
    return true;
  });
  REQUIRE(link.WaitFor([&] {
    return link.client->state() == DtlsState::kConnected &&
           link.server->state() == DtlsState::kConnected;
  }));
}
