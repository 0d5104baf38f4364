// An in-memory DTLS-SRTP exercise of the whole crypto stack: two fresh identities, a DTLS
// 1.2 handshake with use_srtp, key export, and SRTP/SRTCP protect and unprotect both ways.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"
#include "dtls/dtls_session.h"
#include "srtp/srtp_profile.h"

namespace kvs::selftest {

struct LinkCounts {
  int flights = 0;  // rounds in which at least one side had something to send
  int clientToServer = 0;
  int serverToClient = 0;
};

// Shuttles datagrams between two sessions until neither has anything to send; bounded.
Result<LinkCounts> PumpInMemory(dtls::DtlsSession& client, dtls::DtlsSession& server,
                                int maxRounds = 32);

struct SelfTestReport {
  std::string profile;
  std::string dtlsVersion;
  std::string cipher;
  LinkCounts link;
  std::string clientFingerprint;
  std::string serverFingerprint;
  size_t rtpBytes = 0;
  size_t protectedBytes = 0;
  size_t rtcpBytes = 0;
  size_t protectedRtcpBytes = 0;
  bool tamperRejected = false;
  bool replayRejected = false;
  bool sctpSocketCreated = false;
};

Result<SelfTestReport> RunDtlsSrtpSelfTest(srtp::SrtpProfile profile);

}  // namespace kvs::selftest
