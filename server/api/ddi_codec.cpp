#include "server/api/ddi_codec.h"

#include <algorithm>
#include <cstdio>

#include "server/api/api_errors.h"
#include "server/services/utf8.h"

namespace updraft::server::api {
namespace {

using nlohmann::json;

bool one_of(const std::string& value, std::initializer_list<const char*> allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return value == a; });
}

// A JSON value as text: strings as they are, anything else as its JSON.
std::string as_text(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

}  // namespace

HostResult<DdiFeedback> ddi_feedback_from_json(const json& body) {
  const auto status = body.find("status");
  if (status == body.end() || !status->is_object())
    return bad_request("status: an object with \"execution\" is required");
  DdiFeedback out;
  const auto execution = status->find("execution");
  if (execution == status->end() || !execution->is_string())
    return bad_request("status.execution: required");
  out.execution = execution->get<std::string>();
  if (!one_of(out.execution, {"closed", "proceeding", "canceled", "scheduled", "rejected",
                              "resumed", "downloaded", "download"})) {
    return bad_request(
        "status.execution: one of closed, proceeding, canceled, scheduled, "
        "rejected, resumed, downloaded, download");
  }
  const auto result = status->find("result");
  if (result != status->end() && result->is_object()) {
    const auto finished = result->find("finished");
    if (finished != result->end()) {
      if (!finished->is_string()) return bad_request("status.result.finished: a string");
      out.finished = finished->get<std::string>();
      if (!one_of(out.finished, {"success", "failure", "none"}))
        return bad_request("status.result.finished: one of success, failure, none");
    }
    // Clients count in their own units (SWUpdate: chunks, sometimes 0 of 0): any
    // count that does not make a share leaves the progress as it was.
    const auto progress = result->find("progress");
    if (progress != result->end() && progress->is_object()) {
      const json cnt = progress->value("cnt", json());
      const json of = progress->value("of", json());
      if (cnt.is_number() && of.is_number()) {
        const double c = cnt.get<double>();
        const double o = of.get<double>();
        if (o > 0 && c >= 0) out.percent = static_cast<int>(std::min(100.0, c * 100.0 / o));
      }
    }
  }
  const auto details = status->find("details");
  if (details != status->end() && details->is_array()) {
    for (const json& line : *details) {
      if (out.details.size() == kMaxDetails) break;
      out.details.emplace_back(utf8_prefix(as_text(line), kMaxDetailBytes));
    }
  }
  return out;
}

HostResult<DdiConfigData> ddi_config_data_from_json(const json& body) {
  DdiConfigData out;
  const auto mode = body.find("mode");
  if (mode != body.end()) {
    if (!mode->is_string() || !one_of(mode->get<std::string>(), {"merge", "replace", "remove"}))
      return bad_request("mode: one of merge, replace, remove");
    out.mode = mode->get<std::string>();
  }
  const auto data = body.find("data");
  if (data == body.end() || !data->is_object()) return bad_request("data: an object is required");
  if (data->size() > kMaxConfigEntries)
    return bad_request("data: at most " + std::to_string(kMaxConfigEntries) + " entries");
  for (const auto& [key, value] : data->items()) {
    if (key.empty() || key.size() > 128) return bad_request("data: keys of 1..128 bytes");
    std::string text = as_text(value);
    if (text.size() > 512) return bad_request("data." + key + ": at most 512 bytes");
    out.data[key] = std::move(text);
  }
  return out;
}

std::string ddi_sleep(std::int64_t seconds) {
  seconds = std::max<std::int64_t>(seconds, 0);
  char text[32];
  std::snprintf(text, sizeof text, "%02lld:%02lld:%02lld", static_cast<long long>(seconds / 3600),
                static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
  return text;
}

}  // namespace updraft::server::api
