#include "cli/server_connection.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <utility>
#include <vector>

#include "cli/output.h"
#include "core/host/file.h"

namespace updraft::cli {
namespace {

using net::http::ClientResponse;
using net::http::Headers;
using net::http::Method;

// CLI11's exit code for a bad command line; a missing token or bad URL is one.
constexpr int kExitUsage = 2;

struct ServerUrl {
  bool tls = false;
  std::string host;
  std::uint16_t port = 0;
  std::string path;  // prefix without a trailing '/'
};

HostResult<ServerUrl> parse_url(const std::string& url) {
  const auto bad = [&url](const char* why) {
    return Error(ErrorCode::kInvalidArgument, "--server " + url + ": " + why);
  };
  ServerUrl out;
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    out.tls = true;
    rest.remove_prefix(8);
  } else {
    return bad("give an http:// or https:// URL");
  }
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) out.path = rest.substr(slash);
  while (!out.path.empty() && out.path.back() == '/') out.path.pop_back();

  std::string_view port_text;
  if (authority.starts_with('[')) {  // an IPv6 literal, [::1]:8080
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '[' in the host");
    out.host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') return bad("expected ':' and a port after ']'");
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const std::size_t colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return bad("no host");
  out.port = out.tls ? 443 : 80;
  if (!port_text.empty()) {
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), out.port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || out.port == 0) {
      return bad("the port is not a number in 1..65535");
    }
  }
  return out;
}

HostResult<std::string> resolve_token(const ServerOptions& options) {
  if (!options.token.empty()) return options.token;
  if (options.token_file.empty()) {
    return Error(
        ErrorCode::kInvalidArgument,
        "no API token: give --token or --token-file, or set UPDRAFT_TOKEN or UPDRAFT_TOKEN_FILE");
  }
  UPDRAFT_TRY_ASSIGN(const std::vector<std::byte> bytes, read_file(options.token_file));
  std::string token(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!token.empty() && space(token.back())) token.pop_back();
  std::size_t first = 0;
  while (first < token.size() && space(token[first])) ++first;
  token.erase(0, first);
  if (token.empty())
    return Error(ErrorCode::kInvalidArgument, "token file " + options.token_file + " is empty");
  return token;
}

// The server's {"error":{"code","number","message"}} as an Error; any other answer
// with an error status (a proxy's page, say) as kTransportFailed with its status.
Error error_from(const ClientResponse& response) {
  const json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  const json* error = body.is_object() && body.contains("error") ? &body["error"] : nullptr;
  if (error != nullptr && error->is_object() && error->contains("number") &&
      (*error)["number"].is_number_unsigned()) {
    const auto code = static_cast<ErrorCode>((*error)["number"].get<std::uint16_t>());
    std::string message;
    if (error->contains("message") && (*error)["message"].is_string())
      message = (*error)["message"];
    // A newer server may send a number this CLI has no name for; keep the server's.
    if (error_name(code) == "UNKNOWN" && error->contains("code") && (*error)["code"].is_string()) {
      message += " [" + (*error)["code"].get<std::string>() + "]";
    }
    return Error(code, std::move(message));
  }
  const std::string excerpt = response.body.substr(0, 200);
  return Error(ErrorCode::kTransportFailed, "the server answered HTTP " +
                                                std::to_string(response.status) +
                                                (excerpt.empty() ? std::string() : ": " + excerpt));
}

// An SSE field's value: the text after "name:", less one leading space.
std::string_view field_value(std::string_view rest) {
  if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return rest;
}

}  // namespace

std::shared_ptr<const ServerOptions> add_server_options(CLI::App& cmd) {
  auto options = std::make_shared<ServerOptions>();
  cmd.add_option("--server", options->url, "Update server URL (http:// or https://)")
      ->envname("UPDRAFT_SERVER")
      ->capture_default_str()
      ->group("Server");
  cmd.add_option("--token", options->token, "Admin API token")
      ->envname("UPDRAFT_TOKEN")
      ->group("Server");
  cmd.add_option("--token-file", options->token_file,
                 "File holding the admin API token (e.g. <updraftd data>/admin.token)")
      ->envname("UPDRAFT_TOKEN_FILE")
      ->group("Server");
  return options;
}

HostResult<ServerConnection> ServerConnection::open(const ServerOptions& options,
                                                    std::chrono::milliseconds timeout) {
  UPDRAFT_TRY_ASSIGN(ServerUrl url, parse_url(options.url));
  ServerConnection connection;
  UPDRAFT_TRY_ASSIGN(connection.token_, resolve_token(options));
  connection.base_path_ = std::move(url.path);
  net::http::HttpClientOptions client_options;
  client_options.timeout = timeout;
  client_options.tls = url.tls;
  connection.client_ = std::make_unique<net::http::HttpClient>(url.host, url.port, client_options);
  return connection;
}

Headers ServerConnection::auth_headers() const { return {{"authorization", "Bearer " + token_}}; }

HostResult<json> ServerConnection::exchange(Method method, const std::string& target,
                                            std::string_view body, std::string_view content_type) {
  Headers headers = auth_headers();
  headers["accept"] = "application/json";
  if (!body.empty()) headers["content-type"] = content_type;
  UPDRAFT_TRY_ASSIGN(const ClientResponse response,
                     client_->request(method, base_path_ + target, headers, body));
  if (response.status < 200 || response.status >= 300) return error_from(response);
  if (response.body.empty()) return json::object();
  json answer = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded())
    return Error(ErrorCode::kInternal, "the server's answer to " + target + " is not JSON");
  return answer;
}

HostResult<json> ServerConnection::get(const std::string& target) {
  return exchange(Method::kGet, target, {}, {});
}

HostResult<json> ServerConnection::send(Method method, const std::string& target,
                                        const json& body) {
  return exchange(method, target, body.is_null() ? std::string() : body.dump(), "application/json");
}

HostResult<json> ServerConnection::upload(const std::string& target, ByteView bytes) {
  return exchange(Method::kPost, target,
                  std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                  "application/octet-stream");
}

HostResult<void> ServerConnection::follow_events(
    const std::function<bool(const std::string& type, const json& data)>& on_event) {
  std::string pending;  // bytes after the last complete line
  std::string type, data;
  bool stopped = false;
  const auto on_chunk = [&](std::string_view chunk) {
    pending.append(chunk);
    std::size_t start = 0;
    for (std::size_t end = 0; (end = pending.find('\n', start)) != std::string::npos;
         start = end + 1) {
      std::string_view line(pending.data() + start, end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) {  // a blank line ends an event
        const json parsed =
            data.empty() ? json() : json::parse(data, nullptr, /*allow_exceptions=*/false);
        if (!parsed.is_null() && !parsed.is_discarded() &&
            !on_event(type.empty() ? "message" : type, parsed)) {
          stopped = true;
          return false;
        }
        type.clear();
        data.clear();
      } else if (line.starts_with("event:")) {
        type = field_value(line.substr(6));
      } else if (line.starts_with("data:")) {
        if (!data.empty()) data += '\n';
        data += field_value(line.substr(5));
      }
      // Other fields (id:, retry:) and comments (": heartbeat") carry nothing we use.
    }
    pending.erase(0, start);
    return true;
  };
  Headers headers = auth_headers();
  headers["accept"] = "text/event-stream";
  UPDRAFT_TRY_ASSIGN(const ClientResponse response,
                     client_->get_stream(base_path_ + "/api/v1/events", headers, on_chunk));
  if (response.status < 200 || response.status >= 300) return error_from(response);
  if (stopped) return {};
  return Error(ErrorCode::kTransportFailed, "the server closed the event stream");
}

std::string url_encode(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kDigits[u >> 4];
      out += kDigits[u & 15];
    }
  }
  return out;
}

int run_with_server(const ServerOptions& options,
                    const std::function<HostResult<void>(ServerConnection&)>& command,
                    std::chrono::milliseconds timeout) {
  HostResult<ServerConnection> connection = ServerConnection::open(options, timeout);
  if (!connection.ok()) {
    const int exit_code = report_error(connection.error());
    return connection.error().code == ErrorCode::kInvalidArgument ? kExitUsage : exit_code;
  }
  try {
    HostResult<void> done = command(*connection);
    return done.ok() ? 0 : report_error(done.error());
  } catch (const json::exception& e) {
    // An answer without the fields this CLI reads: a server of another version.
    return report_error(
        Error(ErrorCode::kInternal, std::string("unexpected answer from the server: ") + e.what()));
  }
}

}  // namespace updraft::cli
