// The routes updraftd serves, by API: the native device API, the EnOS-compatible
// device endpoints, and the admin API. Shapes: docs/api/. Each add_* registers its
// routes on `router`; `context` (and `auth`) must outlive it.
#pragma once

#include <string>

#include "net/http/message.h"
#include "net/http/router.h"
#include "server/api/api_context.h"

namespace updraft::server::api {

// The bearer token of a request ("" when absent).
std::string bearer_token(const net::http::Request& request);

// Admin API tokens ("Authorization: Bearer <token>", or ?token= for EventSource,
// which cannot set headers), checked by FleetService::authorize.
class AdminAuth {
 public:
  explicit AdminAuth(FleetService& fleet) : fleet_(fleet) {}
  // The token, if it has at least `role`: kApiUnauthorized without a valid token,
  // kApiForbidden with one of a lower role.
  HostResult<ApiToken> require(const net::http::Request& request, Role role) {
    return fleet_.authorize(bearer_token(request), role);
  }

 private:
  FleetService& fleet_;
};

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
void add_ddi_routes(net::http::Router& router, ApiContext& context, AdminAuth& auth,
                    std::string scheme);

}  // namespace updraft::server::api
