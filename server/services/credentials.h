// Device and operator credentials. Devices prove themselves with a secret (their
// own, or the product's provisioning secret when they register themselves) and
// then carry a short-lived bearer token:
//   "<device id>.<token generation>.<expiry>.<HMAC-SHA256>"
// checked without a database read, so a fleet's check-ins cost no lookups. The
// generation is the device's when the token was issued (Device::token_generation):
// FleetService compares it with the current one, so replacing a secret or
// decommissioning a device ends its tokens at once.
// Secrets and admin tokens are stored only as SHA-256 hex. Host only; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
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

// The credentials of an Authorization header value in `scheme` ("Bearer",
// "TargetToken"): the scheme is matched case-insensitively (RFC 9110 §11.1) and
// followed by one or more spaces. nullopt for another scheme or no credentials.
std::optional<std::string_view> authorization_credentials(std::string_view authorization,
                                                          std::string_view scheme);

// What a device token says; its MAC checked.
struct DeviceTokenClaims {
  DeviceId device;
  std::uint32_t generation = 0;
  UnixTime expires_at = 0;
};

class DeviceTokens {
 public:
  // `key`: the server's HMAC key (hex or any text; at least 32 bytes of entropy).
  explicit DeviceTokens(std::string key) : key_(std::move(key)) {}

  std::string issue(const DeviceId& device, std::uint32_t generation, UnixTime expires_at) const;
  // What the token says; kApiUnauthorized if forged, malformed or expired. Whether
  // its generation is still the device's is the caller's to check.
  HostResult<DeviceTokenClaims> verify(std::string_view token, UnixTime now) const;

  // HMAC-SHA256 of `payload` under the key, as hex. Also what makes ids that
  // cannot be guessed (EnOS version ids); give each use its own payload prefix.
  std::string mac(std::string_view payload) const;

 private:
  std::string key_;
};

}  // namespace updraft::server
