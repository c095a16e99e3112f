// The daemon's Transport: the HTTP or CoAP transport with a log line per state
// change, and the deployment it reports on kept in a file beside the state file,
// so a restarted daemon reports the outcome of the update it installed before
// the restart.
//
// Outcome reports (success, failure, rolled_back) that do not get through are
// queued until the server acknowledges them: in <state>.reports, and in memory
// when that cannot be written (a full filesystem, which is logged as an error
// and told to the server in the deployment's log).
// Each check-in sends the queue first, in order. A queued report of a deployment
// the server has since replaced by another is dropped, with a log line.
//
// A queued rollback is also the memory that the image failed its trial: while
// the server has not heard it, an offer of that same deployment is answered with
// the rollback report again and passed on to the agent as "no update", so the
// image is not installed and trialed again (findings 2026-12-01: 42 trials in
// 76 s with the reports lost). A new deployment of the image installs as any
// other. Host only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agent/port/transport.h"

namespace updraft::agent {

// An outcome report waiting for the server, and the deployment it belongs to.
struct QueuedReport {
  std::int64_t deployment = 0;
  Report report;
};

// The queue file as LoggedTransport keeps it; lines it cannot read are skipped
// and counted in `skipped`. A missing file is an empty queue.
std::vector<QueuedReport> read_report_queue(const std::string& path,
                                            std::size_t* skipped = nullptr);

class LoggedTransport final : public Transport {
 public:
  // What the inner transport knows beyond the port: the deployment its last
  // offer named, why its last call failed, and (when it has it) why its last
  // check-in brought no update.
  struct Inner {
    Transport& transport;
    std::function<std::int64_t()> deployment;
    std::function<std::string()> last_error;
    std::function<std::string()> reason = {};
    // Sends a line to the server's log of the deployment with the next report
    // (HttpTransport::attach_log); empty: the transport has no such log.
    std::function<void(std::string)> attach_log = {};
  };

  // `deployment_file` is rewritten atomically whenever a new offer arrives;
  // `queue_file` holds the undelivered outcome reports ("": in memory only).
  LoggedTransport(Inner inner, std::string deployment_file, std::string queue_file = "");

  Result<void> check_in(const DeviceStatus& status, CheckInAnswer& answer) override;
  Result<std::size_t> fetch(const char* artifact, std::uint32_t offset,
                            MutableByteView out) override;
  Result<void> report(const Report& report) override;
  std::uint32_t block_size() const override { return inner_.transport.block_size(); }

  // The deployment whose rollback the server has not heard; 0: none.
  std::int64_t unheard_rollback() const;
  // Outcome reports waiting for the server.
  std::size_t queued_reports() const { return queue_.size(); }

 private:
  using Queued = QueuedReport;
  void save_queue();
  // Sends the queue in order, as the device is now (`status`); stops at the
  // first report that fails. True when the queue is empty after.
  bool send_queue(const DeviceStatus& status);
  Inner inner_;
  std::string deployment_file_;
  std::string queue_file_;
  std::vector<Queued> queue_;
  bool queue_unwritable_ = false;  // logged once until a write works again
  std::int64_t logged_offer_ = -1;
  std::string logged_reason_;
  bool fetched_ = false;
  Phase last_phase_{};
  std::uint16_t last_error_ = 0xFFFF;
};

}  // namespace updraft::agent
