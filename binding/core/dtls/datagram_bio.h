// An OpenSSL BIO that keeps datagram boundaries: each record flight OpenSSL writes is one
// datagram out, and each datagram fed in is read back whole. (A memory BIO would glue
// datagrams together, which breaks DTLS over ICE.)
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "crypto/openssl.h"

namespace kvs::dtls {

struct DatagramQueues {
  std::deque<std::vector<uint8_t>> inbound;
  std::vector<std::vector<uint8_t>> outbound;
  long mtu = 1200;  // NOLINT: BIO_ctrl's type
};

// The BIO borrows `queues`, which must outlive it.
crypto::BioPtr NewDatagramBio(DatagramQueues* queues);

}  // namespace kvs::dtls
