#include "server/api/api_errors.h"
#include "server/api/routes.h"

namespace updraft::server::api {

std::string bearer_token(const net::http::Request& request) {
  const std::optional<std::string_view> token =
      authorization_credentials(request.header("authorization"), "Bearer");
  return token ? std::string(*token) : std::string();
}

HostResult<ApiToken> AdminAuth::require(const net::http::Request& request, Role role) {
  const std::string token = bearer_token(request);
  if (token.empty() && request.query.contains("token")) {
    return Error(ErrorCode::kApiUnauthorized,
                 "tokens in the query string are refused (they end up in logs): send "
                 "Authorization: Bearer <token>; the event stream takes a ticket from "
                 "POST /api/v1/events/ticket");
  }
  return fleet_.authorize(token, role, now_());
}

HostResult<DeviceId> authenticated_device(const net::http::Request& request, ApiContext& context) {
  return context.fleet.authenticate_device(bearer_token(request), context.now());
}

net::http::Endpoint AdminAuth::endpoint(
    Role role, std::function<net::http::Response(net::http::Request&, const ApiToken&)> handler) {
  net::http::Endpoint out;
  out.handler = guarded([this, role, handler = std::move(handler)](net::http::Request& r) {
    HostResult<ApiToken> who = require(r, role);
    if (!who.ok()) return error_response(who.error());
    return handler(r, *who);
  });
  out.admit = [this, role](net::http::Request& r) {
    net::http::Admission admission;
    HostResult<ApiToken> who = require(r, role);
    if (!who.ok()) admission.refusal = error_response(who.error());
    return admission;
  };
  return out;
}

}  // namespace updraft::server::api
