// EnOS Edge sub-device endpoints, field for field as the EnOS document has them
// (docs/api/enos.md); the rules are EnosService's. Answers use EnOS's shapes:
// errors are exactly {"httpstatus":N,"message":"..."} with N one of 400, 404,
// 406, 500, and a success without a body is 204.
//   POST /checkversion             {"assetId","version","serialNum"}
//   GET  /version/{id}             the firmware bytes (Range, HEAD)
//   POST /downloadresult/{id}      {"assetId","code","message"}
//   POST /updateresult             {"assetId","version","desc","flag","process","errcode"}
#include "server/api/api_errors.h"
#include "server/api/enos_codec.h"
#include "server/api/json_codec.h"
#include "server/api/routes.h"

namespace updraft::server::api {
namespace {

using net::http::Method;
using net::http::Request;
using net::http::Response;

// The four statuses the document allows for errors.
int enos_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kApiBadRequest:
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kApiNotFound:
    case ErrorCode::kApiUnauthorized:
    case ErrorCode::kApiForbidden:
    case ErrorCode::kStoreNotFound:
      return 404;
    case ErrorCode::kApiNotAcceptable:
    case ErrorCode::kApiGone:
    case ErrorCode::kApiConflict:
      return 406;
    default:
      return 500;
  }
}

Response enos_error(const Error& error) {
  const int status = enos_status(error.code);
  // Client text may not be UTF-8: replace rather than throw.
  return Response::json(status, json{{"httpstatus", status}, {"message", error.message}}.dump(
                                    -1, ' ', false, json::error_handler_t::replace));
}

// `handler` with whatever a malformed body throws answered in EnOS's shape.
net::http::Handler enos_guarded(net::http::Handler handler) {
  return [handler = std::move(handler)](Request& request) -> Response {
    try {
      return handler(request);
    } catch (const nlohmann::json::exception& e) {
      return enos_error(bad_request(std::string("malformed body: ") + e.what()));
    }
  };
}

HostResult<json> enos_body(const Request& request) {
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return bad_request("body: not valid JSON");
  if (!body.is_object()) return bad_request("body: must be a JSON object");
  return body;
}

// Who a request says it is: the body's assetId and serialNum, and a bearer token
// if one came. A token that does not verify is refused like a wrong serial.
HostResult<EnosIdentity> identity(const Request& request, const json& body, ApiContext& ctx) {
  UPDRAFT_TRY_ASSIGN(EnosIdentity who, enos_identity_from_json(body));
  if (!bearer_token(request).empty()) {
    HostResult<DeviceId> device = authenticated_device(request, ctx);
    if (!device.ok()) return Error(ErrorCode::kApiNotFound, "unknown assetId or serialNum");
    who.token_device = *device;
  }
  return who;
}

Response check_version(Request& request, ApiContext& ctx) {
  HostResult<json> body = enos_body(request);
  if (!body.ok()) return enos_error(body.error());
  HostResult<EnosIdentity> who = identity(request, *body, ctx);
  if (!who.ok()) return enos_error(who.error());
  HostResult<std::string> version = enos_version_from_json(*body);
  if (!version.ok()) return enos_error(version.error());
  HostResult<EnosCheck> check = ctx.enos.check_version(*who, *version, ctx.now());
  if (!check.ok()) return enos_error(check.error());
  // In the document's order: the fields are what matters, but a person comparing
  // the two reads them more easily so.
  nlohmann::ordered_json out = {
      {"assetId", check->asset_id},        {"version", check->version},
      {"code", check->update ? 1 : 0},     {"desc", check->update ? "has update" : "no update"},
      {"signMethod", check->sign_method},  {"sign", check->sign},
      {"downloadurl", check->download_url}};
  return Response::json(200,
                        out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

Response get_version(Request& request, ApiContext& ctx) {
  // A device identity is optional here: ?assetId=..&serialNum=.. or a bearer token.
  std::optional<EnosIdentity> who;
  if (request.query.contains("assetId") || !bearer_token(request).empty()) {
    json fields = json::object();
    for (const char* name : {"assetId", "serialNum"}) {
      if (const auto it = request.query.find(name); it != request.query.end())
        fields[name] = it->second;
    }
    HostResult<EnosIdentity> parsed = identity(request, fields, ctx);
    if (!parsed.ok()) return enos_error(parsed.error());
    who = std::move(*parsed);
  }
  HostResult<EnosFile> file = ctx.enos.version_file(request.param("id"), who ? &*who : nullptr,
                                                    request.method == Method::kHead, ctx.now());
  if (!file.ok()) return enos_error(file.error());
  Response response;
  response.file_path = file->path;
  response.headers["content-type"] = "application/octet-stream";
  response.headers["etag"] = "\"" + file->sha256 + "\"";
  response.on_file_body = ctx.metrics.count_download_bytes();
  return response;
}

Response download_result(Request& request, ApiContext& ctx) {
  HostResult<json> body = enos_body(request);
  if (!body.ok()) return enos_error(body.error());
  HostResult<EnosIdentity> who = identity(request, *body, ctx);
  if (!who.ok()) return enos_error(who.error());
  HostResult<EnosDownloadResult> result = enos_download_result_from_json(*body);
  if (!result.ok()) return enos_error(result.error());
  HostResult<void> done =
      ctx.enos.download_result(request.param("id"), *who, result->code, result->message, ctx.now());
  if (!done.ok()) return enos_error(done.error());
  return Response::empty(204);
}

Response update_result(Request& request, ApiContext& ctx) {
  HostResult<json> body = enos_body(request);
  if (!body.ok()) return enos_error(body.error());
  HostResult<EnosIdentity> who = identity(request, *body, ctx);
  if (!who.ok()) return enos_error(who.error());
  HostResult<EnosUpdateResult> r = enos_update_result_from_json(*body);
  if (!r.ok()) return enos_error(r.error());
  HostResult<void> done = ctx.enos.update_result(*who, *r, ctx.now());
  if (!done.ok()) return enos_error(done.error());
  return Response::empty(204);
}

}  // namespace

void add_enos_routes(net::http::Router& router, ApiContext& ctx) {
  // The server's small body limit holds; a body over it is refused in EnOS's shape.
  const net::http::Admit enos_limits = [](Request&) {
    net::http::Admission admission;
    admission.too_large = enos_error(bad_request("body: too large"));
    return admission;
  };
  router.add(Method::kPost, "/checkversion",
             enos_guarded([&ctx](Request& r) { return check_version(r, ctx); }), enos_limits);
  router.add(Method::kGet, "/version/{id}",
             enos_guarded([&ctx](Request& r) { return get_version(r, ctx); }));
  router.add(Method::kPost, "/downloadresult/{id}",
             enos_guarded([&ctx](Request& r) { return download_result(r, ctx); }), enos_limits);
  router.add(Method::kPost, "/updateresult",
             enos_guarded([&ctx](Request& r) { return update_result(r, ctx); }), enos_limits);
}

}  // namespace updraft::server::api
