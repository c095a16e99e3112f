#include "server/services/metrics.h"

#include "server/model/names.h"

namespace updraft::server {
namespace {

// One Prometheus metric: its HELP and TYPE lines, then its value.
void metric(std::string& out, const char* type, const char* name, const char* help,
            std::uint64_t value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

void counter(std::string& out, const char* name, const char* help, std::uint64_t value) {
  metric(out, "counter", name, help, value);
}

void gauge(std::string& out, const char* name, const char* help, std::uint64_t value) {
  metric(out, "gauge", name, help, value);
}

}  // namespace

std::string Metrics::render(const DeltaCache::Stats& deltas,
                            const std::vector<std::pair<DeploymentState, std::size_t>>& deployments,
                            const HealthReport& health) const {
  std::string out;
  counter(out, "updraft_check_ins_total", "Device check-ins answered.", check_ins.load());
  out +=
      "# HELP updraft_offers_total Update offers made at check-in, by artifact kind.\n"
      "# TYPE updraft_offers_total counter\n";
  out += "updraft_offers_total{kind=\"delta\"} " + std::to_string(offers_delta.load()) + "\n";
  out += "updraft_offers_total{kind=\"full\"} " + std::to_string(offers_full.load()) + "\n";
  counter(out, "updraft_downloads_total", "Artifact download requests.", downloads.load());
  counter(out, "updraft_download_bytes_total", "Artifact bytes sent to devices.",
          download_bytes.load());
  counter(out, "updraft_reports_total", "Progress and result reports from devices.",
          reports.load());
  counter(out, "updraft_delta_cache_hits_total", "Check-ins served a cached delta.",
          deltas.hits.load());
  counter(out, "updraft_delta_cache_misses_total", "Delta requests that had to build or wait.",
          deltas.misses.load());
  counter(out, "updraft_delta_builds_total", "Deltas built.", deltas.builds.load());
  counter(out, "updraft_delta_build_failures_total", "Delta builds that failed.",
          deltas.failures.load());
  out += "# HELP updraft_deployments Deployments by state.\n# TYPE updraft_deployments gauge\n";
  for (const auto& [state, count] : deployments) {
    out += "updraft_deployments{state=\"";
    out += name_of(state);
    out += "\"} " + std::to_string(count) + "\n";
  }
  gauge(out, "updraft_store_writable", "1 when the store took the health probe's write.",
        health.store_writable ? 1 : 0);
  gauge(out, "updraft_disk_free_bytes", "Free bytes on the data folder's file system.",
        health.disk_free_bytes);
  gauge(out, "updraft_disk_total_bytes", "Size of the data folder's file system.",
        health.disk_total_bytes);
  return out;
}

}  // namespace updraft::server
