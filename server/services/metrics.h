// Counters for /metrics (Prometheus text format). Incremented lock-free on hot
// paths; deployment gauges are read from the store when scraped.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "server/deltas/delta_cache.h"
#include "server/model/campaign.h"
#include "server/services/health.h"

namespace updraft::server {

struct Metrics {
  std::atomic<std::uint64_t> check_ins{0};
  std::atomic<std::uint64_t> offers_delta{0};
  std::atomic<std::uint64_t> offers_full{0};
  std::atomic<std::uint64_t> downloads{0};       // artifact GET requests
  std::atomic<std::uint64_t> download_bytes{0};  // artifact bytes sent
  std::atomic<std::uint64_t> reports{0};

  // For net::http::Response::on_file_body: adds the bytes an artifact answer
  // really carries (a range's, none for HEAD), not the file's size.
  std::function<void(std::uint64_t)> count_download_bytes() {
    return
        [this](std::uint64_t bytes) { download_bytes.fetch_add(bytes, std::memory_order_relaxed); };
  }

  // The exposition text, with the delta cache's counters, deployments per state
  // and the server's health (store writable, free disk).
  std::string render(const DeltaCache::Stats& deltas,
                     const std::vector<std::pair<DeploymentState, std::size_t>>& deployments,
                     const HealthReport& health) const;
};

}  // namespace updraft::server
