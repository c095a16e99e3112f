#include "server/api/routes.h"
#include "server/services/credentials.h"

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

HostResult<ApiToken> AdminAuth::require(const net::http::Request& request, Role role) {
  const std::string token = bearer_token(request);
  if (token.empty())
    return Error(ErrorCode::kApiUnauthorized,
                 "an admin API token is required (Authorization: Bearer)");
  const std::string hash = secret_hash(token);
  ApiToken found;
  {
    std::lock_guard lock(mutex_);
    const auto it = cache_.find(hash);
    if (it != cache_.end()) found = it->second;
  }
  if (!found.id) {
    HostResult<ApiToken> stored = store_.token_by_hash(hash);
    if (!stored.ok()) return Error(ErrorCode::kApiUnauthorized, "unknown admin API token");
    found = *stored;
    std::lock_guard lock(mutex_);
    cache_[hash] = found;
  }
  if (static_cast<int>(found.role) < static_cast<int>(role)) {
    return Error(ErrorCode::kApiForbidden, "token \"" + found.name + "\" may not do this");
  }
  return found;
}

HostResult<DeviceId> authenticated_device(const net::http::Request& request, ApiContext& context) {
  const std::string token = bearer_token(request);
  if (token.empty())
    return Error(ErrorCode::kApiUnauthorized, "a device token is required (Authorization: Bearer)");
  return context.device_tokens.verify(token, context.now());
}

bool valid_device_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace updraft::server::api
