// What /api/v1/health and /metrics say about the server's own footing: whether
// the store takes a write, and how much disk is free where the database and the
// images live. A server that answers "ok" on a read-only or full store sends its
// load balancer traffic it cannot keep. Probed at most once per second of `now`
// (a health check every second must not cost a write per request). Host only;
// thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "server/storage/store.h"

namespace updraft::server {

struct HealthReport {
  bool store_writable = false;
  std::string store_error;  // why a write failed, without the server's paths
  std::uint64_t disk_free_bytes = 0;
  std::uint64_t disk_total_bytes = 0;
  std::uint64_t min_free_bytes = 0;
  std::string disk_error;  // the free space could not be read
  UnixTime checked_at = 0;

  bool disk_low() const { return !disk_error.empty() || disk_free_bytes < min_free_bytes; }
  bool ok() const { return store_writable && !disk_low(); }
};

class HealthProbe {
 public:
  // `data_dir`: the folder of the database and artifacts; below `min_free_bytes`
  // of free space there, the server reports itself degraded.
  HealthProbe(Store& store, std::string data_dir, std::uint64_t min_free_bytes)
      : store_(store), data_dir_(std::move(data_dir)), min_free_bytes_(min_free_bytes) {}

  HealthReport check(UnixTime now);

 private:
  Store& store_;
  const std::string data_dir_;
  const std::uint64_t min_free_bytes_;
  std::mutex mutex_;
  std::optional<HealthReport> last_;
};

}  // namespace updraft::server
