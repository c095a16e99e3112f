// The native device API (docs/api/device.md): self-registration with a product's
// provisioning secret, tokens for a device's own secret, check-in, artifact
// download (Range, HEAD) and reports. A device sees only its own deployments.
#include <charconv>

#include "crypto/host/base64.h"
#include "server/api/api_errors.h"
#include "server/api/json_codec.h"
#include "server/api/routes.h"
#include "server/services/json_fields.h"

namespace updraft::server::api {
namespace {

using net::http::Method;
using net::http::Request;
using net::http::Response;

Response check_in(Request& request, ApiContext& ctx) {
  HostResult<DeviceId> device = authenticated_device(request, ctx);
  if (!device.ok()) return error_response(device.error());
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  HostResult<CheckInRequest> in = check_in_from_json(*body);
  if (!in.ok()) return error_response(in.error());
  // The root version the device trusts (0 or absent: it keeps no root store).
  HostResult<std::int64_t> root_version = integer_field(*body, "root_version", 0, 0, 0xFFFFFFFF);
  if (!root_version.ok()) return error_response(root_version.error());
  HostResult<CheckInAnswer> answer = ctx.updates.check_in(*device, *in, ctx.now());
  if (!answer.ok()) return error_response(answer.error());
  json out = {{"update", answer->update}, {"poll_seconds", answer->poll_seconds}};
  if (answer->update) {
    out["deployment"] = answer->deployment.value;
    out["version"] = answer->version;
    out["kind"] = answer->kind;
    out["artifact"] =
        "/api/v1/device/deployments/" + std::to_string(answer->deployment.value) + "/artifact";
    out["artifact_size"] = answer->artifact_size;
    out["artifact_sha256"] = answer->artifact_sha256;
    out["manifest"] = base64_encode(answer->manifest);
    out["force"] = answer->force;
  } else {
    out["reason"] = answer->reason;
  }
  // Root rotation: a device that names the root version it trusts gets the next
  // one, with or without an update; it verifies it against its own and asks again.
  if (const std::vector<std::byte>* next =
          ctx.keys.next_root(static_cast<std::uint32_t>(*root_version))) {
    out["root"] = base64_encode(*next);
  }
  return Response::json(200, out.dump());
}

Response artifact(Request& request, ApiContext& ctx) {
  HostResult<DeviceId> device = authenticated_device(request, ctx);
  if (!device.ok()) return error_response(device.error());
  HostResult<std::int64_t> number = id_param(request, "deployment");
  if (!number.ok()) return error_response(number.error());
  const DeploymentId id{*number};
  HostResult<DeltaCache::Artifact> file = ctx.updates.artifact(*device, id);
  if (!file.ok()) return error_response(file.error());
  Response response;
  response.file_path = file->path;
  response.headers["content-type"] = "application/octet-stream";
  // The artifact never changes under its hash: a strong validator for If-Match.
  response.headers["etag"] = "\"" + file->sha256 + "\"";
  response.on_file_body = ctx.metrics.count_download_bytes();
  return response;
}

Response report(Request& request, ApiContext& ctx) {
  HostResult<DeviceId> device = authenticated_device(request, ctx);
  if (!device.ok()) return error_response(device.error());
  HostResult<std::int64_t> number = id_param(request, "deployment");
  if (!number.ok()) return error_response(number.error());
  const DeploymentId id{*number};
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  HostResult<DeviceReport> r = report_from_json(*body);
  if (!r.ok()) return error_response(r.error());
  HostResult<Deployment> updated = ctx.updates.report(*device, id, *r, ctx.now());
  if (!updated.ok()) return error_response(updated.error());
  return Response::empty(204);
}

Response issue_token(Request& request, ApiContext& ctx) {
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  HostResult<DeviceToken> token =
      ctx.fleet.issue_device_token(DeviceId{body->value("device_id", std::string())},
                                   body->value("secret", std::string()), ctx.now());
  if (!token.ok()) return error_response(token.error());
  return Response::json(200,
                        json{{"token", token->token}, {"expires_at", token->expires_at}}.dump());
}

Response self_register(Request& request, ApiContext& ctx) {
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  DeviceSpec spec;
  spec.id.value = body->value("device_id", std::string());
  spec.product = body->value("product", std::string());
  spec.hardware = body->value("hardware", std::string());
  spec.tags = body->value("tags", std::vector<std::string>{});
  HostResult<NewDevice> created =
      ctx.fleet.register_device(spec, Registrar::kSelf, "device:" + spec.id.value, ctx.now(),
                                body->value("provisioning_secret", std::string()));
  if (!created.ok()) return error_response(created.error());
  return Response::json(
      201, json{{"device_id", created->device.id.value}, {"secret", created->secret}}.dump());
}

}  // namespace

void add_device_routes(net::http::Router& router, ApiContext& ctx) {
  // The device's token checked on the header alone (an HMAC, no database read),
  // so a request without one is refused before its body is read. Register and
  // token have no token to check: the server's small body limit bounds them.
  const net::http::Admit device_token = [&ctx](Request& r) {
    net::http::Admission admission;
    HostResult<DeviceId> device = authenticated_device(r, ctx);
    if (!device.ok()) admission.refusal = error_response(device.error());
    return admission;
  };
  router.add(Method::kPost, "/api/v1/device/register",
             guarded([&ctx](Request& r) { return self_register(r, ctx); }));
  router.add(Method::kPost, "/api/v1/device/token",
             guarded([&ctx](Request& r) { return issue_token(r, ctx); }));
  router.add(Method::kPost, "/api/v1/device/checkin",
             guarded([&ctx](Request& r) { return check_in(r, ctx); }), device_token);
  router.add(Method::kGet, "/api/v1/device/deployments/{id}/artifact",
             guarded([&ctx](Request& r) { return artifact(r, ctx); }));
  router.add(Method::kPost, "/api/v1/device/deployments/{id}/report",
             guarded([&ctx](Request& r) { return report(r, ctx); }), device_token);
  // Root metadata is public: a device is provisioned with it, anyone may check it.
  router.add(Method::kGet, "/api/v1/trust/root", [&ctx](Request&) {
    Response response;
    response.status = 200;
    response.headers["content-type"] = "application/octet-stream";
    const std::vector<std::byte>& root = ctx.keys.root_metadata();
    response.body.assign(reinterpret_cast<const char*>(root.data()), root.size());
    return response;
  });
}

}  // namespace updraft::server::api
