#include "server/api/routes.h"

namespace updraft::server::api {

std::string bearer_token(const net::http::Request& request) {
  const std::string_view header = request.header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() > kBearer.size() && header.substr(0, kBearer.size()) == kBearer) {
    return std::string(header.substr(kBearer.size()));
  }
  const auto it = request.query.find("token");
  return it != request.query.end() ? it->second : std::string();
}

HostResult<DeviceId> authenticated_device(const net::http::Request& request, ApiContext& context) {
  return context.fleet.authenticate_device(bearer_token(request), context.now());
}

}  // namespace updraft::server::api
