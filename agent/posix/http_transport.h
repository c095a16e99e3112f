// The agent's Transport over HTTP to updraftd's native device API
// (docs/api/device.md), for Linux-class devices and the fleet simulator. Host only.
//
// Authenticates with the device's id and secret for a bearer token, and again when
// the token is refused. Sends the trusted root's version with each check-in and
// passes a newer root from the answer to the agent (CheckInAnswer::root). Artifacts are fetched
// with Range requests in windows of `read_ahead` bytes, so the agent's small reads cost one request
// per window, and a dropped connection resumes from the agent's offset. Not thread-safe: one per
// device.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/port/transport.h"
#include "core/host/error.h"

namespace updraft::net::http {
class HttpClient;
}

namespace updraft::agent {

class HttpTransport final : public Transport {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::string device_id;
    std::string secret;
    std::uint32_t read_ahead = 64 * 1024;
    std::uint32_t timeout_ms = 10'000;
    // HTTPS (net/http/http_client.h): the server's certificate must chain to a CA
    // in `ca_file` (empty: the system's store), or its key must hash to
    // `server_key_sha256` (64 hex digits of SHA-256 over its SubjectPublicKeyInfo),
    // or both when both are given.
    bool tls = false;
    std::string ca_file;
    std::string server_key_sha256;
    // The offer a restarted device reports on until its next check-in (a daemon
    // that re-executed itself for a trial boot still owes that offer its outcome).
    std::int64_t deployment = 0;
  };

  explicit HttpTransport(Options options);
  ~HttpTransport();

  Result<void> check_in(const DeviceStatus& status, CheckInAnswer& answer) override;
  Result<std::size_t> fetch(const char* artifact, std::uint32_t offset,
                            MutableByteView out) override;
  Result<void> report(const Report& report) override;

  // Drops the connection and its resources (a device going to sleep), so a
  // simulator can hold thousands of transports; the next call reconnects.
  void close();

  // How long each check-in took, in microseconds (for the simulator's figures).
  const std::vector<std::uint32_t>& check_in_micros() const { return check_in_micros_; }

  // The last transport failure in words (for logs; the agent sees the ErrorCode).
  const std::string& last_error() const { return last_error_; }
  // The reason the last check-in answer gave ("up to date", "preparing the delta").
  const std::string& reason() const { return reason_; }
  std::uint64_t bytes_received() const { return bytes_received_; }
  // The offer reports refer to (0: none), for a daemon to keep across restarts.
  std::int64_t deployment() const { return deployment_; }
  // A line for the deployment's log on the server, sent with the next report
  // that gets through (the device's own trouble: a full state filesystem).
  void attach_log(std::string line) { log_lines_.push_back(std::move(line)); }

 private:
  // POST with the token, re-authenticating once on 401. Returns the status and body.
  Result<std::pair<int, std::string>> post(const std::string& target, const std::string& body);
  Result<void> authenticate();
  net::http::HttpClient& client();
  ErrorCode fail(const Error& error);

  Options options_;
  std::unique_ptr<net::http::HttpClient> client_;
  std::string token_;
  std::int64_t deployment_ = 0;  // the offer reports refer to
  std::string window_artifact_;
  std::uint32_t window_offset_ = 0;
  std::vector<std::byte> window_;
  std::string last_error_;
  std::string reason_;
  std::vector<std::string> log_lines_;  // for the next report
  std::uint64_t bytes_received_ = 0;
  std::vector<std::uint32_t> check_in_micros_;
};

}  // namespace updraft::agent
