#include "dtls/datagram_bio.h"

#include <algorithm>
#include <cstring>
#include <mutex>

namespace kvs::dtls {
namespace {

DatagramQueues* QueuesOf(BIO* bio) { return static_cast<DatagramQueues*>(BIO_get_data(bio)); }

int Write(BIO* bio, const char* data, int len) {
  if (len < 0) return -1;
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  QueuesOf(bio)->outbound.emplace_back(p, p + len);
  return len;
}

int Read(BIO* bio, char* out, int len) {
  auto* q = QueuesOf(bio);
  BIO_clear_retry_flags(bio);
  if (q->inbound.empty()) {
    BIO_set_retry_read(bio);
    return -1;
  }
  // Datagram semantics: a short buffer truncates, and the rest of the datagram is dropped.
  std::vector<uint8_t> dgram = std::move(q->inbound.front());
  q->inbound.pop_front();
  const size_t n = std::min(dgram.size(), static_cast<size_t>(std::max(len, 0)));
  std::memcpy(out, dgram.data(), n);
  return static_cast<int>(n);
}

long Ctrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {  // NOLINT: OpenSSL's signature
  auto* q = QueuesOf(bio);
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_PENDING:
      return q->inbound.empty() ? 0 : static_cast<long>(q->inbound.front().size());  // NOLINT
    case BIO_CTRL_WPENDING:
      return 0;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
      return q->mtu;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
      return 0;  // the MTU we are given is already the DTLS payload budget
    default:
      return 0;
  }
}

int Create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

int Destroy(BIO* bio) {
  BIO_set_data(bio, nullptr);
  return 1;
}

BIO_METHOD* Method() {
  // Created once and kept for the life of the process, as OpenSSL intends for BIO methods.
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kvs-datagram");
    BIO_meth_set_write(m, Write);
    BIO_meth_set_read(m, Read);
    BIO_meth_set_ctrl(m, Ctrl);
    BIO_meth_set_create(m, Create);
    BIO_meth_set_destroy(m, Destroy);
    return m;
  }();
  return method;
}

}  // namespace

crypto::BioPtr NewDatagramBio(DatagramQueues* queues) {
  crypto::BioPtr bio(BIO_new(Method()));
  if (bio) BIO_set_data(bio.get(), queues);
  return bio;
}

}  // namespace kvs::dtls
