#include "srtp/srtp_keys.h"

namespace kvs::srtp {

size_t KeyingMaterialLength(SrtpProfile profile) {
  const auto& info = InfoOf(profile);
  return 2 * (info.keyLength + info.saltLength);
}

Result<SrtpKeys> SplitExportedKeyingMaterial(SrtpProfile profile, const std::vector<uint8_t>& ekm,
                                             bool weAreDtlsClient) {
  const auto& info = InfoOf(profile);
  if (ekm.size() != KeyingMaterialLength(profile)) {
    return Status::Fail("ERR_SRTP_KEYS", "keying material has " + std::to_string(ekm.size()) +
                                             " bytes; " + std::string(info.name) + " needs " +
                                             std::to_string(KeyingMaterialLength(profile)));
  }
  const size_t k = info.keyLength;
  const size_t s = info.saltLength;
  auto keySalt = [&](size_t keyAt, size_t saltAt) {
    std::vector<uint8_t> out(ekm.begin() + keyAt, ekm.begin() + keyAt + k);
    out.insert(out.end(), ekm.begin() + saltAt, ekm.begin() + saltAt + s);
    return out;
  };
  std::vector<uint8_t> client = keySalt(0, 2 * k);
  std::vector<uint8_t> server = keySalt(k, 2 * k + s);
  SrtpKeys keys{profile, {}, {}};
  keys.localKeySalt = weAreDtlsClient ? client : server;
  keys.remoteKeySalt = weAreDtlsClient ? server : client;
  return keys;
}

}  // namespace kvs::srtp
