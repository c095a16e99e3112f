// Device and operator credentials. Devices prove themselves with a secret (their
// own, or the product's provisioning secret when they register themselves) and
// then carry a short-lived bearer token: "<device id>.<expiry>.<HMAC-SHA256>",
// checked without a database read, so a fleet's check-ins cost no lookups.
// Secrets and admin tokens are stored only as SHA-256 hex. Host only; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/host/error.h"
#include "server/model/ids.h"

namespace updraft::server {

// 32 random bytes as 64 hex characters (OpenSSL's RAND_bytes).
HostResult<std::string> random_secret();

// SHA-256 of `secret` as hex: what the store keeps.
std::string secret_hash(std::string_view secret);

// Constant-time comparison of `secret`'s hash with a stored hash.
bool secret_matches(std::string_view secret, std::string_view stored_hash);

class DeviceTokens {
 public:
  // `key`: the server's HMAC key (hex or any text; at least 32 bytes of entropy).
  explicit DeviceTokens(std::string key) : key_(std::move(key)) {}

  std::string issue(const DeviceId& device, UnixTime expires_at) const;
  // The device the token names; kApiUnauthorized if forged, malformed or expired.
  HostResult<DeviceId> verify(std::string_view token, UnixTime now) const;

  // HMAC-SHA256 of `payload` under the key, as hex. Also what makes ids that
  // cannot be guessed (EnOS version ids); give each use its own payload prefix.
  std::string mac(std::string_view payload) const;

 private:
  std::string key_;
};

}  // namespace updraft::server
