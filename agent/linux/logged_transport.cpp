#include "agent/linux/logged_transport.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "agent/linux/log.h"
#include "core/host/file.h"

namespace updraft::agent {
namespace {

bool is_outcome(Phase phase) {
  return phase == Phase::kSuccess || phase == Phase::kFailure || phase == Phase::kRolledBack;
}

template <std::size_t N>
void set_text(std::array<char, N>& out, const std::string& text) {
  out.fill('\0');
  if (text == "-") return;
  std::memcpy(out.data(), text.data(), std::min(text.size(), N - 1));
}

const char* text_or_dash(const char* text) { return text[0] != '\0' ? text : "-"; }

}  // namespace

// One line per report: deployment phase error percent slot running target
// ("-" for an empty version).
std::vector<QueuedReport> read_report_queue(const std::string& path, std::size_t* skipped) {
  std::vector<QueuedReport> queue;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    QueuedReport q;
    unsigned phase = 0, error = 0, percent = 0, slot = 0;
    std::string running, target;
    if (!(fields >> q.deployment >> phase >> error >> percent >> slot >> running >> target) ||
        !is_outcome(static_cast<Phase>(phase))) {
      if (skipped != nullptr) ++*skipped;
      continue;
    }
    q.report.phase = static_cast<Phase>(phase);
    q.report.error = static_cast<std::uint16_t>(error);
    q.report.progress_percent = static_cast<std::uint8_t>(percent);
    q.report.running_slot = static_cast<std::uint8_t>(slot);
    set_text(q.report.running, running);
    set_text(q.report.target, target);
    queue.push_back(q);
  }
  return queue;
}

LoggedTransport::LoggedTransport(Inner inner, std::string deployment_file, std::string queue_file)
    : inner_(std::move(inner)),
      deployment_file_(std::move(deployment_file)),
      queue_file_(std::move(queue_file)) {
  if (queue_file_.empty()) return;
  std::size_t skipped = 0;
  queue_ = read_report_queue(queue_file_, &skipped);
  if (skipped > 0) {
    log_warning("%s: skipped %zu line(s) that are not queued reports", queue_file_.c_str(),
                skipped);
  }
  if (!queue_.empty()) log_line("%zu report(s) from before wait for the server", queue_.size());
}

void LoggedTransport::save_queue() {
  if (queue_file_.empty()) return;
  if (queue_.empty()) {
    ::unlink(queue_file_.c_str());
    queue_unwritable_ = false;
    return;
  }
  std::string text;
  for (const Queued& q : queue_) {
    text += std::to_string(q.deployment) + " " +
            std::to_string(static_cast<unsigned>(q.report.phase)) + " " +
            std::to_string(q.report.error) + " " + std::to_string(q.report.progress_percent) + " " +
            std::to_string(q.report.running_slot) + " " + text_or_dash(q.report.running.data()) +
            " " + text_or_dash(q.report.target.data()) + "\n";
  }
  if (auto r = write_file_atomic(queue_file_, as_bytes_view(text.data(), text.size())); !r.ok()) {
    if (!queue_unwritable_) {
      log_error(
          "cannot keep the undelivered reports in %s (%s); %zu held in memory until the "
          "agent stops",
          queue_file_.c_str(), r.error().to_string().c_str(), queue_.size());
      if (inner_.attach_log) {
        inner_.attach_log("device: cannot keep undelivered reports in " + queue_file_ + " (" +
                          r.error().message + "); they are held in memory until the agent stops");
      }
    }
    queue_unwritable_ = true;
  } else {
    queue_unwritable_ = false;
  }
}

std::int64_t LoggedTransport::unheard_rollback() const {
  for (const Queued& q : queue_) {
    if (q.report.phase == Phase::kRolledBack) return q.deployment;
  }
  return 0;
}

bool LoggedTransport::send_queue(const DeviceStatus& status) {
  const std::size_t before = queue_.size();
  while (!queue_.empty()) {
    Queued& q = queue_.front();
    if (q.deployment != inner_.deployment()) {
      log_warning(
          "dropping the queued %s report of deployment %lld: the server has moved on to "
          "deployment %lld",
          phase_name(q.report.phase), static_cast<long long>(q.deployment),
          static_cast<long long>(inner_.deployment()));
      queue_.erase(queue_.begin());
      continue;
    }
    // What the device runs now, not when the report was first written.
    q.report.running = status.version;
    q.report.running_slot = status.slot;
    if (!inner_.transport.report(q.report).ok()) break;
    log_line("delivered the queued %s report of deployment %lld", phase_name(q.report.phase),
             static_cast<long long>(q.deployment));
    queue_.erase(queue_.begin());
  }
  if (queue_.size() != before) save_queue();
  return queue_.empty();
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
  const std::int64_t failed = unheard_rollback();
  if (answer.update_available && failed != 0 && inner_.deployment() == failed) {
    // The deployment whose image failed its trial, offered again because the
    // server never heard: tell it again, and let the agent install nothing.
    for (const Queued& q : queue_) {
      if (q.deployment != failed || q.report.phase != Phase::kRolledBack) continue;
      log_warning(
          "deployment %lld offered again, but %s failed its trial there; reporting the "
          "rollback again instead of installing it",
          static_cast<long long>(failed), q.report.target.data());
      break;
    }
    if (send_queue(status)) log_line("the server has the rollback now");
    answer.update_available = false;
    logged_offer_ = 0;
    return r;
  }
  if (!queue_.empty()) send_queue(status);
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
  if (!is_outcome(report.phase)) return r;  // progress: the next one says more
  const std::int64_t deployment = inner_.deployment();
  if (r.ok()) {
    // Heard: what was queued for this deployment says less than this.
    const auto stale = std::remove_if(queue_.begin(), queue_.end(),
                                      [&](const Queued& q) { return q.deployment == deployment; });
    if (stale != queue_.end()) {
      queue_.erase(stale, queue_.end());
      save_queue();
    }
  } else {
    queue_.push_back(Queued{deployment, report});
    save_queue();
    log_line("%s report of deployment %lld queued until the server hears it (%zu waiting)",
             phase_name(report.phase), static_cast<long long>(deployment), queue_.size());
  }
  return r;
}

}  // namespace updraft::agent
