#include "server/services/health.h"

#include <filesystem>
#include <system_error>

namespace updraft::server {

HealthReport HealthProbe::check(UnixTime now) {
  std::lock_guard lock(mutex_);
  if (last_ && last_->checked_at == now) return *last_;
  HealthReport report;
  report.checked_at = now;
  report.min_free_bytes = min_free_bytes_;
  // A real write, the same kind every check-in's status flush makes.
  const HostResult<void> wrote = store_.set_setting("health.last_probe", std::to_string(now));
  report.store_writable = wrote.ok();
  if (!wrote.ok()) report.store_error = wrote.error().message;
  std::error_code ec;
  const std::filesystem::space_info space = std::filesystem::space(data_dir_, ec);
  if (ec) {
    report.disk_error = ec.message();
  } else {
    report.disk_free_bytes = space.available;
    report.disk_total_bytes = space.capacity;
  }
  last_ = report;
  return report;
}

}  // namespace updraft::server
