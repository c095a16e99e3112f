// Who did what, when: every change an operator or the server itself makes.
#pragma once

#include <string>

#include "server/model/ids.h"

namespace updraft::server {

struct AuditEvent {
  std::int64_t id = 0;
  UnixTime at = 0;
  std::string actor;    // token name, "device:<id>" or "server"
  std::string action;   // e.g. "campaign.start", "campaign.auto_pause", "release.upload"
  std::string object;   // e.g. "campaign/3"
  std::string details;  // JSON object text
};

enum class Role : std::uint8_t { kViewer = 1, kOperator = 2, kAdmin = 3 };

// An admin API token. Only its SHA-256 is stored. A token is active until it
// expires or is revoked.
struct ApiToken {
  TokenId id;
  std::string name;
  Role role = Role::kViewer;
  std::string token_sha256;
  UnixTime created_at = 0;
  UnixTime expires_at = 0;    // 0: never
  UnixTime last_used_at = 0;  // 0: never; recorded at most once a minute
  UnixTime revoked_at = 0;    // 0: not revoked
};

// Whether `token` may still be used at `now`.
constexpr bool is_active(const ApiToken& token, UnixTime now) {
  return token.revoked_at == 0 && (token.expires_at == 0 || now < token.expires_at);
}

}  // namespace updraft::server
