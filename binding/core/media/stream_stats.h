// The statistics the media streams collect where they happen, named after W3C webrtc-stats
// (RTCOutboundRtpStreamStats, RTCRemoteInboundRtpStreamStats, RTCInboundRtpStreamStats,
// RTCRemoteOutboundRtpStreamStats) and the C SDK's media metrics. Units are the W3C's where the
// field name is the W3C's (seconds for delays and jitter), except timestamps: those are the
// stream's monotonic microseconds (`...Us`), which the caller converts to the W3C's
// milliseconds since the epoch. An std::optional that is empty means "not known yet": the
// caller leaves the field out rather than report a constant.
//
// Fields we cannot know are absent, not zero: see the list at the end of this file.
#pragma once

#include <cstdint>
#include <optional>

#include "sdp/codecs.h"

namespace kvs::media {

struct OutboundRtpStats {
  uint32_t ssrc = 0;
  std::optional<uint32_t> rtxSsrc;
  sdp::MediaKind kind = sdp::MediaKind::kVideo;
  uint8_t payloadType = 0;

  // RTCSentRtpStreamStats. Retransmissions count here too (W3C: also those over RTX).
  uint64_t packetsSent = 0;
  uint64_t bytesSent = 0;  // RTP payload bytes only (RTX: without the 2-byte OSN)
  // RTCOutboundRtpStreamStats.
  uint64_t headerBytesSent = 0;  // RTP headers with extensions, padding, RTX OSNs
  uint64_t retransmittedPacketsSent = 0;
  uint64_t retransmittedBytesSent = 0;  // payload bytes, a subset of bytesSent
  std::optional<int64_t> lastPacketSentUs;
  // Sum over packets of (sent - handed to SendFrame/OnNack). Without callerReportsSendTimes the
  // packets leave the stream at the instant they are made, so this stays 0 and that is true.
  double totalPacketSendDelay = 0;
  // Packets the caller reported as not sent (OnPacketSendFailed); not in packetsSent.
  uint64_t packetsDiscardedOnSend = 0;
  uint64_t bytesDiscardedOnSend = 0;  // whole packets (header and payload), as the C SDK counts
  uint32_t nackCount = 0;             // NACK packets received for this SSRC
  uint32_t pliCount = 0;
  uint32_t firCount = 0;  // FIR packets received naming this SSRC (repeats included)

  // Video only (W3C leaves them out for audio).
  uint32_t framesEncoded = 0;     // frames SendFrame accepted and packetized
  uint32_t keyFramesEncoded = 0;  // of which key frames
  uint32_t framesSent = 0;        // frames whose packets were all handed out
  // Frames at least 2.5 times the mean size of the frames sent before them.
  uint32_t hugeFramesSent = 0;
  // The C SDK's: frames not sent (waiting for a key frame) or with a packet that failed.
  uint32_t framesDiscardedOnSend = 0;
  // Frames sent whose presentation time lies within the last second of the newest one.
  std::optional<double> framesPerSecond;
  // From the last SPS (H.264/H.265) or key frame header (VP8) sent.
  std::optional<uint32_t> frameWidth;
  std::optional<uint32_t> frameHeight;

  // kvs-webrtc's own (not W3C), for diagnosing repair.
  uint64_t nackedPackets = 0;           // sequence numbers the peer asked for
  uint64_t nackedPacketsNotFound = 0;   // of which no longer (or never) in the history
  uint64_t nackedPacketsThrottled = 0;  // of which resent less than one RTT ago: skipped
  uint64_t keyFrameRequestsRaised = 0;  // kKeyFrameNeeded events
  uint32_t senderReportsSent = 0;
  uint32_t rembCount = 0;
  std::optional<uint64_t> rembBitrateBps;  // the last REMB naming this SSRC
};

// What the peer's receiver reports say about our stream (report blocks for our SSRC, in RRs and
// in the peer's SRs). Nothing is known before the first one: reportsReceived == 0.
struct RemoteInboundRtpStats {
  uint32_t ssrc = 0;
  sdp::MediaKind kind = sdp::MediaKind::kVideo;
  uint64_t reportsReceived = 0;
  std::optional<int64_t> lastReportUs;  // when the last block arrived (the W3C timestamp)
  int64_t packetsLost = 0;              // cumulative, as the peer counts it (may be negative)
  double fractionLost = 0;              // of the last block: 0..1
  double jitter = 0;                    // seconds
  uint32_t extendedHighestSequence = 0;
  // From LSR/DLSR against our SR history (RFC 3550 §6.4.1); only blocks with an LSR count.
  std::optional<double> roundTripTime;  // seconds, the latest
  double totalRoundTripTime = 0;
  uint64_t roundTripTimeMeasurements = 0;
};

struct InboundRtpStats {
  uint32_t ssrc = 0;
  sdp::MediaKind kind = sdp::MediaKind::kVideo;
  uint8_t payloadType = 0;

  // RTCReceivedRtpStreamStats (RFC 3550 A.3 and A.8, on the media SSRC).
  uint64_t packetsReceived = 0;  // media SSRC packets, duplicates and padding-only included
  int64_t packetsLost = 0;       // expected - received; negative with duplicates
  double jitter = 0;             // seconds
  // RTCInboundRtpStreamStats.
  uint64_t bytesReceived = 0;        // payload bytes of the media SSRC's packets
  uint64_t headerBytesReceived = 0;  // headers, extensions, padding; RTX's too, with its OSNs
  std::optional<int64_t> lastPacketReceivedUs;
  // Arrived over RTX (payload bytes without the OSN). RTX is its own SSRC for RFC 3550, so
  // these are not in packetsReceived / bytesReceived, although W3C calls them a subset: the
  // caller adds them in if it wants W3C's sums.
  // Retransmissions without RTX arrive on the media SSRC and are counted there.
  uint64_t retransmittedPacketsReceived = 0;
  uint64_t retransmittedBytesReceived = 0;
  // Jitter buffer. Video: per frame. Audio: per sample, as W3C defines them (a frame of N
  // samples adds N to the count and N times its delay to the sum).
  double jitterBufferDelay = 0;  // seconds
  uint64_t jitterBufferEmittedCount = 0;
  uint64_t packetsDiscarded = 0;  // late (behind what was emitted or given up), or malformed
  uint32_t nackCount = 0;         // NACK packets sent
  uint32_t pliCount = 0;          // PLI packets sent
  uint32_t firCount = 0;          // FIR packets sent

  // Video only.
  uint32_t framesReceived = 0;     // complete frames assembled (emitted or withheld)
  uint32_t keyFramesReceived = 0;  // of which key frames (kvs-webrtc; W3C has keyFramesDecoded)
  // Given up incomplete at their deadline, or withheld while waiting for a key frame.
  uint32_t framesDropped = 0;
  std::optional<double> framesPerSecond;  // emitted frames within the last second of timestamps
  std::optional<uint32_t> frameWidth;     // from the last SPS / VP8 key frame received
  std::optional<uint32_t> frameHeight;

  // Audio only: samples (per channel, at the RTP clock) of the packets received, from the Opus
  // TOC byte (RFC 6716 §3.1) or the G.711 byte count.
  uint64_t totalSamplesReceived = 0;

  // kvs-webrtc's own.
  uint64_t packetsDuplicated = 0;  // arrived twice (W3C keeps these out of packetsDiscarded)
  uint64_t paddingPacketsReceived = 0;
  uint64_t packetsRejected = 0;    // not for this stream: unknown payload type, SSRC, bad RTX
  uint64_t nackedPackets = 0;      // sequence numbers named in NACKs sent (each resend counts)
  uint64_t nackListOverflows = 0;  // missing list passed its bound: cleared, key frame asked
  uint32_t receiverReportsSent = 0;
  uint32_t keyFramesRequested = 0;  // requests the stream decided on (each is 1+ PLI/FIR)
};

// What the peer's sender reports say about its stream (RFC 3550 §6.4.1 sender info).
struct RemoteOutboundRtpStats {
  uint32_t ssrc = 0;
  sdp::MediaKind kind = sdp::MediaKind::kVideo;
  uint64_t reportsSent = 0;  // SRs received from it
  std::optional<int64_t> lastReportUs;
  std::optional<double> remoteTimestamp;  // the SR's NTP time, ms since the Unix epoch
  uint64_t packetsSent = 0;               // the SR's packet count (32 bits on the wire)
  uint64_t bytesSent = 0;                 // the SR's octet count (payload bytes)
};

// Absent, and why:
// - outbound: qpSum, totalEncodeTime, encoderImplementation, targetBitrate, frameBitDepth,
//   qualityLimitation*, totalEncodedBytesTarget, voiceActivityFlag: the encoder's, which is the
//   app's (the C SDK takes them from the app through updateEncoderStats). sliCount: SLI is not
//   parsed. active, mid, mediaSourceId, remoteId: the caller's.
// - remote-inbound: totalRoundTripTime etc. exist; packetsReceived / reportsReceived per W3C
//   exist; nothing else is in a report block.
// - inbound: framesDecoded, keyFramesDecoded, framesRendered, totalDecodeTime, qpSum,
//   decoderImplementation, concealedSamples, audioLevel, totalAudioEnergy,
//   jitterBufferTargetDelay/MinimumDelay, estimatedPlayoutTimestamp, fec*: there is no decoder
//   or playout here. framesAssembledFromMultiplePackets, totalAssemblyTime: not kept.
// - remote-outbound: roundTripTime, totalRoundTripTime, roundTripTimeMeasurements need RTCP XR
//   DLRR (RFC 3611), which is not sent or parsed.

}  // namespace kvs::media
