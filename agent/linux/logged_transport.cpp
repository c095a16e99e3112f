#include "agent/linux/logged_transport.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "agent/linux/log.h"
#include "core/host/file.h"

namespace updraft::agent {

LoggedTransport::LoggedTransport(Inner inner, std::string deployment_file,
                                 std::string rollback_file)
    : inner_(std::move(inner)),
      deployment_file_(std::move(deployment_file)),
      rollback_file_(std::move(rollback_file)) {
  if (rollback_file_.empty()) return;
  std::ifstream in(rollback_file_);
  in >> unheard_.deployment >> unheard_.version;
  if (!in) unheard_ = {};
}

void LoggedTransport::remember_rollback(UnheardRollback rollback) {
  unheard_ = std::move(rollback);
  if (rollback_file_.empty()) return;
  if (unheard_.deployment == 0) {
    ::unlink(rollback_file_.c_str());
    return;
  }
  const std::string text = std::to_string(unheard_.deployment) + " " + unheard_.version + "\n";
  if (auto r = write_file_atomic(rollback_file_, as_bytes_view(text.data(), text.size()));
      !r.ok()) {
    log_error("cannot record the unheard rollback in %s (%s); it is kept until the agent stops",
              rollback_file_.c_str(), r.error().to_string().c_str());
  }
}

Result<void> LoggedTransport::check_in(const DeviceStatus& status, CheckInAnswer& answer) {
  Result<void> r = inner_.transport.check_in(status, answer);
  if (!r.ok()) {
    log_warning("check-in failed: %s (%u): %s", describe(r.error()).data(),
                static_cast<unsigned>(r.error()), inner_.last_error().c_str());
    return r;
  }
  // Logged when it changes: "up to date" while the server builds a delta
  // would tell the operator the wrong story.
  const std::string reason = inner_.reason ? inner_.reason() : std::string();
  if (!answer.update_available && (logged_offer_ != 0 || reason != logged_reason_)) {
    if (reason.empty() || reason == "up to date" || reason == "no update") {
      log_line("checked in: up to date (server asks again in %u s)", answer.poll_seconds);
    } else {
      log_line("checked in: no update yet: %s (server asks again in %u s)", reason.c_str(),
               answer.poll_seconds);
    }
    logged_offer_ = 0;
    logged_reason_ = reason;
  }
  if (answer.update_available && unheard_.deployment != 0 &&
      inner_.deployment() == unheard_.deployment) {
    // The deployment whose image failed its trial, offered again because the
    // server never heard: tell it again, and let the agent install nothing.
    log_warning(
        "deployment %lld offered again, but %s failed its trial there; reporting the "
        "rollback again instead of installing it",
        static_cast<long long>(unheard_.deployment), unheard_.version.c_str());
    Report again;
    again.phase = Phase::kRolledBack;
    again.error = error_number(ErrorCode::kAgentTrialFailed);
    again.progress_percent = 100;
    again.running = status.version;
    again.running_slot = status.slot;
    const std::size_t n = std::min(unheard_.version.size(), again.target.size() - 1);
    std::memcpy(again.target.data(), unheard_.version.data(), n);
    if (report(again).ok()) log_line("the server has the rollback now");
    answer.update_available = false;
    logged_offer_ = 0;
    return r;
  }
  if (answer.update_available && inner_.deployment() != logged_offer_) {
    log_line("update offered: deployment %lld, %s artifact of %u bytes",
             static_cast<long long>(inner_.deployment()),
             answer.kind == ArtifactKind::kPatch ? "delta" : "full", answer.artifact_size);
    logged_offer_ = inner_.deployment();
    const std::string text = std::to_string(inner_.deployment()) + "\n";
    if (auto written = write_file_atomic(deployment_file_, as_bytes_view(text.data(), text.size()));
        !written.ok())
      log_error("cannot write %s: %s", deployment_file_.c_str(),
                written.error().to_string().c_str());
  }
  return r;
}

Result<std::size_t> LoggedTransport::fetch(const char* artifact, std::uint32_t offset,
                                           MutableByteView out) {
  if (!fetched_ && offset > 0) log_line("download resumes at byte %u (journal)", offset);
  fetched_ = true;
  return inner_.transport.fetch(artifact, offset, out);
}

Result<void> LoggedTransport::report(const Report& report) {
  if (report.phase != last_phase_ || report.error != last_error_) {
    // A failed or rolled-back update is a warning: the device runs on, the server decides.
    const bool bad = report.phase == Phase::kFailure || report.phase == Phase::kRolledBack;
    log_at(bad ? LogLevel::kWarning : LogLevel::kInfo, "%s%s%s (error %u) running %s",
           phase_name(report.phase), report.target[0] != '\0' ? " to " : "", report.target.data(),
           static_cast<unsigned>(report.error), report.running.data());
    last_phase_ = report.phase;
    last_error_ = report.error;
  }
  Result<void> r = inner_.transport.report(report);
  if (!r.ok()) log_warning("report not delivered: %s", inner_.last_error().c_str());
  if (report.phase == Phase::kRolledBack) {
    if (r.ok()) {
      if (unheard_.deployment != 0) remember_rollback({});  // heard: forgotten
    } else {
      const char* version = report.target[0] != '\0' ? report.target.data() : "?";
      remember_rollback({inner_.deployment(), version});
    }
  }
  return r;
}

}  // namespace updraft::agent
