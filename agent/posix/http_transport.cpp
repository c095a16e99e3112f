#include "agent/posix/http_transport.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/host/hex.h"
#include "crypto/host/base64.h"
#include "net/http/http_client.h"

namespace updraft::agent {
namespace {

using net::http::Method;
using nlohmann::json;

const char* network_name(NetworkType network) {
  switch (network) {
    case NetworkType::kWifi:
      return "wifi";
    case NetworkType::kEthernet:
      return "ethernet";
    case NetworkType::kCellular:
      return "cellular";
    case NetworkType::kNbIot:
      return "nbiot";
    case NetworkType::kUnknown:
      break;
  }
  return "";
}

std::string text_of(const std::array<char, kMaxText>& text) {
  return std::string(text.data(), ::strnlen(text.data(), text.size()));
}

}  // namespace

namespace {

net::http::HttpClientOptions client_options(const HttpTransport::Options& o) {
  net::http::HttpClientOptions options;
  options.timeout = std::chrono::milliseconds(o.timeout_ms);
  options.tls = o.tls;
  options.ca_file = o.ca_file;
  options.server_key_sha256 = o.server_key_sha256;
  return options;
}

}  // namespace

HttpTransport::HttpTransport(Options options)
    : options_(std::move(options)), deployment_(options_.deployment) {}

net::http::HttpClient& HttpTransport::client() {
  if (!client_) {
    client_ = std::make_unique<net::http::HttpClient>(options_.host, options_.port,
                                                      client_options(options_));
  }
  return *client_;
}

HttpTransport::~HttpTransport() = default;

void HttpTransport::close() { client_.reset(); }

ErrorCode HttpTransport::fail(const Error& error) {
  last_error_ = error.to_string();
  return error.code == ErrorCode::kTransportTimeout ? ErrorCode::kTransportTimeout
                                                    : ErrorCode::kTransportFailed;
}

Result<void> HttpTransport::authenticate() {
  const std::string body =
      json{{"device_id", options_.device_id}, {"secret", options_.secret}}.dump();
  HostResult<net::http::ClientResponse> r =
      client().request(Method::kPost, "/api/v1/device/token", {}, body);
  if (!r.ok()) return fail(r.error());
  if (r->status != 200) {
    last_error_ = "token refused: " + r->body;
    return ErrorCode::kCheckInRejected;
  }
  const json answer = json::parse(r->body, nullptr, false);
  if (!answer.is_object() || !answer.contains("token") || !answer["token"].is_string()) {
    last_error_ = "malformed token answer";
    return ErrorCode::kCheckInRejected;
  }
  token_ = answer["token"].get<std::string>();
  return {};
}

Result<std::pair<int, std::string>> HttpTransport::post(const std::string& target,
                                                        const std::string& body) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (token_.empty()) UPDRAFT_TRY(authenticate());
    HostResult<net::http::ClientResponse> r =
        client().request(Method::kPost, target, {{"authorization", "Bearer " + token_}}, body);
    if (!r.ok()) return fail(r.error());
    if (r->status == 401 && attempt == 0) {
      token_.clear();  // expired: authenticate once more
      continue;
    }
    return std::pair<int, std::string>{r->status, std::move(r->body)};
  }
  return ErrorCode::kCheckInRejected;
}

Result<void> HttpTransport::check_in(const DeviceStatus& status, CheckInAnswer& answer) {
  char nonce[17];
  std::snprintf(nonce, sizeof nonce, "%016llx", static_cast<unsigned long long>(status.nonce));
  json body = {{"version", text_of(status.version)},
               {"image_sha256", to_hex(status.image_hash)},
               {"slot", status.slot},
               {"battery", status.battery_percent},
               {"nonce", nonce}};
  if (status.network != NetworkType::kUnknown) body["network"] = network_name(status.network);
  if (status.root_version != 0) body["root_version"] = status.root_version;
  const auto started = std::chrono::steady_clock::now();
  UPDRAFT_TRY_ASSIGN(auto response, post("/api/v1/device/checkin", body.dump()));
  check_in_micros_.push_back(
      static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - started)
                                     .count()));
  if (response.first != 200) {
    last_error_ = "check-in answered " + std::to_string(response.first) + ": " + response.second;
    return ErrorCode::kCheckInRejected;
  }
  const json j = json::parse(response.second, nullptr, false);
  const MutableByteView root_buffer = answer.root;
  answer = CheckInAnswer{};
  answer.root = root_buffer;
  if (!j.is_object()) return ErrorCode::kCheckInRejected;
  // Why there is no update ("up to date", "preparing the delta"), for the log;
  // a device decides nothing on it.
  reason_ = j.contains("reason") && j["reason"].is_string()
                ? j["reason"].get<std::string>().substr(0, 200)
                : std::string();
  answer.poll_seconds = static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(j.value("poll_seconds", 3600), 1, 86400 * 7));
  // The next root metadata, when the device's is older (docs/api/device.md). The
  // agent verifies it; a device that asked for none (empty buffer) ignores it.
  if (j.contains("root") && !root_buffer.empty()) {
    HostResult<std::vector<std::byte>> root =
        j["root"].is_string() ? base64_decode(j["root"].get<std::string>())
                              : HostResult<std::vector<std::byte>>(ErrorCode::kCheckInRejected);
    if (!root.ok() || root->empty() || root->size() > root_buffer.size()) {
      last_error_ = root.ok() ? "root metadata of " + std::to_string(root->size()) +
                                    " bytes does not fit this device's root store"
                              : "malformed root in the check-in answer";
      return ErrorCode::kCheckInRejected;
    }
    std::copy(root->begin(), root->end(), root_buffer.begin());
    answer.root_size = static_cast<std::uint32_t>(root->size());
  }
  if (!j.value("update", false)) return {};
  const std::string artifact = j.value("artifact", std::string());
  const std::string kind = j.value("kind", std::string());
  HostResult<std::vector<std::byte>> manifest = base64_decode(j.value("manifest", std::string()));
  if (artifact.empty() || artifact.size() >= answer.artifact.size() || !manifest.ok() ||
      manifest->size() > answer.manifest.size() || (kind != "delta" && kind != "full")) {
    last_error_ = "malformed check-in answer";
    return ErrorCode::kCheckInRejected;
  }
  answer.update_available = true;
  answer.kind = kind == "delta" ? ArtifactKind::kPatch : ArtifactKind::kFullImage;
  std::memcpy(answer.artifact.data(), artifact.c_str(), artifact.size() + 1);
  answer.artifact_size = j.value("artifact_size", std::uint32_t{0});
  answer.manifest_size = static_cast<std::uint32_t>(manifest->size());
  std::copy(manifest->begin(), manifest->end(), answer.manifest.begin());
  answer.force = j.value("force", false);
  deployment_ = j.value("deployment", std::int64_t{0});
  window_.clear();  // a new offer: forget what was read ahead
  return {};
}

Result<std::size_t> HttpTransport::fetch(const char* artifact, std::uint32_t offset,
                                         MutableByteView out) {
  const bool in_window = artifact == window_artifact_ && offset >= window_offset_ &&
                         offset < window_offset_ + window_.size();
  if (!in_window) {
    if (token_.empty()) UPDRAFT_TRY(authenticate());
    const std::uint32_t last = offset + std::max<std::uint32_t>(options_.read_ahead, 1) - 1;
    HostResult<net::http::ClientResponse> r = client().request(
        Method::kGet, artifact,
        {{"authorization", "Bearer " + token_},
         {"range", "bytes=" + std::to_string(offset) + "-" + std::to_string(last)}});
    if (!r.ok()) return fail(r.error());
    if (r->status == 416) return std::size_t{0};  // past the end: nothing more to read
    if (r->status == 401) token_.clear();
    if (r->status != 206 && r->status != 200) {
      last_error_ = "artifact answered " + std::to_string(r->status);
      return ErrorCode::kTransportFailed;
    }
    const std::size_t skip = r->status == 200 ? offset : 0;  // a server that ignored Range
    if (skip > r->body.size()) return std::size_t{0};
    window_artifact_ = artifact;
    window_offset_ = offset;
    window_.assign(reinterpret_cast<const std::byte*>(r->body.data()) + skip,
                   reinterpret_cast<const std::byte*>(r->body.data()) + r->body.size());
    bytes_received_ += window_.size();
    if (window_.empty()) return std::size_t{0};
  }
  const std::size_t from = offset - window_offset_;
  const std::size_t n = std::min(out.size(), window_.size() - from);
  std::memcpy(out.data(), window_.data() + from, n);
  return n;
}

Result<void> HttpTransport::report(const Report& report) {
  if (deployment_ == 0) return {};
  json body = {{"phase", phase_name(report.phase)},
               {"progress", report.progress_percent},
               {"error", report.error},
               {"running_version", text_of(report.running)}};
  if (!log_lines_.empty()) body["log"] = log_lines_;
  UPDRAFT_TRY_ASSIGN(
      auto response,
      post("/api/v1/device/deployments/" + std::to_string(deployment_) + "/report", body.dump()));
  // 410: the server considers the deployment finished; nothing to correct.
  if (response.first != 204 && response.first != 410) {
    last_error_ = "report answered " + std::to_string(response.first) + ": " + response.second;
    return ErrorCode::kTransportFailed;
  }
  log_lines_.clear();
  return {};
}

}  // namespace updraft::agent
