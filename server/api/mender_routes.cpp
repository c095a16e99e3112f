// The Mender device API (docs/api/mender.md), for stock mender-client daemons,
// and the admin routes that go with it. The rules are MenderService's
// (server/services/mender_service.h); this file speaks HTTP.
// Device side (errors as Mender's {"error": ..., "request_id": ...}):
//   POST      /api/devices/v1/authentication/auth_requests        -> JWT (text)
//   PATCH|PUT /api/devices/v1/inventory/device/attributes
//   POST      /api/devices/v2/deployments/device/deployments/next  -> 200 | 204
//   GET       /api/devices/v1/deployments/device/deployments/next  (older clients)
//   PUT       /api/devices/v1/deployments/device/deployments/{id}/status|log
//   GET|HEAD  /api/devices/v1/deployments/download/{id}?expires=&signature=
// Admin side (the admin API's error shape):
//   GET  /api/v1/mender/auth_sets   POST /api/v1/mender/auth_sets (preauthorize)
//   POST /api/v1/mender/auth_sets/{id}/accept|reject
//   GET  /api/v1/devices/{id}/inventory
//   POST /api/v1/releases/mender    (the body is the .mender file)
//   GET|PUT /api/v1/products/{name}/mender   (the artifact verification key)

#include <atomic>
#include <charconv>
#include <chrono>
#include <ctime>

#include "server/api/api_errors.h"
#include "server/api/json_codec.h"
#include "server/api/public_url.h"
#include "server/api/routes.h"
#include "server/model/names.h"
#include "server/services/mender_service.h"

namespace updraft::server::api {
namespace {

using net::http::Method;
using net::http::Request;
using net::http::Response;

constexpr const char* kDevices = "/api/devices/v1";
constexpr const char* kNextV2 = "/api/devices/v2/deployments/device/deployments/next";

// The client's X-MEN-RequestID when it sends one, else a number of our own.
std::string request_id(const Request& request) {
  static std::atomic<std::uint64_t> counter{0};
  const std::string_view given = request.header("x-men-requestid");
  if (!given.empty() && given.size() <= 64) return std::string(given);
  return "updraft-" + std::to_string(counter.fetch_add(1) + 1);
}

Response mender_error(const Request& request, const Error& error) {
  return Response::json(http_status_for(error.code),
                        json{{"error", error.message}, {"request_id", request_id(request)}}.dump(
                            -1, ' ', false, json::error_handler_t::replace));
}

// RFC 3339 UTC, as Mender's "expire".
std::string rfc3339(UnixTime t) {
  const std::time_t time = t;
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// Every device route: the JWT checked first, Mender's error shape on failure,
// and what a JSON library throws on a malformed body answered 400.
using DeviceHandler = std::function<HostResult<Response>(Request&, const Device&)>;
net::http::Handler device_route(ApiContext& ctx, MenderService& mender, DeviceHandler handler) {
  return [&ctx, &mender, handler = std::move(handler)](Request& r) {
    HostResult<Device> device = mender.device_of(r.header("authorization"), ctx.now());
    if (!device.ok()) return mender_error(r, device.error());
    try {
      HostResult<Response> out = handler(r, *device);
      if (!out.ok()) return mender_error(r, out.error());
      return std::move(out).value();
    } catch (const json::exception& e) {
      return mender_error(r, bad_request(std::string("body: ") + e.what()));
    }
  };
}

HostResult<json> json_body(const Request& request) {
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return bad_request("body: not JSON");
  return body;
}

HostResult<DeploymentId> deployment_param(const Request& request) {
  const std::optional<DeploymentId> id = parse_mender_deployment_id(request.param("id"));
  if (!id) return Error(ErrorCode::kApiNotFound, "no such deployment");
  return *id;
}

Response auth_request(Request& request, ApiContext& ctx, MenderService& mender) {
  HostResult<std::string> token =
      mender.authenticate(request.body, request.header("x-men-signature"), ctx.now());
  if (!token.ok()) return mender_error(request, token.error());
  return Response::text(200, *token, "application/jwt");
}

HostResult<Response> inventory(Request& request, const Device& device, ApiContext& ctx,
                               MenderService& mender, bool replace) {
  UPDRAFT_TRY_ASSIGN(const json body, json_body(request));
  UPDRAFT_TRY(mender.put_inventory(device, body, replace, ctx.now()));
  return Response::empty(200);
}

HostResult<Response> next(Request& request, const Device& device, ApiContext& ctx,
                          MenderService& mender, const PublicUrl& url, bool v2) {
  std::string artifact_name, device_type;
  if (v2) {
    UPDRAFT_TRY_ASSIGN(const json body, json_body(request));
    const json provides = body.value("device_provides", json::object());
    if (!provides.is_object()) return bad_request("device_provides: must be an object");
    artifact_name = provides.value("artifact_name", "");
    device_type = provides.value("device_type", "");
  } else {
    artifact_name = query(request, "artifact_name");
    device_type = query(request, "device_type");
  }
  UPDRAFT_TRY_ASSIGN(const std::optional<MenderOffer> offer,
                     mender.next(device, artifact_name, device_type, ctx.now()));
  if (!offer) return Response::empty(204);
  UPDRAFT_TRY_ASSIGN(const std::string base, link_base(url, request));
  const json out = {
      {"id", mender_deployment_id(offer->deployment.id)},
      {"artifact",
       {{"id", std::to_string(offer->release.id.value)},
        {"artifact_name", offer->release.mender_artifact_name},
        {"source", {{"uri", base + offer->download_path}, {"expire", rfc3339(offer->expires_at)}}},
        {"device_types_compatible", offer->release.hardware}}}};
  return ok_json(out);
}

HostResult<Response> status(Request& request, const Device& device, ApiContext& ctx,
                            MenderService& mender) {
  UPDRAFT_TRY_ASSIGN(const DeploymentId id, deployment_param(request));
  UPDRAFT_TRY_ASSIGN(const json body, json_body(request));
  if (!body.is_object() || !body.contains("status") || !body["status"].is_string())
    return bad_request("status: required");
  UPDRAFT_TRY(mender.status(device, id, body["status"].get<std::string>(), ctx.now()));
  return Response::empty(204);
}

HostResult<Response> log(Request& request, const Device& device, ApiContext& ctx,
                         MenderService& mender) {
  UPDRAFT_TRY_ASSIGN(const DeploymentId id, deployment_param(request));
  UPDRAFT_TRY_ASSIGN(const json body, json_body(request));
  if (!body.is_object() || !body.contains("messages") || !body["messages"].is_array())
    return bad_request("messages: required, a list");
  std::vector<MenderLogLine> lines;
  for (const json& m : body["messages"]) {
    if (!m.is_object()) return bad_request("messages: each an object");
    lines.push_back({m.value("timestamp", ""), m.value("level", ""), m.value("message", "")});
  }
  UPDRAFT_TRY(mender.log(device, id, lines, ctx.now()));
  return Response::empty(204);
}

Response download(Request& request, ApiContext& ctx, MenderService& mender) {
  HostResult<DeploymentId> id = deployment_param(request);
  if (!id.ok()) return mender_error(request, id.error());
  const std::string expires_text = query(request, "expires");
  UnixTime expires = 0;
  const auto [end, ec] =
      std::from_chars(expires_text.data(), expires_text.data() + expires_text.size(), expires);
  if (expires_text.empty() || ec != std::errc() || end != expires_text.data() + expires_text.size())
    return mender_error(request, Error(ErrorCode::kApiForbidden, "the download link is not valid"));
  HostResult<DeltaCache::Artifact> file =
      mender.download(*id, expires, query(request, "signature"), ctx.now());
  if (!file.ok()) return mender_error(request, file.error());
  Response response = Response::file(file->path);
  response.headers["etag"] = "\"" + file->sha256 + "\"";
  // UpdateService::artifact counted the download.
  response.on_file_body = ctx.metrics.count_download_bytes();
  return response;
}

// --- Admin.

json auth_set_json(const MenderAuthSet& s) {
  json id_data = json::parse(s.id_data, nullptr, false);
  return json{{"id", s.id},
              {"id_data", id_data.is_discarded() ? json(s.id_data) : id_data},
              {"pubkey", s.pubkey},
              {"status", name_of(s.status)},
              {"device", s.device.value.empty() ? json(nullptr) : json(s.device.value)},
              {"created_at", s.created_at},
              {"updated_at", s.updated_at}};
}

Response list_auth_sets(Request& request, MenderService& mender) {
  std::optional<AuthSetStatus> status;
  const std::string wanted = query(request, "status");
  if (!wanted.empty()) {
    status = from_name<AuthSetStatus>(wanted);
    if (!status)
      return error_response(bad_request("status: pending, accepted, rejected or preauthorized"));
  }
  HostResult<Page<MenderAuthSet>> page = mender.auth_sets(
      status, query_size(request, "limit", 100, 1000), query_size(request, "offset", 0, 1u << 31));
  if (!page.ok()) return error_response(page.error());
  json list = json::array();
  for (const MenderAuthSet& s : page->items) list.push_back(auth_set_json(s));
  return ok_json({{"auth_sets", list}, {"total", page->total}});
}

Response decide(Request& request, ApiContext& ctx, MenderService& mender, const ApiToken& who,
                bool accept) {
  HostResult<std::int64_t> id = id_param(request, "id");
  if (!id.ok()) return error_response(id.error());
  json body = json::object();
  if (!request.body.empty()) {
    HostResult<json> parsed = parse_object(request);
    if (!parsed.ok()) return error_response(parsed.error());
    body = *parsed;
  }
  HostResult<MenderAuthSet> set =
      accept ? mender.accept(*id, body.value("product", ""), body.value("hardware", ""), who.name,
                             ctx.now())
             : mender.reject(*id, who.name, ctx.now());
  if (!set.ok()) return error_response(set.error());
  return ok_json(auth_set_json(*set));
}

Response preauthorize(Request& request, ApiContext& ctx, MenderService& mender,
                      const ApiToken& who) {
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  const json& id_data = (*body)["id_data"];
  const std::string id_text = id_data.is_string() ? id_data.get<std::string>() : id_data.dump();
  HostResult<MenderAuthSet> set =
      mender.preauthorize(id_text, body->value("pubkey", ""), body->value("product", ""),
                          body->value("hardware", ""), who.name, ctx.now());
  if (!set.ok()) return error_response(set.error());
  return ok_json(auth_set_json(*set), 201);
}

Response device_inventory(Request& request, ApiContext& ctx, MenderService& mender) {
  const DeviceId device{request.param("id")};
  if (HostResult<Device> found = ctx.fleet.device(device); !found.ok())
    return error_response(found.error());
  HostResult<std::vector<InventoryAttribute>> attributes = mender.inventory(device);
  if (!attributes.ok()) return error_response(attributes.error());
  json list = json::array();
  for (const InventoryAttribute& a : *attributes) {
    json value = json::parse(a.value, nullptr, false);
    list.push_back({{"name", a.name},
                    {"value", value.is_discarded() ? json(a.value) : value},
                    {"updated_at", a.updated_at}});
  }
  return ok_json({{"device", device.value}, {"attributes", list}});
}

HostResult<MenderUpload> mender_upload_of(const Request& request) {
  MenderUpload up;
  up.product = query(request, "product");
  up.version = query(request, "version");
  up.notes = query(request, "notes");
  const std::string counter = query(request, "security_counter");
  if (!counter.empty()) {
    const auto [end, ec] =
        std::from_chars(counter.data(), counter.data() + counter.size(), up.security_counter);
    if (ec != std::errc() || end != counter.data() + counter.size())
      return bad_request("security_counter: a number");
  }
  return up;
}

Response upload_mender(Request& request, ApiContext& ctx, const ApiToken& who) {
  HostResult<MenderUpload> up = mender_upload_of(request);
  if (!up.ok()) return error_response(up.error());
  if (!request.body_file) return error_response(bad_request("body: the .mender file"));
  HostResult<Release> r = ctx.releases.upload_mender(
      *up, ImageFile{request.body_file->path, request.body_file->size, request.body_file->sha256},
      who.name, ctx.now());
  if (!r.ok()) return error_response(r.error());
  HostResult<Product> product = ctx.fleet.product(r->product);
  return ok_json(to_json(*r, product.ok() ? product->name : ""), 201);
}

Response get_key(Request& request, ApiContext& ctx) {
  HostResult<Product> product = ctx.fleet.product(request.param("name"));
  if (!product.ok()) return error_response(product.error());
  HostResult<std::string> key = ctx.releases.mender_key(product->id);
  if (!key.ok()) return error_response(key.error());
  return ok_json({{"verify_key", key->empty() ? json(nullptr) : json(*key)}});
}

Response put_key(Request& request, ApiContext& ctx, const ApiToken& who) {
  HostResult<Product> product = ctx.fleet.product(request.param("name"));
  if (!product.ok()) return error_response(product.error());
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  const json& key = (*body)["verify_key"];
  if (!key.is_null() && !key.is_string())
    return error_response(bad_request("verify_key: a PEM public key, or null to remove it"));
  const std::string pem = key.is_string() ? key.get<std::string>() : "";
  if (auto r = ctx.releases.set_mender_key(*product, pem, who.name, ctx.now()); !r.ok())
    return error_response(r.error());
  return ok_json({{"verify_key", pem.empty() ? json(nullptr) : json(pem)}});
}

}  // namespace

void add_mender_routes(net::http::Router& router, ApiContext& ctx, AdminAuth& auth, PublicUrl url) {
  MenderService& m = ctx.mender;
  const std::string devices = kDevices;
  router.add(Method::kPost, devices + "/authentication/auth_requests",
             [&ctx, &m](Request& r) { return auth_request(r, ctx, m); });
  for (const auto& [method, replace] : {std::pair{Method::kPatch, false}, {Method::kPut, true}}) {
    router.add(method, devices + "/inventory/device/attributes",
               device_route(ctx, m, [&ctx, &m, replace = replace](Request& r, const Device& d) {
                 return inventory(r, d, ctx, m, replace);
               }));
  }
  router.add(Method::kPost, kNextV2,
             device_route(ctx, m, [&ctx, &m, url](Request& r, const Device& d) {
               return next(r, d, ctx, m, url, true);
             }));
  router.add(Method::kGet, devices + "/deployments/device/deployments/next",
             device_route(ctx, m, [&ctx, &m, url](Request& r, const Device& d) {
               return next(r, d, ctx, m, url, false);
             }));
  router.add(Method::kPut, devices + "/deployments/device/deployments/{id}/status",
             device_route(
                 ctx, m, [&ctx, &m](Request& r, const Device& d) { return status(r, d, ctx, m); }));
  router.add(
      Method::kPut, devices + "/deployments/device/deployments/{id}/log",
      device_route(ctx, m, [&ctx, &m](Request& r, const Device& d) { return log(r, d, ctx, m); }));
  router.add(Method::kGet, devices + "/deployments/download/{id}",
             [&ctx, &m](Request& r) { return download(r, ctx, m); });

  const Role viewer = Role::kViewer, op = Role::kOperator, admin = Role::kAdmin;
  router.add(
      Method::kGet, "/api/v1/mender/auth_sets",
      auth.endpoint(viewer, [&m](Request& r, const ApiToken&) { return list_auth_sets(r, m); }));
  router.add(Method::kPost, "/api/v1/mender/auth_sets",
             auth.endpoint(op, [&ctx, &m](Request& r, const ApiToken& w) {
               return preauthorize(r, ctx, m, w);
             }));
  router.add(Method::kPost, "/api/v1/mender/auth_sets/{id}/accept",
             auth.endpoint(op, [&ctx, &m](Request& r, const ApiToken& w) {
               return decide(r, ctx, m, w, true);
             }));
  router.add(Method::kPost, "/api/v1/mender/auth_sets/{id}/reject",
             auth.endpoint(op, [&ctx, &m](Request& r, const ApiToken& w) {
               return decide(r, ctx, m, w, false);
             }));
  router.add(Method::kGet, "/api/v1/devices/{id}/inventory",
             auth.endpoint(viewer, [&ctx, &m](Request& r, const ApiToken&) {
               return device_inventory(r, ctx, m);
             }));
  net::http::Endpoint upload =
      auth.endpoint(op, [&ctx](Request& r, const ApiToken& w) { return upload_mender(r, ctx, w); });
  upload.admit = [&ctx, &auth](Request& r) {
    net::http::Admission admission;
    HostResult<ApiToken> who = auth.require(r, Role::kOperator);
    if (!who.ok()) {
      admission.refusal = error_response(who.error());
      return admission;
    }
    admission.max_body_bytes = static_cast<std::size_t>(ctx.releases.max_image_bytes());
    admission.body_to_file = true;
    return admission;
  };
  router.add(Method::kPost, "/api/v1/releases/mender", std::move(upload));
  router.add(
      Method::kGet, "/api/v1/products/{name}/mender",
      auth.endpoint(viewer, [&ctx](Request& r, const ApiToken&) { return get_key(r, ctx); }));
  router.add(
      Method::kPut, "/api/v1/products/{name}/mender",
      auth.endpoint(admin, [&ctx](Request& r, const ApiToken& w) { return put_key(r, ctx, w); }));
}

}  // namespace updraft::server::api
