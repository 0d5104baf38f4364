// The SRTP layer of the stack: the two SRTP sessions made from the DTLS keys. Media hands it
// plain RTP/RTCP to protect and send; the demultiplexer hands it what arrives, and it passes
// the plain packets up. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "srtp/srtp_keys.h"
#include "srtp/srtp_session.h"

namespace kvs::pc {

class SrtpTransport {
 public:
  using DatagramSender = std::function<Status(ByteSpan)>;

  struct Counters {
    uint64_t rtpSent = 0;
    uint64_t rtcpSent = 0;
    uint64_t rtpReceived = 0;
    uint64_t rtcpReceived = 0;
    uint64_t rtpDecryptFailures = 0;  // authentication failed (W3C packetsFailedDecryption)
    uint64_t rtpReplayed = 0;         // a duplicate or too old for the replay window
    uint64_t rtcpDecryptFailures = 0;
    uint64_t droppedBeforeKeys = 0;  // arrived or written before DTLS completed
    uint64_t sendFailures = 0;       // the network refused (socket buffer full, no route)
  };

  explicit SrtpTransport(DatagramSender send) : send_(std::move(send)) {}

  // Makes both sessions; a failure here is the caller's to report (it fails the connection).
  Status Start(const srtp::SrtpKeys& keys);
  bool ready() const { return outbound_ != nullptr; }
  std::optional<srtp::SrtpProfile> profile() const;

  // Protects the plain packet in buf[0, length) in place and sends it. buf holds `capacity`
  // bytes: at least length + SrtpSession::kMaxRtcpTrailer leaves room for either trailer.
  Status SendRtp(uint8_t* buf, size_t length, size_t capacity);
  Status SendRtcp(uint8_t* buf, size_t length, size_t capacity);

  // From the demultiplexer. The plain packet goes to onRtp/onRtcp, which may keep it.
  void HandleRtp(ByteSpan datagram);
  void HandleRtcp(ByteSpan datagram);

  std::function<void(std::vector<uint8_t>&& packet)> onRtp;
  std::function<void(std::vector<uint8_t>&& packet)> onRtcp;
  // An RTP packet that failed authentication, with the SSRC its clear header names.
  std::function<void(uint32_t ssrc)> onRtpDecryptFailure;

  const Counters& counters() const { return counters_; }

 private:
  Status Send(uint8_t* buf, size_t length);

  DatagramSender send_;
  std::unique_ptr<srtp::SrtpSession> outbound_;
  std::unique_ptr<srtp::SrtpSession> inbound_;
  Counters counters_;
};

}  // namespace kvs::pc
