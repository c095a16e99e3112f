// hawkBit DDI v1 endpoints (docs/api/ddi.md), for update clients built against
// hawkBit (SWUpdate's suricatta, RAUC hawkBit updater, ...). Mapping: tenant =
// product name, controllerId = device id, actionId = deployment id, software
// module id = release id. Each call maps onto the same services as the native
// device API (check-in, reports), so DDI deployments are ordinary campaigns.
// The rules are DdiService's (server/services/ddi_service.h); this file speaks HTTP.
//   GET  /{tenant}/controller/v1/{controllerId}                       poll
//   GET  .../deploymentBase/{actionId}   POST .../feedback            the update
//   GET  .../cancelAction/{id}           POST .../feedback            an aborted one
//   PUT  .../configData                  GET .../installedBase/{id}
//   GET|HEAD .../softwaremodules/{id}/artifacts/{filename}[.MD5SUM]   download
// Auth: "TargetToken <device secret>" or "GatewayToken <product's DDI token>".

#include "server/api/api_errors.h"
#include "server/api/ddi_codec.h"
#include "server/api/json_codec.h"
#include "server/api/public_url.h"
#include "server/api/routes.h"
#include "server/services/credentials.h"

namespace updraft::server::api {
namespace {

using net::http::Method;
using net::http::Request;
using net::http::Response;

constexpr const char* kBase = "/{tenant}/controller/v1/{controllerId}";

HostResult<DdiController> controller(const Request& request, ApiContext& ctx, bool may_register) {
  const std::string& id = request.param("controllerId");
  return ctx.ddi.controller(request.header("authorization"), request.param("tenant"), DeviceId{id},
                            may_register, ctx.now());
}

// The deployment id `{param}` names.
HostResult<DeploymentId> action_id(const Request& request, const char* param) {
  const std::optional<std::int64_t> number = parse_id(request.param(param));
  if (!number) return bad_request(std::string(param) + ": a positive number");
  return DeploymentId{*number};
}

// "<public base>/<tenant>/controller/v1/<id>": DDI links are absolute, and
// clients follow them as given (public_url.h says where the base comes from).
HostResult<std::string> base_url(const Request& request, const DdiController& c,
                                 const PublicUrl& url) {
  UPDRAFT_TRY_ASSIGN(std::string base, link_base(url, request));
  return base + "/" + c.product.name + "/controller/v1/" + c.device.id.value;
}

json link(const std::string& href) { return json{{"href", href}}; }

Response poll(Request& request, ApiContext& ctx, const PublicUrl& url) {
  HostResult<DdiController> c = controller(request, ctx, true);
  if (!c.ok()) return error_response(c.error());
  HostResult<std::string> found_base = base_url(request, *c, url);
  if (!found_base.ok()) return error_response(found_base.error());
  const std::string& base = *found_base;
  HostResult<DdiPoll> poll = ctx.ddi.poll(*c, ctx.now());
  if (!poll.ok()) return error_response(poll.error());
  json links = json::object();
  if (poll->cancel) {
    links["cancelAction"] = link(base + "/cancelAction/" + std::to_string(poll->cancel->value));
  } else if (poll->answer.update) {
    links["deploymentBase"] =
        link(base + "/deploymentBase/" + std::to_string(poll->answer.deployment.value));
  }
  if (poll->installed)
    links["installedBase"] =
        link(base + "/installedBase/" + std::to_string(poll->installed->value));
  if (poll->config_wanted) links["configData"] = link(base + "/configData");
  const json out = {{"config", {{"polling", {{"sleep", ddi_sleep(poll->answer.poll_seconds)}}}}},
                    {"_links", links}};
  return Response::json(200, out.dump());
}

// The deploymentBase / installedBase body for one deployment.
json deployment_json(const std::string& base, const DdiController& c, const DdiOffer& offer) {
  const Release& release = offer.release;
  const std::string file = base + "/softwaremodules/" + std::to_string(release.id.value) +
                           "/artifacts/" + offer.filename;
  const json artifact = {
      {"filename", offer.filename},
      {"hashes",
       {{"sha1", offer.hashes.sha1}, {"md5", offer.hashes.md5}, {"sha256", release.sha256}}},
      {"size", release.size},
      {"_links",
       {{"download", link(file)},
        {"download-http", link(file)},
        {"md5sum", link(file + ".MD5SUM")},
        {"md5sum-http", link(file + ".MD5SUM")}}}};
  const char* mode = offer.campaign.force ? "forced" : "attempt";
  return json{{"id", std::to_string(offer.deployment.id.value)},
              {"deployment",
               {{"download", mode},
                {"update", mode},
                {"chunks", json::array({{{"part", "os"},
                                         {"version", release.version},
                                         {"name", c.product.name},
                                         {"artifacts", json::array({artifact})}}})}}}};
}

Response deployment_base(Request& request, ApiContext& ctx, bool installed, const PublicUrl& url) {
  HostResult<DdiController> c = controller(request, ctx, false);
  if (!c.ok()) return error_response(c.error());
  HostResult<std::string> base = base_url(request, *c, url);
  if (!base.ok()) return error_response(base.error());
  HostResult<DeploymentId> id = action_id(request, "actionId");
  if (!id.ok()) return error_response(id.error());
  HostResult<DdiOffer> offer = ctx.ddi.offer(*c, *id, installed);
  if (!offer.ok()) return error_response(offer.error());
  return Response::json(200, deployment_json(*base, *c, *offer).dump());
}

// POST .../deploymentBase/{actionId}/feedback and .../cancelAction/{id}/feedback:
// the same body, told apart by the path's id and what the service does with it.
using FeedbackCall = HostResult<void> (DdiService::*)(const DdiController&, DeploymentId,
                                                      const DdiFeedback&, UnixTime);
Response post_feedback(Request& request, ApiContext& ctx, const char* id_name, FeedbackCall call) {
  HostResult<DdiController> c = controller(request, ctx, false);
  if (!c.ok()) return error_response(c.error());
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  HostResult<DdiFeedback> feedback = ddi_feedback_from_json(*body);
  if (!feedback.ok()) return error_response(feedback.error());
  HostResult<DeploymentId> id = action_id(request, id_name);
  if (!id.ok()) return error_response(id.error());
  HostResult<void> done = (ctx.ddi.*call)(*c, *id, *feedback, ctx.now());
  if (!done.ok()) return error_response(done.error());
  return Response::empty(200);
}

Response cancel_action(Request& request, ApiContext& ctx) {
  HostResult<DdiController> c = controller(request, ctx, false);
  if (!c.ok()) return error_response(c.error());
  HostResult<DeploymentId> id = action_id(request, "id");
  if (!id.ok()) return error_response(id.error());
  HostResult<Deployment> dep = ctx.ddi.canceled(*c, *id);
  if (!dep.ok()) return error_response(dep.error());
  const std::string text = std::to_string(dep->id.value);
  return Response::json(200, json{{"id", text}, {"cancelAction", {{"stopId", text}}}}.dump());
}

Response config_data(Request& request, ApiContext& ctx) {
  HostResult<DdiController> c = controller(request, ctx, false);
  if (!c.ok()) return error_response(c.error());
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  HostResult<DdiConfigData> update = ddi_config_data_from_json(*body);
  if (!update.ok()) return error_response(update.error());
  HostResult<void> done = ctx.ddi.config_data(*c, *update);
  if (!done.ok()) return error_response(done.error());
  return Response::empty(200);
}

Response artifact(Request& request, ApiContext& ctx) {
  HostResult<DdiController> c = controller(request, ctx, false);
  if (!c.ok()) return error_response(c.error());
  HostResult<Release> release = ctx.ddi.assigned_release(*c, parse_id(request.param("moduleId")));
  if (!release.ok()) return error_response(release.error());
  const std::string name = ctx.ddi.artifact_name(*c, *release);
  const std::string& asked = request.param("filename");
  if (asked == name + ".MD5SUM") {
    HostResult<LegacyDigests> hashes = ctx.ddi.sha1_md5(*release);
    if (!hashes.ok()) return error_response(hashes.error());
    // The md5sum(1) line format, so `md5sum -c` checks the download.
    return Response::text(200, hashes->md5 + "  " + name + "\n");
  }
  if (asked != name)
    return error_response(Error(ErrorCode::kApiNotFound, "no such artifact for this controller"));
  HostResult<ArtifactLocation> image = ctx.deltas.image(release->sha256);
  if (!image.ok()) return error_response(image.error());
  Response response = Response::file(image->path);
  response.headers["etag"] = "\"" + release->sha256 + "\"";
  response.headers["content-disposition"] = "attachment; filename=" + name;
  // A HEAD (clients checking size before resuming) is no download.
  if (request.method == Method::kGet) ctx.metrics.downloads.fetch_add(1, std::memory_order_relaxed);
  response.on_file_body = ctx.metrics.count_download_bytes();
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
  HostResult<Product> product = ctx.fleet.product(request.param("name"));
  if (!product.ok()) return error_response(product.error());
  HostResult<DdiSettings> s = ctx.ddi.settings(product->id);
  if (!s.ok()) return error_response(s.error());
  return Response::json(200, settings_view(*s).dump());
}

Response put_ddi_settings(Request& request, ApiContext& ctx, AdminAuth& auth) {
  HostResult<ApiToken> who = auth.require(request, Role::kAdmin);
  if (!who.ok()) return error_response(who.error());
  HostResult<Product> product = ctx.fleet.product(request.param("name"));
  if (!product.ok()) return error_response(product.error());
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  HostResult<DdiSettings> current = ctx.ddi.settings(product->id);
  if (!current.ok()) return error_response(current.error());
  DdiSettings s = *current;
  s.auto_register = body->value("auto_register", s.auto_register);
  s.hardware = body->value("hardware", s.hardware);
  s.artifact_suffix = body->value("artifact_suffix", s.artifact_suffix);
  if (!s.hardware.empty() && !valid_hardware_id(s.hardware))
    return error_response(bad_request("hardware: 1..32 printable ASCII characters without spaces"));
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
  json out = settings_view(s);
  if (HostResult<void> saved = ctx.ddi.set_settings(*product, s, who->name, out, ctx.now());
      !saved.ok()) {
    return error_response(saved.error());
  }
  if (!token.empty()) out["gateway_token"] = token;  // shown once
  return Response::json(200, out.dump());
}

}  // namespace

void add_ddi_routes(net::http::Router& router, ApiContext& ctx, AdminAuth& auth, PublicUrl url) {
  const std::string base = kBase;
  router.add(Method::kGet, "/api/v1/products/{name}/ddi",
             guarded([&ctx, &auth](Request& r) { return get_ddi_settings(r, ctx, auth); }));
  router.add(Method::kPut, "/api/v1/products/{name}/ddi",
             guarded([&ctx, &auth](Request& r) { return put_ddi_settings(r, ctx, auth); }));
  router.add(Method::kGet, base, guarded([&ctx, url](Request& r) { return poll(r, ctx, url); }));
  router.add(Method::kGet, base + "/deploymentBase/{actionId}",
             guarded([&ctx, url](Request& r) { return deployment_base(r, ctx, false, url); }));
  router.add(Method::kPost, base + "/deploymentBase/{actionId}/feedback",
             guarded([&ctx](Request& r) {
               return post_feedback(r, ctx, "actionId", &DdiService::feedback);
             }));
  router.add(Method::kGet, base + "/installedBase/{actionId}",
             guarded([&ctx, url](Request& r) { return deployment_base(r, ctx, true, url); }));
  router.add(Method::kGet, base + "/cancelAction/{id}",
             guarded([&ctx](Request& r) { return cancel_action(r, ctx); }));
  router.add(Method::kPost, base + "/cancelAction/{id}/feedback", guarded([&ctx](Request& r) {
               return post_feedback(r, ctx, "id", &DdiService::cancel_feedback);
             }));
  router.add(Method::kPut, base + "/configData",
             guarded([&ctx](Request& r) { return config_data(r, ctx); }));
  router.add(Method::kGet, base + "/softwaremodules/{moduleId}/artifacts/{filename}",
             guarded([&ctx](Request& r) { return artifact(r, ctx); }));
}

}  // namespace updraft::server::api
