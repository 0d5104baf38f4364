#include <doctest/doctest.h>

#include <numeric>

#include "srtp/srtp_keys.h"
#include "srtp/srtp_profile.h"

using kvs::srtp::SrtpProfile;

TEST_CASE("profile table follows RFC 5764 and RFC 7714") {
  const auto& cm80 = kvs::srtp::InfoOf(SrtpProfile::kAesCm128HmacSha1_80);
  CHECK(cm80.opensslId == 0x0001);
  CHECK(cm80.keyLength == 16);
  CHECK(cm80.saltLength == 14);
  const auto& gcm = kvs::srtp::InfoOf(SrtpProfile::kAeadAes128Gcm);
  CHECK(gcm.opensslId == 0x0007);
  CHECK(gcm.saltLength == 12);
  CHECK(kvs::srtp::ProfileFromName("AEAD_AES_128_GCM") == SrtpProfile::kAeadAes128Gcm);
  CHECK_FALSE(kvs::srtp::ProfileFromName("AEAD_AES_256_GCM").has_value());
  CHECK(kvs::srtp::ProfileFromOpenSslId(0x0002) == SrtpProfile::kAesCm128HmacSha1_32);
  CHECK_FALSE(kvs::srtp::ProfileFromOpenSslId(0x0008).has_value());
}

TEST_CASE("exported keying material splits as client key|server key|client salt|server salt") {
  // 16+16+14+14 bytes numbered 0..59, so each slice is recognisable.
  std::vector<uint8_t> ekm(60);
  std::iota(ekm.begin(), ekm.end(), 0);
  auto asClient = kvs::srtp::SplitExportedKeyingMaterial(SrtpProfile::kAesCm128HmacSha1_80, ekm,
                                                         /*weAreDtlsClient=*/true);
  REQUIRE(asClient.ok());
  std::vector<uint8_t> clientKeySalt(ekm.begin(), ekm.begin() + 16);
  clientKeySalt.insert(clientKeySalt.end(), ekm.begin() + 32, ekm.begin() + 46);
  std::vector<uint8_t> serverKeySalt(ekm.begin() + 16, ekm.begin() + 32);
  serverKeySalt.insert(serverKeySalt.end(), ekm.begin() + 46, ekm.begin() + 60);
  CHECK(asClient.value().localKeySalt == clientKeySalt);
  CHECK(asClient.value().remoteKeySalt == serverKeySalt);

  auto asServer = kvs::srtp::SplitExportedKeyingMaterial(SrtpProfile::kAesCm128HmacSha1_80, ekm,
                                                         /*weAreDtlsClient=*/false);
  REQUIRE(asServer.ok());
  CHECK(asServer.value().localKeySalt == serverKeySalt);
  CHECK(asServer.value().remoteKeySalt == clientKeySalt);
}

TEST_CASE("keying material of the wrong length is refused") {
  std::vector<uint8_t> ekm(60);
  auto r = kvs::srtp::SplitExportedKeyingMaterial(SrtpProfile::kAeadAes128Gcm, ekm, true);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == "ERR_SRTP_KEYS");
  CHECK(kvs::srtp::KeyingMaterialLength(SrtpProfile::kAeadAes128Gcm) == 56);
}
