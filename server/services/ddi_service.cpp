#include "server/services/ddi_service.h"

#include <algorithm>

#include "server/model/names.h"
#include "server/services/audit_log.h"
#include "server/services/credentials.h"
#include "server/services/deployment_events.h"
#include "server/services/utf8.h"

namespace updraft::server {
namespace {

using nlohmann::json;

std::string settings_key(ProductId product) {
  return "ddi.product." + std::to_string(product.value);
}
std::string config_key(const DeviceId& device) { return "ddi.config." + device.value; }
std::string cancel_ack_key(DeploymentId id) { return "ddi.cancel_ack." + std::to_string(id.value); }

// A deployment's feedback as a native report phase, given where it stands.
// nullopt: the controller canceled the deployment itself.
std::optional<std::string> phase_for(const DdiFeedback& f, DeploymentState state, int* error) {
  *error = 0;
  if (f.execution == "closed") {
    if (f.finished != "failure") return "success";
    *error = error_number(ErrorCode::kAgentClientReportedFailure);
    return "failure";
  }
  if (f.execution == "canceled") return std::nullopt;
  if (f.execution == "rejected" || f.execution == "scheduled") return "deferred";
  if (f.execution == "download") return "downloading";
  if (f.execution == "downloaded") return "installing";
  // proceeding, resumed: the client is at work; keep the step it reached.
  if (state == DeploymentState::kInstalling) return "installing";
  if (state == DeploymentState::kRebooting) return "rebooting";
  return "downloading";
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += (text.empty() ? "" : "\n") + line;
  return text;
}

}  // namespace

std::map<std::string, std::string> apply_config_data(std::map<std::string, std::string> stored,
                                                     const DdiConfigData& update) {
  if (update.mode == "replace") return update.data;
  for (const auto& [key, value] : update.data) {
    if (update.mode == "remove") {
      stored.erase(key);
    } else {
      stored[key] = value;
    }
  }
  return stored;
}

json to_json(const DdiSettings& s) {
  return json{{"auto_register", s.auto_register},
              {"hardware", s.hardware},
              {"gateway_token_sha256", s.gateway_token_hash},
              {"artifact_suffix", s.artifact_suffix}};
}

HostResult<DdiSettings> ddi_settings_from_json(const json& stored) {
  if (!stored.is_object()) return Error(ErrorCode::kStoreCorrupt, "DDI settings: not an object");
  DdiSettings s;
  s.auto_register = stored.value("auto_register", false);
  s.hardware = stored.value("hardware", std::string());
  s.gateway_token_hash = stored.value("gateway_token_sha256", std::string());
  s.artifact_suffix = stored.value("artifact_suffix", std::string(".swu"));
  return s;
}

std::string ddi_deployment_message(const std::string& previous,
                                   const std::vector<std::string>& details) {
  const auto is_error = [](std::string_view line) { return line.starts_with("ERROR"); };
  std::vector<std::string> errors;
  std::size_t start = 0;
  while (start <= previous.size()) {
    std::size_t end = previous.find('\n', start);
    if (end == std::string::npos) end = previous.size();
    const std::string line = previous.substr(start, end - start);
    if (is_error(line)) errors.push_back(line);
    start = end + 1;
  }
  for (const std::string& line : details) {
    if (is_error(line) && std::find(errors.begin(), errors.end(), line) == errors.end())
      errors.push_back(line);
  }
  std::string text;
  const auto add = [&text](const std::string& line) { text += (text.empty() ? "" : "\n") + line; };
  for (const std::string& line : errors) add(line);
  for (const std::string& line : details) {
    if (!is_error(line)) add(line);
  }
  return std::string(utf8_prefix(text, kMaxMessageBytes));
}

HostResult<DdiSettings> DdiService::settings(ProductId product) {
  HostResult<std::string> text = store_.setting(settings_key(product));
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kStoreNotFound) return DdiSettings{};
    return text.error();
  }
  return ddi_settings_from_json(json::parse(*text, nullptr, false));
}

HostResult<void> DdiService::set_settings(const Product& product, const DdiSettings& settings,
                                          const std::string& actor, const json& view,
                                          UnixTime now) {
  UPDRAFT_TRY(store_.set_setting(settings_key(product.id), to_json(settings).dump()));
  (void)append_audit(store_, now, actor, "product.ddi",
                     "product/" + std::to_string(product.id.value), view);
  return {};
}

HostResult<DdiController> DdiService::controller(std::string_view authorization,
                                                 const std::string& tenant, const DeviceId& id,
                                                 bool may_register, UnixTime now) {
  // Schemes are case-insensitive (RFC 9110 §11.1).
  const std::optional<std::string_view> target_token =
      authorization_credentials(authorization, "TargetToken");
  const std::optional<std::string_view> gateway_token =
      authorization_credentials(authorization, "GatewayToken");
  const bool target = target_token.has_value();
  const bool gateway = gateway_token.has_value();
  if (!target && !gateway) {
    return Error(ErrorCode::kApiUnauthorized,
                 "Authorization: TargetToken <token> or GatewayToken <token> is required");
  }
  const std::string token(target ? *target_token : *gateway_token);
  const Error denied(ErrorCode::kApiUnauthorized, "unknown tenant or controller, or wrong token");
  DdiController c;
  HostResult<Product> product = store_.product_by_name(tenant);
  if (!product.ok() || token.empty()) return denied;
  c.product = *product;
  UPDRAFT_TRY_ASSIGN(c.settings, settings(c.product.id));
  if (gateway && (c.settings.gateway_token_hash.empty() ||
                  !secret_matches(token, c.settings.gateway_token_hash))) {
    return denied;
  }
  const Error unknown(
      ErrorCode::kApiNotFound,
      "unknown controller " + id.value +
          (c.settings.auto_register ? " (the id cannot be registered in this tenant)"
                                    : " (the tenant does not register controllers)"));
  HostResult<Device> device = store_.device(id);
  if (device.ok()) {
    // Another tenant's controller looks exactly like one this tenant does not
    // have: a gateway token learns nothing about other tenants' ids. (With
    // auto-registration on, an id that is free registers and one that is taken
    // does not; ids are one namespace across tenants.)
    if (device->product != c.product.id) return target ? denied : unknown;
    if (target && (device->secret_hash.empty() || !secret_matches(token, device->secret_hash)))
      return denied;
    // A decommissioned controller is refused whichever token it shows.
    if (device->decommissioned_at != 0) return denied;
    c.device = *device;
    return c;
  }
  if (target) return denied;
  if (!may_register || !c.settings.auto_register) return unknown;
  DeviceSpec spec;
  spec.id = id;
  spec.product = c.product.name;
  spec.hardware = c.settings.hardware;
  UPDRAFT_TRY_ASSIGN(NewDevice fresh, fleet_.register_device(spec, Registrar::kDdiGateway,
                                                             "gateway:" + c.product.name, now));
  c.device = std::move(fresh.device);
  return c;
}

// The device's deployments, oldest first.
HostResult<std::vector<Deployment>> DdiService::deployments_of(const DeviceId& device) {
  DeploymentFilter filter;
  filter.device = device;
  return store_.deployments(filter);
}

HostResult<DdiPoll> DdiService::poll(const DdiController& c, UnixTime now) {
  DdiPoll out;
  CheckInRequest in;
  in.status = c.device.status;
  in.reports_status = false;  // a DDI poll carries no version: keep what success reported
  in.channel = "ddi";
  UPDRAFT_TRY_ASSIGN(out.answer, updates_.check_in(c.device.id, in, now));
  UPDRAFT_TRY_ASSIGN(std::vector<Deployment> all, deployments_of(c.device.id));
  // The cancel is pending while the latest deployment is canceled and unacknowledged.
  if (!all.empty() && all.back().state == DeploymentState::kCanceled &&
      !store_.setting(cancel_ack_key(all.back().id)).ok()) {
    out.cancel = all.back().id;
  }
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (it->state != DeploymentState::kSucceeded) continue;
    out.installed = it->id;
    break;
  }
  out.config_wanted = !store_.setting(config_key(c.device.id)).ok();
  return out;
}

HostResult<Deployment> DdiService::deployment(const DdiController& c, DeploymentId id) {
  HostResult<Deployment> dep = store_.deployment(id);
  if (!dep.ok() || dep->device != c.device.id) {
    return Error(ErrorCode::kApiNotFound,
                 "no action " + std::to_string(id.value) + " for controller " + c.device.id.value);
  }
  return dep;
}

HostResult<DdiOffer> DdiService::offer(const DdiController& c, DeploymentId id, bool installed) {
  DdiOffer out;
  UPDRAFT_TRY_ASSIGN(out.deployment, deployment(c, id));
  const Deployment& dep = out.deployment;
  if (installed ? dep.state != DeploymentState::kSucceeded : dep.artifact_kind.empty()) {
    return Error(ErrorCode::kApiNotFound,
                 "action " + std::to_string(dep.id.value) +
                     (installed ? " was not installed" : " was not offered yet"));
  }
  UPDRAFT_TRY_ASSIGN(out.campaign, store_.campaign(dep.campaign));
  UPDRAFT_TRY_ASSIGN(out.release, store_.release(out.campaign.release));
  UPDRAFT_TRY_ASSIGN(out.hashes, sha1_md5(out.release));
  out.filename = artifact_name(c, out.release);
  return out;
}

HostResult<void> DdiService::feedback(const DdiController& c, DeploymentId id,
                                      const DdiFeedback& feedback, UnixTime now) {
  // One transaction from read to write: parallel feedback requests see each
  // other's state, and nothing moves a deployment once it is final.
  return store_.transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Deployment dep, deployment(c, id));
    if (is_final(dep.state)) {
      return Error(ErrorCode::kApiGone, "action " + std::to_string(dep.id.value) + " is already " +
                                            std::string(name_of(dep.state)));
    }
    DeviceReport report;
    const std::optional<std::string> phase = phase_for(feedback, dep.state, &report.error);
    report.progress = feedback.percent;
    report.message = ddi_deployment_message(dep.message, feedback.details);
    report.log = feedback.details;  // DDI's details are the controller's log lines
    Deployment result;
    if (!phase) {
      dep.state = DeploymentState::kCanceled;
      dep.message = report.message;
      dep.updated_at = dep.finished_at = now;
      UPDRAFT_TRY(store_.update_deployment(dep));
      // The controller canceled it itself: there is no cancel left to acknowledge.
      UPDRAFT_TRY(store_.set_setting(cancel_ack_key(dep.id), "controller"));
      publish_deployment(events_, dep);
      result = dep;
    } else {
      report.phase = *phase;
      UPDRAFT_TRY_ASSIGN(result, updates_.report(c.device.id, dep.id, report, now));
    }
    // Progress is not audited (a fleet would flood the log); how it ended is.
    if (!is_final(result.state) && feedback.execution != "rejected") return {};
    return append_audit(store_, now, "device:" + c.device.id.value, "deployment.ddi_feedback",
                        "deployment/" + std::to_string(result.id.value),
                        {{"execution", feedback.execution},
                         {"finished", feedback.finished},
                         {"state", name_of(result.state)},
                         {"error", result.error},
                         {"details", feedback.details}});
  });
}

HostResult<Deployment> DdiService::canceled(const DdiController& c, DeploymentId id) {
  UPDRAFT_TRY_ASSIGN(Deployment dep, deployment(c, id));
  if (dep.state != DeploymentState::kCanceled) {
    return Error(ErrorCode::kApiNotFound,
                 "action " + std::to_string(dep.id.value) + " is not canceled");
  }
  return dep;
}

HostResult<void> DdiService::cancel_feedback(const DdiController& c, DeploymentId id,
                                             const DdiFeedback& feedback, UnixTime now) {
  return store_.transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Deployment dep, canceled(c, id));
    if (store_.setting(cancel_ack_key(dep.id)).ok())
      return Error(ErrorCode::kApiGone,
                   "the cancel of action " + std::to_string(dep.id.value) + " was acknowledged");
    // rejected: the controller goes on with what it has; the cancel stays offered.
    if (feedback.execution == "closed" || feedback.execution == "canceled") {
      UPDRAFT_TRY(store_.set_setting(cancel_ack_key(dep.id), "acknowledged"));
    }
    if (!feedback.details.empty()) {
      dep.message = utf8_prefix(joined(feedback.details), kMaxMessageBytes);
      dep.updated_at = now;
      UPDRAFT_TRY(store_.update_deployment(dep));
    }
    if (feedback.execution != "closed" && feedback.execution != "canceled" &&
        feedback.execution != "rejected") {
      return {};
    }
    return append_audit(store_, now, "device:" + c.device.id.value,
                        "deployment.ddi_cancel_feedback",
                        "deployment/" + std::to_string(dep.id.value),
                        {{"execution", feedback.execution}, {"details", feedback.details}});
  });
}

HostResult<void> DdiService::config_data(const DdiController& c, const DdiConfigData& update) {
  return store_.transaction([&]() -> HostResult<void> {
    std::map<std::string, std::string> stored;
    if (HostResult<std::string> text = store_.setting(config_key(c.device.id)); text.ok()) {
      const json old = json::parse(*text, nullptr, false);
      if (old.is_object()) stored = old.get<std::map<std::string, std::string>>();
    }
    const json merged = apply_config_data(std::move(stored), update);
    return store_.set_setting(config_key(c.device.id), merged.dump());
  });
}

HostResult<Release> DdiService::assigned_release(const DdiController& c,
                                                 std::optional<std::int64_t> module) {
  const Error not_found(ErrorCode::kApiNotFound, "no such artifact for this controller");
  if (!module) return not_found;
  HostResult<Release> release = store_.release(ReleaseId{*module});
  if (!release.ok() || release->product != c.product.id) return not_found;
  // Only a release one of its campaigns gave the controller.
  UPDRAFT_TRY_ASSIGN(std::vector<Deployment> all, deployments_of(c.device.id));
  bool assigned = false;
  for (const Deployment& dep : all) {
    HostResult<Campaign> campaign = store_.campaign(dep.campaign);
    if (campaign.ok() && campaign->release == release->id) assigned = true;
  }
  if (!assigned) return not_found;
  return release;
}

std::string DdiService::artifact_name(const DdiController& c, const Release& release) const {
  return c.product.name + "-" + release.version + c.settings.artifact_suffix;
}

HostResult<LegacyDigests> DdiService::sha1_md5(const Release& release) {
  UPDRAFT_TRY_ASSIGN(const ArtifactLocation image, deltas_.image(release.sha256));
  return digests_.of(image.path, release.sha256);
}

}  // namespace updraft::server
