// The CLI's side of updraftd's admin API (docs/api/admin.md): which server and
// token to use, requests whose error answers become an Error carrying the server's
// code and message, and the live event stream. Each command group
// (product, devices, release, campaign) builds on this.
//
// Threads: a ServerConnection holds one blocking HTTP connection; use it from one
// thread at a time, and open another for a second thread.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/host/error.h"
#include "net/http/http_client.h"

namespace updraft::cli {

using nlohmann::json;

// Where the server is and how to authenticate; filled by add_server_options.
struct ServerOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string token;
  std::string token_file;
};

// Adds --server (env UPDRAFT_SERVER), --token (env UPDRAFT_TOKEN) and --token-file
// (env UPDRAFT_TOKEN_FILE) to `cmd`; a token given directly wins over a token file.
// Each command gets its own storage: CLI11 also fills the options of subcommands
// that did not run from the environment, which would overwrite a shared value.
std::shared_ptr<const ServerOptions> add_server_options(CLI::App& cmd);

class ServerConnection {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{30'000};

  ServerConnection() = default;  // for Result; use open()

  // Parses options.url (http:// or https://, optional port and path prefix) and
  // resolves the token. Connects on the first request. `timeout` bounds each whole
  // request, or for follow_events() each wait for the next bytes.
  // Errors: kInvalidArgument (bad URL, no token), kIoError (unreadable token file).
  static HostResult<ServerConnection> open(const ServerOptions& options,
                                           std::chrono::milliseconds timeout = kDefaultTimeout);

  // One request to `target` (an /api/v1/... path with its query) and its JSON
  // answer. An answer with an error status becomes that error; a transport failure
  // is kTransportFailed or kTransportTimeout.
  HostResult<json> get(const std::string& target);
  HostResult<json> send(net::http::Method method, const std::string& target, const json& body);
  // POSTs raw bytes (a release image) as application/octet-stream.
  HostResult<json> upload(const std::string& target, ByteView bytes);

  // Follows GET /api/v1/events, calling on_event(type, data) for each event until it
  // returns false (then ok) or the stream fails or ends (then the error; an ended
  // stream is kTransportFailed). Events whose data is not JSON are skipped.
  HostResult<void> follow_events(
      const std::function<bool(const std::string& type, const json& data)>& on_event);

 private:
  HostResult<json> exchange(net::http::Method method, const std::string& target,
                            std::string_view body, std::string_view content_type);
  net::http::Headers auth_headers() const;

  std::string base_path_;  // the URL's path prefix, without a trailing '/'
  std::string token_;
  std::unique_ptr<net::http::HttpClient> client_;
};

// Percent-encodes `text` for use as a query value or a path segment.
std::string url_encode(std::string_view text);

// Opens a connection from `options`, runs `command` on it and returns the exit code:
// 0, or that of the error it reports as "updraft: error NAME (number): message".
// An answer that does not have the shape the command expects is reported as kInternal.
int run_with_server(const ServerOptions& options,
                    const std::function<HostResult<void>(ServerConnection&)>& command,
                    std::chrono::milliseconds timeout = ServerConnection::kDefaultTimeout);

}  // namespace updraft::cli
