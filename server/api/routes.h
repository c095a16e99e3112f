// The routes updraftd serves, by API: the native device API, the EnOS-compatible
// device endpoints, and the admin API. Shapes: docs/api/. Each add_* registers its
// routes on `router`; `context` (and `auth`) must outlive it.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "server/api/api_context.h"
#include "net/http/router.h"

namespace updraft::server::api {

// Admin API tokens ("Authorization: Bearer <token>", or ?token= for EventSource,
// which cannot set headers). Looked up once, then cached by hash.
class AdminAuth {
 public:
  explicit AdminAuth(Store& store) : store_(store) {}
  // The token, if it has at least `role`: kApiUnauthorized without a valid token,
  // kApiForbidden with one of a lower role.
  HostResult<ApiToken> require(const net::http::Request& request, Role role);

 private:
  Store& store_;
  std::mutex mutex_;
  std::unordered_map<std::string, ApiToken> cache_;
};

// The bearer token of a request ("" when absent).
std::string bearer_token(const net::http::Request& request);

// The device a request's bearer token names; kApiUnauthorized otherwise.
HostResult<DeviceId> authenticated_device(const net::http::Request& request, ApiContext& context);

void add_device_routes(net::http::Router& router, ApiContext& context);
void add_enos_routes(net::http::Router& router, ApiContext& context);
void add_admin_routes(net::http::Router& router, ApiContext& context, AdminAuth& auth);
// The web console's static files at "/" and /console/<name> (no token needed).
void add_console_routes(net::http::Router& router);
// hawkBit DDI v1 (docs/api/ddi.md) and its admin settings; add after the others:
// its "/{tenant}/..." patterns would shadow literal routes added later. `scheme`
// ("http" or "https") starts the absolute links DDI answers carry.
void add_ddi_routes(net::http::Router& router, ApiContext& context, AdminAuth& auth, std::string scheme);

// Valid ids for devices (1..64 of [A-Za-z0-9._:-]) and products/hardware (manifest rules).
bool valid_device_id(std::string_view id);

}  // namespace updraft::server::api
