// The daemon's Transport: the HTTP transport with a log line per state change,
// and the deployment it reports on kept in a file beside the state file, so a
// restarted daemon reports the outcome of the update it installed before the
// restart. Host only.
#pragma once

#include <cstdint>
#include <string>

#include "agent/port/transport.h"
#include "agent/posix/http_transport.h"

namespace updraft::agent {

class LoggedTransport final : public Transport {
 public:
  // `deployment_file` is rewritten atomically whenever a new offer arrives.
  LoggedTransport(HttpTransport& inner, std::string deployment_file)
      : inner_(inner), deployment_file_(std::move(deployment_file)) {}

  Result<void> check_in(const DeviceStatus& status, CheckInAnswer& answer) override;
  Result<std::size_t> fetch(const char* artifact, std::uint32_t offset,
                            MutableByteView out) override;
  Result<void> report(const Report& report) override;

 private:
  HttpTransport& inner_;
  std::string deployment_file_;
  std::int64_t logged_offer_ = -1;
  bool fetched_ = false;
  Phase last_phase_{};
  std::uint16_t last_error_ = 0xFFFF;
};

}  // namespace updraft::agent
