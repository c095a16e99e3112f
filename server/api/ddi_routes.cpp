// hawkBit DDI v1 endpoints (docs/api/ddi.md), for update clients built against
// hawkBit (SWUpdate's suricatta, RAUC hawkBit updater, ...). Mapping: tenant =
// product name, controllerId = device id, actionId = deployment id, software
// module id = release id. Each call maps onto the same services as the native
// device API (check-in, reports), so DDI deployments are ordinary campaigns.
//   GET  /{tenant}/controller/v1/{controllerId}                       poll
//   GET  .../deploymentBase/{actionId}   POST .../feedback            the update
//   GET  .../cancelAction/{id}           POST .../feedback            an aborted one
//   PUT  .../configData                  GET .../installedBase/{id}
//   GET|HEAD .../softwaremodules/{id}/artifacts/{filename}[.MD5SUM]   download
// Auth: "TargetToken <device secret>" or "GatewayToken <product's DDI token>".

#include <cstdio>

#include "crypto/host/legacy_digests.h"
#include "server/api/api_errors.h"
#include "server/api/ddi_codec.h"
#include "server/api/json_codec.h"
#include "server/api/routes.h"
#include "server/services/credentials.h"
#include "server/services/deployment_events.h"

namespace updraft::server::api {
namespace {

using http::Method;
using http::Request;
using http::Response;

constexpr const char* kBase = "/{tenant}/controller/v1/{controllerId}";

std::string settings_key(ProductId product) {
  return "ddi.product." + std::to_string(product.value);
}
std::string config_key(const DeviceId& device) { return "ddi.config." + device.value; }
std::string cancel_ack_key(DeploymentId id) { return "ddi.cancel_ack." + std::to_string(id.value); }

HostResult<DdiSettings> load_settings(ApiContext& ctx, ProductId product) {
  HostResult<std::string> text = ctx.store.setting(settings_key(product));
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kStoreNotFound) return DdiSettings{};
    return text.error();
  }
  return ddi_settings_from_json(json::parse(*text, nullptr, false));
}

// Records an audit event; callers inside a transaction propagate its failure, so
// a state change and its audit line commit together.
HostResult<void> audit(ApiContext& ctx, const std::string& actor, const char* action,
                       const std::string& object, const json& details) {
  AuditEvent event;
  event.at = ctx.now();
  event.actor = actor;
  event.action = action;
  event.object = object;
  event.details = details.dump();
  UPDRAFT_TRY(ctx.store.append_audit(event));
  return {};
}

struct Controller {
  Product product;
  Device device;
  DdiSettings settings;
};

// Checks the request's DDI token and finds the controller. With the tenant's
// gateway token, an unknown controller is registered when `may_register` and the
// tenant allows it (404 otherwise). One 401 for unknown tenant, unknown device
// with a target token, or a wrong token: no probing for ids.
HostResult<Controller> controller(const Request& request, ApiContext& ctx, bool may_register) {
  const std::string_view header = request.header("authorization");
  constexpr std::string_view kTarget = "TargetToken ";
  constexpr std::string_view kGateway = "GatewayToken ";
  const bool target = header.starts_with(kTarget);
  const bool gateway = header.starts_with(kGateway);
  if (!target && !gateway) {
    return Error(ErrorCode::kApiUnauthorized,
                 "Authorization: TargetToken <token> or GatewayToken <token> is required");
  }
  const std::string token(header.substr(target ? kTarget.size() : kGateway.size()));
  const Error denied(ErrorCode::kApiUnauthorized, "unknown tenant or controller, or wrong token");
  Controller c;
  HostResult<Product> product = ctx.store.product_by_name(request.param("tenant"));
  if (!product.ok() || token.empty()) return denied;
  c.product = *product;
  UPDRAFT_TRY_ASSIGN(c.settings, load_settings(ctx, c.product.id));
  if (gateway && (c.settings.gateway_token_hash.empty() ||
                  !secret_matches(token, c.settings.gateway_token_hash))) {
    return denied;
  }
  const DeviceId id{request.param("controllerId")};
  HostResult<Device> device = ctx.store.device(id);
  if (device.ok()) {
    if (device->product != c.product.id) {
      return target ? denied
                    : Error(ErrorCode::kApiNotFound,
                            "controller " + id.value + " belongs to another tenant");
    }
    if (target && (device->secret_hash.empty() || !secret_matches(token, device->secret_hash)))
      return denied;
    c.device = *device;
    return c;
  }
  if (target) return denied;
  if (!may_register || !c.settings.auto_register) {
    return Error(ErrorCode::kApiNotFound,
                 "unknown controller " + id.value + " (the tenant does not register controllers)");
  }
  if (!valid_device_id(id.value)) return bad_request("controllerId: 1..64 of [A-Za-z0-9._:-]");
  Device fresh;
  fresh.id = id;
  fresh.product = c.product.id;
  fresh.hardware = c.settings.hardware;
  fresh.registered_at = ctx.now();
  HostResult<void> created = ctx.store.create_device(fresh);
  // A parallel first poll may have registered it a moment ago: that is the same device.
  if (!created.ok() && created.error().code != ErrorCode::kStoreConflict) return created.error();
  if (created.ok()) {
    (void)audit(ctx, "gateway:" + c.product.name, "device.ddi_register", "device/" + id.value,
                {{"product", c.product.name}, {"hardware", fresh.hardware}});
  }
  UPDRAFT_TRY_ASSIGN(c.device, ctx.store.device(id));
  return c;
}

// "<scheme>://<host>/...": DDI links are absolute, and clients follow them as given.
std::string base_url(const Request& request, const Controller& c, const std::string& scheme) {
  const std::string_view host = request.header("host");
  return scheme + "://" + std::string(host.empty() ? "127.0.0.1" : host) + "/" + c.product.name +
         "/controller/v1/" + c.device.id.value;
}

json link(const std::string& href) { return json{{"href", href}}; }

// The device's deployments, oldest first.
HostResult<std::vector<Deployment>> deployments_of(ApiContext& ctx, const DeviceId& device) {
  DeploymentFilter filter;
  filter.device = device;
  return ctx.store.deployments(filter);
}

// The deployment whose cancel the controller has not acknowledged: its latest,
// when an abort canceled it.
std::optional<Deployment> pending_cancel(ApiContext& ctx, const std::vector<Deployment>& all) {
  if (all.empty() || all.back().state != DeploymentState::kCanceled) return std::nullopt;
  if (ctx.store.setting(cancel_ack_key(all.back().id)).ok()) return std::nullopt;
  return all.back();
}

// SHA-1 and MD5 of a release's image, which DDI names beside SHA-256: computed
// once, then kept in the store's settings under the image's SHA-256.
HostResult<LegacyDigests> sha1_md5(ApiContext& ctx, const Release& release) {
  const std::string key = "ddi.hashes." + release.sha256;
  if (HostResult<std::string> cached = ctx.store.setting(key); cached.ok()) {
    const std::size_t space = cached->find(' ');
    if (space != std::string::npos)
      return LegacyDigests{cached->substr(0, space), cached->substr(space + 1)};
  }
  UPDRAFT_TRY_ASSIGN(LegacyDigests hashes,
                     legacy_digests_of_file(ctx.deltas.image_path(release.sha256)));
  (void)ctx.store.set_setting(key, hashes.sha1 + " " + hashes.md5);
  return hashes;
}

std::string artifact_name(const Controller& c, const Release& release) {
  return c.product.name + "-" + release.version + c.settings.artifact_suffix;
}

Response poll(Request& request, ApiContext& ctx, const std::string& scheme) {
  HostResult<Controller> c = controller(request, ctx, true);
  if (!c.ok()) return error_response(c.error());
  CheckInRequest in;
  in.status = c->device.status;
  HostResult<CheckInAnswer> answer = ctx.updates.check_in(c->device.id, in, ctx.now());
  if (!answer.ok()) return error_response(answer.error());
  HostResult<std::vector<Deployment>> all = deployments_of(ctx, c->device.id);
  if (!all.ok()) return error_response(all.error());
  const std::string base = base_url(request, *c, scheme);
  json links = json::object();
  if (const std::optional<Deployment> cancel = pending_cancel(ctx, *all)) {
    links["cancelAction"] = link(base + "/cancelAction/" + std::to_string(cancel->id.value));
  } else if (answer->update) {
    links["deploymentBase"] =
        link(base + "/deploymentBase/" + std::to_string(answer->deployment.value));
  }
  for (auto it = all->rbegin(); it != all->rend(); ++it) {
    if (it->state != DeploymentState::kSucceeded) continue;
    links["installedBase"] = link(base + "/installedBase/" + std::to_string(it->id.value));
    break;
  }
  if (!ctx.store.setting(config_key(c->device.id)).ok())
    links["configData"] = link(base + "/configData");
  const json out = {{"config", {{"polling", {{"sleep", ddi_sleep(answer->poll_seconds)}}}}},
                    {"_links", links}};
  return Response::json(200, out.dump());
}

// The deployment `{param}` names, if it is the controller's.
HostResult<Deployment> own_deployment(const Request& request, ApiContext& ctx, const Controller& c,
                                      const char* param) {
  const std::optional<std::int64_t> number = parse_id(request.param(param));
  if (!number) return bad_request(std::string(param) + ": a positive number");
  HostResult<Deployment> dep = ctx.store.deployment(DeploymentId{*number});
  if (!dep.ok() || dep->device != c.device.id) {
    return Error(ErrorCode::kApiNotFound,
                 "no action " + std::to_string(*number) + " for controller " + c.device.id.value);
  }
  return dep;
}

// The deploymentBase / installedBase body for one deployment.
HostResult<json> deployment_json(const Request& request, ApiContext& ctx, const Controller& c,
                                 const Deployment& dep, const std::string& scheme) {
  UPDRAFT_TRY_ASSIGN(Campaign campaign, ctx.store.campaign(dep.campaign));
  UPDRAFT_TRY_ASSIGN(Release release, ctx.store.release(campaign.release));
  UPDRAFT_TRY_ASSIGN(LegacyDigests hashes, sha1_md5(ctx, release));
  const std::string name = artifact_name(c, release);
  const std::string file = base_url(request, c, scheme) + "/softwaremodules/" +
                           std::to_string(release.id.value) + "/artifacts/" + name;
  const json artifact = {
      {"filename", name},
      {"hashes", {{"sha1", hashes.sha1}, {"md5", hashes.md5}, {"sha256", release.sha256}}},
      {"size", release.size},
      {"_links",
       {{"download", link(file)},
        {"download-http", link(file)},
        {"md5sum", link(file + ".MD5SUM")},
        {"md5sum-http", link(file + ".MD5SUM")}}}};
  const char* mode = campaign.force ? "forced" : "attempt";
  return json{{"id", std::to_string(dep.id.value)},
              {"deployment",
               {{"download", mode},
                {"update", mode},
                {"chunks", json::array({{{"part", "os"},
                                         {"version", release.version},
                                         {"name", c.product.name},
                                         {"artifacts", json::array({artifact})}}})}}}};
}

Response deployment_base(Request& request, ApiContext& ctx, bool installed,
                         const std::string& scheme) {
  HostResult<Controller> c = controller(request, ctx, false);
  if (!c.ok()) return error_response(c.error());
  HostResult<Deployment> dep = own_deployment(request, ctx, *c, "actionId");
  if (!dep.ok()) return error_response(dep.error());
  // installedBase names what the controller installed; deploymentBase what it was offered.
  if (installed ? dep->state != DeploymentState::kSucceeded : dep->artifact_kind.empty()) {
    return error_response(Error(ErrorCode::kApiNotFound,
                                "action " + std::to_string(dep->id.value) +
                                    (installed ? " was not installed" : " was not offered yet")));
  }
  HostResult<json> out = deployment_json(request, ctx, *c, *dep, scheme);
  if (!out.ok()) return error_response(out.error());
  return Response::json(200, out->dump());
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += (text.empty() ? "" : "\n") + line;
  return text;
}

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

Response deployment_feedback(Request& request, ApiContext& ctx) {
  HostResult<Controller> c = controller(request, ctx, false);
  if (!c.ok()) return error_response(c.error());
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  HostResult<DdiFeedback> feedback = ddi_feedback_from_json(*body);
  if (!feedback.ok()) return error_response(feedback.error());
  Deployment result;
  // One transaction from read to write: parallel feedback requests see each
  // other's state, and nothing moves a deployment once it is final.
  HostResult<void> done = ctx.store.transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Deployment dep, own_deployment(request, ctx, *c, "actionId"));
    if (is_final(dep.state)) {
      return Error(ErrorCode::kApiGone, "action " + std::to_string(dep.id.value) + " is already " +
                                            std::string(state_name(dep.state)));
    }
    DeviceReport report;
    const std::optional<std::string> phase = phase_for(*feedback, dep.state, &report.error);
    report.progress = feedback->percent;
    report.message = ddi_deployment_message(dep.message, feedback->details);
    if (!phase) {
      dep.state = DeploymentState::kCanceled;
      dep.message = report.message;
      dep.updated_at = dep.finished_at = ctx.now();
      UPDRAFT_TRY(ctx.store.update_deployment(dep));
      // The controller canceled it itself: there is no cancel left to acknowledge.
      UPDRAFT_TRY(ctx.store.set_setting(cancel_ack_key(dep.id), "controller"));
      publish_deployment(ctx.events, dep);
      result = dep;
    } else {
      report.phase = *phase;
      UPDRAFT_TRY_ASSIGN(result, ctx.updates.report(c->device.id, dep.id, report, ctx.now()));
    }
    // Progress is not audited (a fleet would flood the log); how it ended is.
    if (!is_final(result.state) && feedback->execution != "rejected") return {};
    return audit(ctx, "device:" + c->device.id.value, "deployment.ddi_feedback",
                 "deployment/" + std::to_string(result.id.value),
                 {{"execution", feedback->execution},
                  {"finished", feedback->finished},
                  {"state", state_name(result.state)},
                  {"error", result.error},
                  {"details", feedback->details}});
  });
  if (!done.ok()) return error_response(done.error());
  return Response::empty(200);
}

Response cancel_action(Request& request, ApiContext& ctx) {
  HostResult<Controller> c = controller(request, ctx, false);
  if (!c.ok()) return error_response(c.error());
  HostResult<Deployment> dep = own_deployment(request, ctx, *c, "id");
  if (!dep.ok()) return error_response(dep.error());
  if (dep->state != DeploymentState::kCanceled) {
    return error_response(Error(ErrorCode::kApiNotFound,
                                "action " + std::to_string(dep->id.value) + " is not canceled"));
  }
  const std::string id = std::to_string(dep->id.value);
  return Response::json(200, json{{"id", id}, {"cancelAction", {{"stopId", id}}}}.dump());
}

Response cancel_feedback(Request& request, ApiContext& ctx) {
  HostResult<Controller> c = controller(request, ctx, false);
  if (!c.ok()) return error_response(c.error());
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  HostResult<DdiFeedback> feedback = ddi_feedback_from_json(*body);
  if (!feedback.ok()) return error_response(feedback.error());
  HostResult<void> done = ctx.store.transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Deployment dep, own_deployment(request, ctx, *c, "id"));
    if (dep.state != DeploymentState::kCanceled) {
      return Error(ErrorCode::kApiNotFound,
                   "action " + std::to_string(dep.id.value) + " is not canceled");
    }
    if (ctx.store.setting(cancel_ack_key(dep.id)).ok())
      return Error(ErrorCode::kApiGone,
                   "the cancel of action " + std::to_string(dep.id.value) + " was acknowledged");
    // rejected: the controller goes on with what it has; the cancel stays offered.
    if (feedback->execution == "closed" || feedback->execution == "canceled") {
      UPDRAFT_TRY(ctx.store.set_setting(cancel_ack_key(dep.id), "acknowledged"));
    }
    if (!feedback->details.empty()) {
      dep.message = joined(feedback->details).substr(0, kMaxMessageBytes);
      dep.updated_at = ctx.now();
      UPDRAFT_TRY(ctx.store.update_deployment(dep));
    }
    if (feedback->execution != "closed" && feedback->execution != "canceled" &&
        feedback->execution != "rejected") {
      return {};
    }
    return audit(ctx, "device:" + c->device.id.value, "deployment.ddi_cancel_feedback",
                 "deployment/" + std::to_string(dep.id.value),
                 {{"execution", feedback->execution}, {"details", feedback->details}});
  });
  if (!done.ok()) return error_response(done.error());
  return Response::empty(200);
}

Response config_data(Request& request, ApiContext& ctx) {
  HostResult<Controller> c = controller(request, ctx, false);
  if (!c.ok()) return error_response(c.error());
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  HostResult<DdiConfigData> update = ddi_config_data_from_json(*body);
  if (!update.ok()) return error_response(update.error());
  HostResult<void> done = ctx.store.transaction([&]() -> HostResult<void> {
    std::map<std::string, std::string> stored;
    if (HostResult<std::string> text = ctx.store.setting(config_key(c->device.id)); text.ok()) {
      const json old = json::parse(*text, nullptr, false);
      if (old.is_object()) stored = old.get<std::map<std::string, std::string>>();
    }
    const json merged = apply_config_data(std::move(stored), *update);
    return ctx.store.set_setting(config_key(c->device.id), merged.dump());
  });
  if (!done.ok()) return error_response(done.error());
  return Response::empty(200);
}

Response artifact(Request& request, ApiContext& ctx) {
  HostResult<Controller> c = controller(request, ctx, false);
  if (!c.ok()) return error_response(c.error());
  const std::optional<std::int64_t> module = parse_id(request.param("moduleId"));
  const Error not_found(ErrorCode::kApiNotFound, "no such artifact for this controller");
  if (!module) return error_response(not_found);
  HostResult<Release> release = ctx.store.release(ReleaseId{*module});
  if (!release.ok() || release->product != c->product.id) return error_response(not_found);
  // Only a release one of its campaigns gave the controller.
  HostResult<std::vector<Deployment>> all = deployments_of(ctx, c->device.id);
  if (!all.ok()) return error_response(all.error());
  bool assigned = false;
  for (const Deployment& dep : *all) {
    HostResult<Campaign> campaign = ctx.store.campaign(dep.campaign);
    if (campaign.ok() && campaign->release == release->id) assigned = true;
  }
  if (!assigned) return error_response(not_found);
  const std::string name = artifact_name(*c, *release);
  const std::string& asked = request.param("filename");
  if (asked == name + ".MD5SUM") {
    HostResult<LegacyDigests> hashes = sha1_md5(ctx, *release);
    if (!hashes.ok()) return error_response(hashes.error());
    // The md5sum(1) line format, so `md5sum -c` checks the download.
    return Response::text(200, hashes->md5 + "  " + name + "\n");
  }
  if (asked != name) return error_response(not_found);
  Response response = Response::file(ctx.deltas.image_path(release->sha256));
  response.headers["etag"] = "\"" + release->sha256 + "\"";
  response.headers["content-disposition"] = "attachment; filename=" + name;
  // A HEAD (clients checking size before resuming) moves no bytes.
  if (request.method == Method::kGet) {
    ctx.metrics.downloads.fetch_add(1, std::memory_order_relaxed);
    ctx.metrics.download_bytes.fetch_add(release->size, std::memory_order_relaxed);
  }
  return response;
}

// Admin: GET/PUT /api/v1/products/{name}/ddi.
json settings_view(const DdiSettings& s) {
  return json{{"auto_register", s.auto_register},
              {"hardware", s.hardware},
              {"gateway_token_set", !s.gateway_token_hash.empty()},
              {"artifact_suffix", s.artifact_suffix}};
}

Response get_ddi_settings(Request& request, ApiContext& ctx, AdminAuth& auth) {
  if (HostResult<ApiToken> who = auth.require(request, Role::kViewer); !who.ok())
    return error_response(who.error());
  HostResult<Product> product = ctx.store.product_by_name(request.param("name"));
  if (!product.ok())
    return error_response(Error(ErrorCode::kApiNotFound, "no product " + request.param("name")));
  HostResult<DdiSettings> s = load_settings(ctx, product->id);
  if (!s.ok()) return error_response(s.error());
  return Response::json(200, settings_view(*s).dump());
}

Response put_ddi_settings(Request& request, ApiContext& ctx, AdminAuth& auth) {
  HostResult<ApiToken> who = auth.require(request, Role::kAdmin);
  if (!who.ok()) return error_response(who.error());
  HostResult<Product> product = ctx.store.product_by_name(request.param("name"));
  if (!product.ok())
    return error_response(Error(ErrorCode::kApiNotFound, "no product " + request.param("name")));
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  HostResult<DdiSettings> current = load_settings(ctx, product->id);
  if (!current.ok()) return error_response(current.error());
  DdiSettings s = *current;
  s.auto_register = body->value("auto_register", s.auto_register);
  s.hardware = body->value("hardware", s.hardware);
  s.artifact_suffix = body->value("artifact_suffix", s.artifact_suffix);
  if (s.hardware.size() > 32) return error_response(bad_request("hardware: 1..32 bytes"));
  if (s.auto_register && s.hardware.empty())
    return error_response(bad_request("hardware: required to register controllers"));
  if (s.artifact_suffix.size() > 16 || s.artifact_suffix.find('/') != std::string::npos)
    return error_response(bad_request("artifact_suffix: at most 16 bytes, no '/'"));
  // Absent: keep the token; null: remove it; "generate" or 16+ characters: set it.
  const auto given = body->find("gateway_token");
  std::string token;
  if (given != body->end()) {
    if (!given->is_null() && !given->is_string())
      return error_response(bad_request("gateway_token: a string, \"generate\" or null"));
    if (given->is_null()) s.gateway_token_hash.clear();
    if (given->is_string()) token = given->get<std::string>();
  }
  if (token == "generate") {
    HostResult<std::string> secret = random_secret();
    if (!secret.ok()) return error_response(secret.error());
    token = *secret;
  } else if (!token.empty() && token.size() < 16) {
    return error_response(bad_request("gateway_token: at least 16 characters, or \"generate\""));
  }
  if (!token.empty()) s.gateway_token_hash = secret_hash(token);
  if (HostResult<void> saved = ctx.store.set_setting(settings_key(product->id), to_json(s).dump());
      !saved.ok()) {
    return error_response(saved.error());
  }
  json out = settings_view(s);
  (void)audit(ctx, who->name, "product.ddi", "product/" + std::to_string(product->id.value), out);
  if (!token.empty()) out["gateway_token"] = token;  // shown once
  return Response::json(200, out.dump());
}

}  // namespace

void add_ddi_routes(http::Router& router, ApiContext& ctx, AdminAuth& auth, std::string scheme) {
  const std::string base = kBase;
  router.add(Method::kGet, "/api/v1/products/{name}/ddi",
             guarded([&ctx, &auth](Request& r) { return get_ddi_settings(r, ctx, auth); }));
  router.add(Method::kPut, "/api/v1/products/{name}/ddi",
             guarded([&ctx, &auth](Request& r) { return put_ddi_settings(r, ctx, auth); }));
  router.add(Method::kGet, base,
             guarded([&ctx, scheme](Request& r) { return poll(r, ctx, scheme); }));
  router.add(Method::kGet, base + "/deploymentBase/{actionId}", guarded([&ctx, scheme](Request& r) {
               return deployment_base(r, ctx, false, scheme);
             }));
  router.add(Method::kPost, base + "/deploymentBase/{actionId}/feedback",
             guarded([&ctx](Request& r) { return deployment_feedback(r, ctx); }));
  router.add(Method::kGet, base + "/installedBase/{actionId}",
             guarded([&ctx, scheme](Request& r) { return deployment_base(r, ctx, true, scheme); }));
  router.add(Method::kGet, base + "/cancelAction/{id}",
             guarded([&ctx](Request& r) { return cancel_action(r, ctx); }));
  router.add(Method::kPost, base + "/cancelAction/{id}/feedback",
             guarded([&ctx](Request& r) { return cancel_feedback(r, ctx); }));
  router.add(Method::kPut, base + "/configData",
             guarded([&ctx](Request& r) { return config_data(r, ctx); }));
  router.add(Method::kGet, base + "/softwaremodules/{moduleId}/artifacts/{filename}",
             guarded([&ctx](Request& r) { return artifact(r, ctx); }));
}

}  // namespace updraft::server::api
