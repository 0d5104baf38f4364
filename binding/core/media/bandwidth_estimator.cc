// STUB (first commit only: the header is the contract; the implementation follows).
#include "media/bandwidth_estimator.h"

namespace kvs::media {

BandwidthEstimator::BandwidthEstimator(const BandwidthEstimatorConfig& config)
    : config_(config), target_(config.startBps) {}
void BandwidthEstimator::OnPacketResults(rtp::ArrayView<PacketResult>, int64_t) {}
std::optional<uint64_t> BandwidthEstimator::deliveredBps() const { return std::nullopt; }

}  // namespace kvs::media
