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

}  // namespace updraft::server::api
