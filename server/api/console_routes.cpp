// The web console (console/): index.html at "/" and every file at /console/<name>,
// from the bytes built into the binary. No token: the page holds no data, and its
// API calls carry the operator's token. ETag plus "no-cache" makes the browser
// revalidate, so a new updraftd never serves a stale page, and an unchanged one
// answers 304.
#include <string>

#include "console/console_assets.h"
#include "server/api/routes.h"

namespace updraft::server::api {
namespace {

using net::http::Request;
using net::http::Response;

const console::ConsoleAsset* find_asset(std::string_view name) {
  for (const console::ConsoleAsset& asset : console::console_assets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

// True when an If-None-Match list names `etag` (weak or strong) or is "*".
bool etag_matches(std::string_view list, std::string_view etag) {
  return list.find('*') != std::string_view::npos || list.find(etag) != std::string_view::npos;
}

Response serve(const Request& request, std::string_view name) {
  const console::ConsoleAsset* asset = find_asset(name);
  if (asset == nullptr) return Response::error(404, ErrorCode::kApiNotFound, "no such file");
  Response response;
  response.headers.emplace("etag", std::string(asset->etag));
  response.headers.emplace("cache-control", "no-cache");
  response.headers.emplace("x-content-type-options", "nosniff");
  if (etag_matches(request.header("if-none-match"), asset->etag)) {
    response.status = 304;
    return response;
  }
  response.headers.emplace("content-type", std::string(asset->content_type));
  // The page talks only to this server: no inline script, no other origin.
  response.headers.emplace("content-security-policy",
                           "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
  response.body.assign(reinterpret_cast<const char*>(asset->bytes.data()), asset->bytes.size());
  return response;
}

}  // namespace

void add_console_routes(net::http::Router& router) {
  router.add(net::http::Method::kGet, "/", [](Request& r) { return serve(r, "index.html"); });
  router.add(net::http::Method::kGet, "/console/{file}",
             [](Request& r) { return serve(r, r.param("file")); });
}

}  // namespace updraft::server::api
