// EnOS-compatible device endpoints (docs/api/enos.md), for devices built against
// that protocol: check for a version, read a version's details, report the
// download result and the update result. Authenticated like the native device API
// (a device token); each maps onto the same check-in and deployment reports.
//   POST /checkversion            200 {"hasNewVersion":..}, 400, 404, 500
//   GET  /version/{id}            200 details, 404
//   POST /downloadresult/{id}     204, 400, 404, 406
//   POST /updateresult            204; flag 0 updating (process 0-100), 1 success, 2 failure
//   (errcode)
#include <charconv>

#include "server/api/api_errors.h"
#include "server/api/json_codec.h"
#include "server/api/routes.h"

namespace updraft::server::api {
namespace {

using net::http::Method;
using net::http::Request;
using net::http::Response;

Response enos_error(int status, ErrorCode code, std::string message) {
  return Response::error(status, code, message);
}

// Details of the deployment a device was offered: what /checkversion and /version/{id} return.
HostResult<json> version_details(ApiContext& ctx, const DeviceId& device, DeploymentId id) {
  HostResult<UpdateService::Offer> offer = ctx.updates.offer(device, id);
  if (!offer.ok()) return Error(ErrorCode::kApiNotFound, "no version " + std::to_string(id.value));
  const Deployment* dep = &offer->deployment;
  const Release& release = offer->release;
  return json{{"id", dep->id.value},
              {"version", release.version},
              {"kind", dep->artifact_kind.empty() ? "full" : dep->artifact_kind},
              {"fileSize", release.size},
              {"sha256", release.sha256},
              {"url", "/api/v1/device/deployments/" + std::to_string(dep->id.value) + "/artifact"},
              {"state", name_of(dep->state)}};
}

Response check_version(Request& request, ApiContext& ctx) {
  HostResult<DeviceId> device = authenticated_device(request, ctx);
  if (!device.ok()) return error_response(device.error());
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  const std::string device_id = body->value("deviceId", device->value);
  if (device_id != device->value)
    return enos_error(404, ErrorCode::kApiNotFound, "deviceId does not match the token");
  const std::string version = body->value("version", std::string());
  if (version.empty() || version.size() > 64)
    return enos_error(400, ErrorCode::kApiBadRequest, "version: required");
  HostResult<Device> known = ctx.fleet.device(*device);
  if (!known.ok()) return enos_error(404, ErrorCode::kApiNotFound, "unknown device");
  CheckInRequest in;
  in.status = known->status;
  in.status.version = version;
  in.status.image_sha256 = body->value("sha256", known->status.image_sha256);
  HostResult<CheckInAnswer> answer = ctx.updates.check_in(*device, in, ctx.now());
  if (!answer.ok()) return error_response(answer.error());
  if (!answer->update) {
    return Response::json(200, json{{"hasNewVersion", false},
                                    {"pollSeconds", answer->poll_seconds},
                                    {"reason", answer->reason}}
                                   .dump());
  }
  HostResult<json> details = version_details(ctx, *device, answer->deployment);
  if (!details.ok()) return error_response(details.error());
  json out = *details;
  out["hasNewVersion"] = true;
  out["fileSize"] = answer->artifact_size;
  out["sha256"] = answer->artifact_sha256;
  out["pollSeconds"] = answer->poll_seconds;
  return Response::json(200, out.dump());
}

Response get_version(Request& request, ApiContext& ctx) {
  HostResult<DeviceId> device = authenticated_device(request, ctx);
  if (!device.ok()) return error_response(device.error());
  const std::optional<std::int64_t> id = parse_id(request.param("id"));
  if (!id) return enos_error(404, ErrorCode::kApiNotFound, "no such version");
  HostResult<json> details = version_details(ctx, *device, DeploymentId{*id});
  if (!details.ok()) return error_response(details.error());
  return Response::json(200, details->dump());
}

// Maps an EnOS result onto a device report; 406 when the deployment is over.
Response apply_report(ApiContext& ctx, const DeviceId& device, std::int64_t id,
                      const DeviceReport& report) {
  HostResult<Deployment> r = ctx.updates.report(device, DeploymentId{id}, report, ctx.now());
  if (!r.ok()) {
    if (r.error().code == ErrorCode::kApiGone)
      return enos_error(406, ErrorCode::kApiNotAcceptable, r.error().message);
    return error_response(r.error());
  }
  return Response::empty(204);
}

Response download_result(Request& request, ApiContext& ctx) {
  HostResult<DeviceId> device = authenticated_device(request, ctx);
  if (!device.ok()) return error_response(device.error());
  const std::optional<std::int64_t> id = parse_id(request.param("id"));
  if (!id) return enos_error(404, ErrorCode::kApiNotFound, "no such version");
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  if (!body->contains("flag") || !(*body)["flag"].is_number_integer()) {
    return enos_error(400, ErrorCode::kApiBadRequest, "flag: 0 (downloaded) or 1 (failed)");
  }
  const int flag = (*body)["flag"].get<int>();
  if (flag != 0 && flag != 1)
    return enos_error(400, ErrorCode::kApiBadRequest, "flag: 0 (downloaded) or 1 (failed)");
  DeviceReport report;
  report.phase = flag == 0 ? "installing" : "failure";
  report.progress = flag == 0 ? 100 : 0;
  report.error =
      flag == 0
          ? 0
          : body->value("errcode", static_cast<int>(error_number(ErrorCode::kArtifactTruncated)));
  return apply_report(ctx, *device, *id, report);
}

Response update_result(Request& request, ApiContext& ctx) {
  HostResult<DeviceId> device = authenticated_device(request, ctx);
  if (!device.ok()) return error_response(device.error());
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  const json& b = *body;
  if (!b.contains("id") || !b["id"].is_number_integer())
    return enos_error(400, ErrorCode::kApiBadRequest, "id: required");
  if (!b.contains("flag") || !b["flag"].is_number_integer()) {
    return enos_error(400, ErrorCode::kApiBadRequest,
                      "flag: 0 (updating), 1 (success) or 2 (failure)");
  }
  const int flag = b["flag"].get<int>();
  const int process = b.value("process", 0);
  if (flag < 0 || flag > 2)
    return enos_error(400, ErrorCode::kApiBadRequest,
                      "flag: 0 (updating), 1 (success) or 2 (failure)");
  if (process < 0 || process > 100)
    return enos_error(400, ErrorCode::kApiBadRequest, "process: 0..100");
  DeviceReport report;
  report.phase = flag == 0 ? "installing" : flag == 1 ? "success" : "failure";
  report.progress = flag == 1 ? 100 : process;
  report.error =
      flag == 2 ? b.value("errcode", static_cast<int>(error_number(ErrorCode::kAgentTrialFailed)))
                : 0;
  if (flag == 2 && report.error == 0)
    report.error = static_cast<int>(error_number(ErrorCode::kAgentTrialFailed));
  return apply_report(ctx, *device, b["id"].get<std::int64_t>(), report);
}

}  // namespace

void add_enos_routes(net::http::Router& router, ApiContext& ctx) {
  router.add(Method::kPost, "/checkversion",
             guarded([&ctx](Request& r) { return check_version(r, ctx); }));
  router.add(Method::kGet, "/version/{id}",
             guarded([&ctx](Request& r) { return get_version(r, ctx); }));
  router.add(Method::kPost, "/downloadresult/{id}",
             guarded([&ctx](Request& r) { return download_result(r, ctx); }));
  router.add(Method::kPost, "/updateresult",
             guarded([&ctx](Request& r) { return update_result(r, ctx); }));
}

}  // namespace updraft::server::api
