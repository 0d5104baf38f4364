#include "media/sender_reporter.h"

#include <climits>

#include "rtp/ntp_time.h"
#include "rtp/rtcp_compound.h"
#include "rtp/rtcp_report.h"
#include "rtp/rtcp_sdes.h"

namespace kvs::media {

SenderReporter::SenderReporter(const SenderReporterConfig& config, RandomSource random)
    : config_(config), random_(std::move(random)) {}

void SenderReporter::OnRtpSent(uint32_t rtpTimestamp, int64_t frameSentUs, size_t payloadBytes) {
  if (!sentAny_) {
    sentAny_ = true;
    nextUs_ = frameSentUs;  // the first SR at the next Tick
  }
  lastRtpTimestamp_ = rtpTimestamp;
  lastFrameSentUs_ = frameSentUs;
  ++packets_;
  octets_ += static_cast<uint32_t>(payloadBytes);
}

void SenderReporter::OnRetransmissionSent(size_t payloadBytes) {
  ++packets_;
  octets_ += static_cast<uint32_t>(payloadBytes);
}

void SenderReporter::OnRtpUnsent(size_t payloadBytes) {
  --packets_;
  octets_ -= static_cast<uint32_t>(payloadBytes);
}

int64_t SenderReporter::nextUs() const { return sentAny_ ? nextUs_ : INT64_MAX; }

Result<std::vector<uint8_t>> SenderReporter::Build(int64_t nowUs, int64_t unixNowUs,
                                                   std::vector<rtp::ReportBlock> blocks) {
  rtp::SenderReport sr;
  sr.ssrc = config_.ssrc;
  sr.info.ntpTimestamp = rtp::NtpFromUnixMicros(unixNowUs);
  const int64_t elapsed =
      RescaleTicks(nowUs - lastFrameSentUs_, kMicrosPerSecond, config_.clockRate);
  sr.info.rtpTimestamp = lastRtpTimestamp_ + static_cast<uint32_t>(elapsed);
  sr.info.packetCount = packets_;
  sr.info.octetCount = octets_;
  sr.reportBlocks = std::move(blocks);

  rtp::RtcpCompoundBuilder b(rtp::RtcpMode::kCompound);
  Status s = b.Add(sr);
  if (s.ok()) s = b.Add(rtp::Sdes::Cname(config_.ssrc, config_.cname));
  if (!s.ok()) return s;
  auto bytes = b.Finish();
  if (!bytes.ok()) return bytes.status();

  history_[nextHistory_] = {rtp::CompactNtp(sr.info.ntpTimestamp), nowUs, true};
  nextHistory_ = (nextHistory_ + 1) % kHistory;
  ++reportsSent_;
  nextUs_ = nowUs + RandomBetween(random_, config_.minIntervalUs, config_.maxIntervalUs);
  return bytes;
}

std::optional<int64_t> SenderReporter::RoundTripUs(uint32_t lsr, uint32_t dlsr,
                                                   int64_t nowUs) const {
  if (lsr == 0) return std::nullopt;
  for (const Sent& s : history_) {
    if (!s.used || s.compactNtp != lsr) continue;
    const int64_t rtt = nowUs - s.sentUs - rtp::CompactNtpToMicros(dlsr);
    return rtt < 0 ? 0 : rtt;
  }
  return std::nullopt;
}

}  // namespace kvs::media
