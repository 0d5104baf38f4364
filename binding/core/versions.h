// Versions of the libraries linked into the addon, read from the linked code itself.
#pragma once

#include <string>

namespace kvs {

struct LinkedVersions {
  std::string openssl;          // OpenSSL_version(OPENSSL_VERSION) of our static copy
  std::string opensslPlatform;  // e.g. "debian-amd64": tells Debian's build from Node's
  std::string libsrtp2;
  std::string usrsctp;  // usrsctp has no version call: the Debian source version we built
};

LinkedVersions GetLinkedVersions();

}  // namespace kvs
