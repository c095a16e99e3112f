// The routes updraftd serves, by API: the native device API, the EnOS-compatible
// device endpoints, and the admin API. Shapes: docs/api/. Each add_* registers its
// routes on `router`; `context` (and `auth`) must outlive it.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "net/http/message.h"
#include "net/http/router.h"
#include "server/api/api_context.h"
#include "server/api/public_url.h"

namespace updraft::server::api {

// The token of a request's "Authorization: Bearer <token>" header, the scheme in
// any case ("" when absent). Never from the query string: URLs end up in logs.
std::string bearer_token(const net::http::Request& request);

// Admin API tokens ("Authorization: Bearer <token>"), checked by
// FleetService::authorize at the time `now` gives (the wall clock by default).
// The event stream, which a browser opens without headers, takes a ticket instead
// (FleetService::redeem_event_ticket).
class AdminAuth {
 public:
  explicit AdminAuth(FleetService& fleet, std::function<UnixTime()> now = wall_clock)
      : fleet_(fleet), now_(std::move(now)) {}
  // The token, if it is active and has at least `role`: kApiUnauthorized without a
  // valid token (a token in the query string is refused, saying so),
  // kApiForbidden with one of a lower role.
  HostResult<ApiToken> require(const net::http::Request& request, Role role);
  // `handler` behind the role check; it gets the caller's token. The server runs
  // the same check on the header alone (admission), so a request without the
  // role is refused before its body is read.
  net::http::Endpoint endpoint(
      Role role, std::function<net::http::Response(net::http::Request&, const ApiToken&)> handler);

 private:
  static UnixTime wall_clock() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  FleetService& fleet_;
  std::function<UnixTime()> now_;
};

// The device a request's bearer token names; kApiUnauthorized otherwise.
HostResult<DeviceId> authenticated_device(const net::http::Request& request, ApiContext& context);

void add_device_routes(net::http::Router& router, ApiContext& context);
void add_enos_routes(net::http::Router& router, ApiContext& context);
void add_admin_routes(net::http::Router& router, ApiContext& context, AdminAuth& auth);
// The web console's static files at "/" and /console/<name> (no token needed).
void add_console_routes(net::http::Router& router);
// hawkBit DDI v1 (docs/api/ddi.md) and its admin settings; add after the others:
// its "/{tenant}/..." patterns would shadow literal routes added later. `url`
// says where the absolute links DDI answers carry point (public_url.h).
void add_ddi_routes(net::http::Router& router, ApiContext& context, AdminAuth& auth, PublicUrl url);
// The Mender device API (docs/api/mender.md) and its admin routes. `url` as for DDI:
// download links are absolute.
void add_mender_routes(net::http::Router& router, ApiContext& context, AdminAuth& auth,
                       PublicUrl url);

}  // namespace updraft::server::api
