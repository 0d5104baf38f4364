#include "sctp/usrsctp_runtime.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <usrsctp.h>

namespace kvs::sctp {
namespace {

// Every association's packets go out through its DTLS transport; until data channels are
// wired, nothing is connected, so there is nothing to send.
int ConnOutput(void* /*addr*/, void* /*buffer*/, size_t /*length*/, uint8_t /*tos*/,
               uint8_t /*set_df*/) {
  return 0;
}

}  // namespace

Status EnsureUsrsctp() {
  static const bool initialised = [] {
    usrsctp_init_nothreads(0, ConnOutput, nullptr);
    // No checksum work for packets that DTLS already authenticates (as browsers do).
    usrsctp_enable_crc32c_offload();
    return true;
  }();
  return initialised ? Status::Ok() : Status::Fail("ERR_SCTP_INIT", "usrsctp_init failed");
}

Status ProbeUsrsctpSocket() {
  Status init = EnsureUsrsctp();
  if (!init.ok()) return init;
  static int anchor = 0;  // any unique address identifies an AF_CONN endpoint
  usrsctp_register_address(&anchor);
  struct socket* sock =
      usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
  Status result = sock != nullptr
                      ? Status::Ok()
                      : Status::Fail("ERR_SCTP_SOCKET", "usrsctp_socket(AF_CONN) failed");
  if (sock != nullptr) usrsctp_close(sock);
  usrsctp_deregister_address(&anchor);
  return result;
}

}  // namespace kvs::sctp
