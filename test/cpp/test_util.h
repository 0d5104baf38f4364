// Helpers shared by the core unit tests.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "dtls/certificate.h"
#include "dtls/dtls_session.h"

namespace kvs::testing {

inline std::shared_ptr<const dtls::Certificate> NewCert() {
  auto c = dtls::Certificate::GenerateEcdsaP256();
  REQUIRE_MESSAGE(c.ok(), c.status().message());
  return c.value();
}

struct DtlsPair {
  std::unique_ptr<dtls::DtlsSession> client;
  std::unique_ptr<dtls::DtlsSession> server;
};

inline DtlsPair MakePair(std::vector<srtp::SrtpProfile> clientProfiles,
                         std::vector<srtp::SrtpProfile> serverProfiles,
                         const std::string& clientExpects = "",
                         const std::string& serverExpects = "") {
  auto cc = NewCert();
  auto sc = NewCert();
  auto client =
      dtls::DtlsSession::Create({dtls::DtlsRole::kClient, cc, std::move(clientProfiles),
                                 clientExpects.empty() ? sc->fingerprint() : clientExpects});
  auto server =
      dtls::DtlsSession::Create({dtls::DtlsRole::kServer, sc, std::move(serverProfiles),
                                 serverExpects.empty() ? cc->fingerprint() : serverExpects});
  REQUIRE_MESSAGE(client.ok(), client.status().message());
  REQUIRE_MESSAGE(server.ok(), server.status().message());
  return {client.take(), server.take()};
}

}  // namespace kvs::testing
