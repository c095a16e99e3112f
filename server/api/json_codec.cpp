#include "server/api/json_codec.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "server/api/api_errors.h"
#include "server/services/json_fields.h"
#include "server/services/metrics.h"

namespace updraft::server::api {
namespace {

// "HH:MM" -> minutes after midnight.
std::optional<std::uint16_t> parse_clock(const std::string& text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (std::size_t i : {0u, 1u, 3u, 4u}) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  const int h = (text[0] - '0') * 10 + (text[1] - '0');
  const int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return static_cast<std::uint16_t>(h * 60 + m);
}

std::string clock_text(std::uint16_t minutes) {
  char text[8];
  std::snprintf(text, sizeof text, "%02u:%02u", minutes / 60u, minutes % 60u);
  return text;
}

}  // namespace

HostResult<json> parse_object(const net::http::Request& request) {
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return bad_request("body: not valid JSON");
  if (!body.is_object()) return bad_request("body: must be a JSON object");
  return body;
}

json to_json(const Product& p) {
  return {{"id", p.id.value},
          {"name", p.name},
          {"profile", delta::profile_info(p.profile).name},
          {"slot_size", p.slot_size},
          {"sector_size", p.sector_size},
          {"self_registration", !p.provisioning_secret_hash.empty()},
          {"while_delta_builds",
           p.while_delta_builds == WhileDeltaBuilds::kFullImage ? "full-image" : "retry"},
          {"delta_budget_seconds", p.delta_budget_seconds},
          {"created_at", p.created_at}};
}

json to_json(const Device& d) {
  return {{"id", d.id.value},
          {"product", d.product.value},
          {"hardware", d.hardware},
          {"serial", d.serial},
          {"tags", d.tags},
          {"version", d.status.version},
          {"image_sha256", d.status.image_sha256},
          {"slot", d.status.slot},
          {"battery", d.status.battery_percent},
          {"network", d.status.network},
          {"last_seen", d.status.last_seen},
          {"registered_at", d.registered_at},
          {"decommissioned_at", d.decommissioned_at}};
}

json to_json(const Release& r, const std::string& product_name) {
  return {{"id", r.id.value},
          {"product", product_name},
          {"version", r.version},
          {"security_counter", r.security_counter},
          {"hardware", r.hardware},
          {"allow_downgrade", r.allow_downgrade},
          {"size", r.size},
          {"sha256", r.sha256},
          {"notes", r.notes},
          {"enos_version", r.enos_version},
          {"mender_artifact_name", r.mender_artifact_name},
          {"created_at", r.created_at}};
}

json to_json(const Campaign& c) {
  json phases = json::array();
  for (const PhaseSpec& p : c.phases) {
    phases.push_back(p.kind == PhaseSpec::Kind::kPercent ? json{{"percent", p.amount}}
                                                         : json{{"count", p.amount}});
  }
  json devices = json::array();
  for (const DeviceId& d : c.target.devices) devices.push_back(d.value);
  json inventory = json::object();
  for (const auto& [name, value] : c.target.inventory)
    inventory[name] = json::parse(value, nullptr, /*allow_exceptions=*/false);
  return {{"id", c.id.value},
          {"name", c.name},
          {"product", c.product.value},
          {"release", c.release.value},
          {"target",
           {{"hardware", c.target.hardware},
            {"versions", c.target.versions},
            {"tags", c.target.tags},
            {"inventory", inventory},
            {"devices", devices}}},
          {"phases", phases},
          {"success_threshold", c.success_threshold},
          {"failure_threshold", c.failure_threshold},
          {"window",
           {{"start", clock_text(c.window.start_minute)},
            {"end", clock_text(c.window.end_minute)},
            {"timezone", c.window.timezone}}},
          {"max_concurrent_downloads", c.max_concurrent_downloads},
          {"force", c.force},
          {"allow_downgrade", c.allow_downgrade},
          {"deployment_timeout_seconds", c.deployment_timeout_seconds},
          {"start_at", c.start_at},
          {"dynamic", c.dynamic},
          {"state", name_of(c.state)},
          {"current_phase", c.current_phase},
          {"pause_reason", c.pause_reason},
          {"created_by", c.created_by},
          {"created_at", c.created_at},
          {"started_at", c.started_at},
          {"finished_at", c.finished_at}};
}

json to_json(const Deployment& d) {
  return {{"id", d.id.value},
          {"campaign", d.campaign.value},
          {"device", d.device.value},
          {"phase", d.phase},
          {"state", name_of(d.state)},
          {"progress", d.progress},
          {"error", d.error},
          {"error_name", d.error != 0 ? error_name(static_cast<ErrorCode>(d.error)) : ""},
          {"error_text", d.error != 0 ? describe(static_cast<ErrorCode>(d.error)) : ""},
          {"attempts", d.attempts},
          {"artifact_kind", d.artifact_kind},
          {"channel", d.channel},
          {"ignore_window", d.ignore_window},
          {"not_before", d.not_before},
          {"message", d.message},
          {"created_at", d.created_at},
          {"updated_at", d.updated_at},
          {"finished_at", d.finished_at}};
}

json to_json(const DeploymentHistoryEntry& e) {
  return {{"deployment", e.deployment.value},
          {"campaign", e.campaign.value},
          {"at", e.at},
          {"state", name_of(e.state)},
          {"progress", e.progress},
          {"error", e.error},
          {"error_name", e.error != 0 ? error_name(static_cast<ErrorCode>(e.error)) : ""},
          {"attempt", e.attempt},
          {"message", e.message}};
}

json to_json(const AuditEvent& e) {
  json details = json::parse(e.details, nullptr, false);
  if (details.is_discarded()) details = e.details;
  return {{"id", e.id},         {"at", e.at},         {"actor", e.actor},
          {"action", e.action}, {"object", e.object}, {"details", details}};
}

json to_json(const CampaignProgress& p) {
  json j = to_json(p.campaign);
  json states = json::object();
  for (const auto& [state, n] : p.by_state) states[std::string(name_of(state))] = n;
  j["deployments"] = {{"total", p.total}, {"by_state", states}};
  json phases = json::array();
  for (const CampaignProgress::Phase& ph : p.phases) {
    phases.push_back({{"devices", ph.devices},
                      {"released", ph.released},
                      {"succeeded", ph.succeeded},
                      {"failed", ph.failed}});
  }
  j["phase_progress"] = phases;
  return j;
}

HostResult<CheckInRequest> check_in_from_json(const json& body) {
  if (!body.contains("version") || !body["version"].is_string())
    return bad_request("version: required, the running version");
  CheckInRequest in;
  in.status.version = body.value("version", std::string());
  in.status.image_sha256 = body.value("image_sha256", std::string());
  UPDRAFT_TRY_ASSIGN(const std::int64_t slot, integer_field(body, "slot", 0, 0, 1));
  UPDRAFT_TRY_ASSIGN(const std::int64_t battery, integer_field(body, "battery", -1, -1, 100));
  in.status.slot = static_cast<int>(slot);
  in.status.battery_percent = static_cast<int>(battery);
  in.status.network = body.value("network", std::string());
  if (in.status.version.size() > 64 || in.status.image_sha256.size() > 64 ||
      in.status.network.size() > 16) {
    return bad_request("version, image_sha256 or network: too long");
  }
  if (body.contains("nonce")) {
    if (!body["nonce"].is_string()) return bad_request("nonce: 16 hex digits as a string");
    const std::string text = body["nonce"].get<std::string>();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), in.nonce, 16);
    if (text.empty() || text.size() > 16 || ec != std::errc() || end != text.data() + text.size()) {
      return bad_request("nonce: 16 hex digits as a string");
    }
  }
  return in;
}

HostResult<DeviceReport> report_from_json(const json& body) {
  DeviceReport r;
  if (!body.contains("phase") || !body["phase"].is_string()) return bad_request("phase: required");
  r.phase = body.value("phase", std::string());
  UPDRAFT_TRY_ASSIGN(const std::int64_t progress, integer_field(body, "progress", 0, 0, 100));
  UPDRAFT_TRY_ASSIGN(const std::int64_t error, integer_field(body, "error", 0, 0, 65535));
  r.progress = static_cast<int>(progress);
  r.error = static_cast<int>(error);
  r.running_version = body.value("running_version", std::string());
  r.message = body.value("message", std::string());
  if (body.contains("log")) {
    // Lines for the deployment's log; past kMaxReportLogLines they are not kept.
    const json& log = body["log"];
    if (!log.is_array()) return bad_request("log: must be an array of text lines");
    for (const json& line : log) {
      if (!line.is_string()) return bad_request("log: must be an array of text lines");
      if (r.log.size() < kMaxReportLogLines) r.log.push_back(line.get<std::string>());
    }
  }
  if (!state_for_phase(r.phase, r.error))
    return bad_request("phase: unknown phase \"" + r.phase.substr(0, 32) + "\"");
  return r;
}

HostResult<Campaign> campaign_from_json(const json& body) {
  Campaign c;
  if (!body.contains("name") || !body["name"].is_string() ||
      body["name"].get<std::string>().empty()) {
    return bad_request("name: required text");
  }
  c.name = body["name"].get<std::string>();
  if (!body.contains("release") || !body["release"].is_number_integer())
    return bad_request("release: required release id");
  c.release = ReleaseId{body["release"].get<std::int64_t>()};
  if (body.contains("target")) {
    const json& t = body["target"];
    if (!t.is_object()) return bad_request("target: must be an object");
    c.target.hardware = t.value("hardware", std::vector<std::string>{});
    c.target.versions = t.value("versions", std::vector<std::string>{});
    c.target.tags = t.value("tags", std::vector<std::string>{});
    for (const std::string& id : t.value("devices", std::vector<std::string>{}))
      c.target.devices.push_back({id});
    if (t.contains("inventory")) {
      const json& inventory = t["inventory"];
      if (!inventory.is_object())
        return bad_request("target.inventory: an object of attribute names and values");
      for (const auto& [name, value] : inventory.items()) {
        if (name.empty() || value.is_null() || value.is_object())
          return bad_request("target.inventory: each a name and a string, number or list");
        c.target.inventory[name] = value.dump();
      }
    }
  }
  if (body.contains("phases")) {
    const json& phases = body["phases"];
    if (!phases.is_array()) return bad_request("phases: must be a list");
    for (std::size_t i = 0; i < phases.size(); ++i) {
      const json& p = phases[i];
      PhaseSpec spec;
      const std::string field = "phases[" + std::to_string(i) + "]";
      if (p.is_object() && p.contains("percent")) {
        spec.kind = PhaseSpec::Kind::kPercent;
        UPDRAFT_TRY_ASSIGN(const std::int64_t percent, integer_field(p, "percent", 0, 1, 100));
        spec.amount = static_cast<std::uint32_t>(percent);
      } else if (p.is_object() && p.contains("count")) {
        spec.kind = PhaseSpec::Kind::kCount;
        UPDRAFT_TRY_ASSIGN(const std::int64_t count, integer_field(p, "count", 0, 1, 100'000'000));
        spec.amount = static_cast<std::uint32_t>(count);
      } else {
        return bad_request(field + ": give {\"percent\": N} or {\"count\": N}");
      }
      c.phases.push_back(spec);
    }
  } else {
    c.phases = {PhaseSpec{}};  // everyone at once
  }
  UPDRAFT_TRY_ASSIGN(c.success_threshold,
                     number_field(body, "success_threshold", c.success_threshold, 0, 1));
  UPDRAFT_TRY_ASSIGN(c.failure_threshold,
                     number_field(body, "failure_threshold", c.failure_threshold, 0, 1));
  if (body.contains("window")) {
    const json& w = body["window"];
    if (!w.is_object()) return bad_request("window: must be an object");
    const std::optional<std::uint16_t> start = parse_clock(w.value("start", std::string("00:00")));
    const std::optional<std::uint16_t> end = parse_clock(w.value("end", std::string("00:00")));
    if (!start || !end) return bad_request("window: start and end are HH:MM");
    c.window.start_minute = *start;
    c.window.end_minute = *end;
    c.window.timezone = w.value("timezone", std::string("UTC"));
  }
  UPDRAFT_TRY_ASSIGN(const std::int64_t max_downloads,
                     integer_field(body, "max_concurrent_downloads", 0, 0, 100'000'000));
  c.max_concurrent_downloads = static_cast<std::uint32_t>(max_downloads);
  UPDRAFT_TRY_ASSIGN(c.force, bool_field(body, "force", false));
  UPDRAFT_TRY_ASSIGN(c.allow_downgrade, bool_field(body, "allow_downgrade", false));
  UPDRAFT_TRY_ASSIGN(const std::int64_t timeout,
                     integer_field(body, "deployment_timeout_seconds", 0, 0, 30 * 86400));
  c.deployment_timeout_seconds = static_cast<std::uint32_t>(timeout);
  UPDRAFT_TRY_ASSIGN(c.start_at, integer_field(body, "start_at", 0, 0, std::int64_t{1} << 40));
  UPDRAFT_TRY_ASSIGN(c.dynamic, bool_field(body, "dynamic", false));
  return c;
}

net::http::Response ok_json(const json& j, int status) {
  return net::http::Response::json(status, j.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string query(const net::http::Request& request, const char* name) {
  const auto it = request.query.find(name);
  return it != request.query.end() ? it->second : std::string();
}

std::size_t query_size(const net::http::Request& request, const char* name, std::size_t fallback,
                       std::size_t max) {
  const auto it = request.query.find(name);
  if (it == request.query.end()) return fallback;
  std::size_t value = 0;
  const auto [end, ec] =
      std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  if (ec != std::errc() || end != it->second.data() + it->second.size()) return fallback;
  return std::min(value, max);
}

}  // namespace updraft::server::api
