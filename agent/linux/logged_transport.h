// The daemon's Transport: the HTTP or CoAP transport with a log line per state
// change, and the deployment it reports on kept in a file beside the state file,
// so a restarted daemon reports the outcome of the update it installed before
// the restart.
//
// It also remembers a rollback the server did not hear (its report failed): while
// it does, an offer of that same deployment is answered with the rollback report
// again and passed on to the agent as "no update", so the image that failed its
// trial is not installed and trialed again (findings 2026-12-01: 42 trials in 76 s
// with the reports lost). Kept in <state>.failed, and in memory when that cannot
// be written (a full filesystem); forgotten once a rollback report gets through.
// A new deployment of the image installs as any other. Host only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "agent/port/transport.h"

namespace updraft::agent {

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
  };

  // `deployment_file` is rewritten atomically whenever a new offer arrives;
  // `rollback_file` holds an unheard rollback ("" : kept in memory only).
  LoggedTransport(Inner inner, std::string deployment_file, std::string rollback_file = "");

  Result<void> check_in(const DeviceStatus& status, CheckInAnswer& answer) override;
  Result<std::size_t> fetch(const char* artifact, std::uint32_t offset,
                            MutableByteView out) override;
  Result<void> report(const Report& report) override;
  std::uint32_t block_size() const override { return inner_.transport.block_size(); }

  // The deployment whose rollback the server has not heard; 0: none.
  std::int64_t unheard_rollback() const { return unheard_.deployment; }

 private:
  struct UnheardRollback {
    std::int64_t deployment = 0;
    std::string version;  // the image that failed its trial
  };
  void remember_rollback(UnheardRollback rollback);
  Inner inner_;
  std::string deployment_file_;
  std::string rollback_file_;
  UnheardRollback unheard_;
  std::int64_t logged_offer_ = -1;
  std::string logged_reason_;
  bool fetched_ = false;
  Phase last_phase_{};
  std::uint16_t last_error_ = 0xFFFF;
};

}  // namespace updraft::agent
