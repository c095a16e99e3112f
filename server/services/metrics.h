// Counters for /metrics (Prometheus text format). Incremented lock-free on hot
// paths; deployment gauges are read from the store when scraped.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "server/deltas/delta_cache.h"
#include "server/model/campaign.h"

namespace updraft::server {

struct Metrics {
  std::atomic<std::uint64_t> check_ins{0};
  std::atomic<std::uint64_t> offers_delta{0};
  std::atomic<std::uint64_t> offers_full{0};
  std::atomic<std::uint64_t> downloads{0};       // artifact GET requests
  std::atomic<std::uint64_t> download_bytes{0};  // artifact bytes sent
  std::atomic<std::uint64_t> reports{0};

  // The exposition text, with the delta cache's counters and deployments per state.
  std::string render(const DeltaCache::Stats& deltas,
                     const std::vector<std::pair<DeploymentState, std::size_t>>& deployments) const;
};

}  // namespace updraft::server
