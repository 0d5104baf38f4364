// Message boundaries on a TCP or TLS byte stream. TURN over TCP (RFC 8656 §12.5) sends STUN
// messages and ChannelData back to back, each delimited by its own length (ChannelData
// padded to 4). ICE-TCP (RFC 6544) frames every packet with a 16-bit length (RFC 4571).
// The deframer takes chunks as the socket delivers them and yields whole frames; it buffers
// at most one partial frame.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace kvs::stun {

enum class StreamFraming { kTurn, kRfc4571 };
enum class FrameKind { kStun, kChannelData, kPacket /* RFC 4571: the caller demultiplexes */ };

class StreamDeframer {
 public:
  // The largest frame either framing can carry, header and padding included.
  static constexpr size_t kMaxFrameSize = 20 + 0xFFFF;

  explicit StreamDeframer(StreamFraming framing, size_t maxFrameSize = kMaxFrameSize);

  // Called for each whole frame; the span is valid only during the call. TURN frames are the
  // whole STUN or ChannelData message (with its padding); RFC 4571 frames are the payload.
  using Sink = std::function<void(FrameKind kind, ByteSpan frame)>;

  // Feeds the next chunk of the stream. On a stream that cannot be framed it returns an error
  // and stays failed (the connection must be closed):
  //   ERR_STUN_STREAM_DESYNC     a TURN frame starts with neither STUN nor ChannelData bits,
  //                              or a STUN header without the magic cookie or with a bad length
  //   ERR_STUN_FRAME_TOO_LARGE   a frame is larger than maxFrameSize
  Status Push(ByteSpan chunk, const Sink& sink);

  size_t buffered() const { return buffer_.size(); }
  const Status& failure() const { return failure_; }

 private:
  // The whole frame's size from its first bytes; 0 when more bytes are needed to know.
  Status FrameSize(ByteSpan head, size_t& size) const;
  void Emit(ByteSpan frame, const Sink& sink) const;
  Status Fail(Status s);

  StreamFraming framing_;
  size_t maxFrameSize_;
  std::vector<uint8_t> buffer_;  // the start of a frame still incomplete
  Status failure_;
};

// Prefixes a packet with its RFC 4571 length.
//   ERR_STUN_FRAME_TOO_LARGE  more than 65535 bytes
Result<std::vector<uint8_t>> FrameRfc4571(ByteSpan packet);

}  // namespace kvs::stun
