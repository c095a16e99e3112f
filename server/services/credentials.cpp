#include "server/services/credentials.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>
#include <vector>

#include "core/host/hex.h"
#include "crypto/constant_time.h"
#include "crypto/sha256.h"

namespace updraft::server {

HostResult<std::string> random_secret() {
  std::vector<std::byte> bytes(32);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size())) !=
      1) {
    return Error(ErrorCode::kInternal, "no randomness from OpenSSL");
  }
  return to_hex(bytes);
}

std::string secret_hash(std::string_view secret) {
  return to_hex(Sha256::digest(as_bytes_view(secret.data(), secret.size())));
}

bool secret_matches(std::string_view secret, std::string_view stored_hash) {
  const std::string hash = secret_hash(secret);
  return hash.size() == stored_hash.size() &&
         constant_time_equal(as_bytes_view(hash.data(), hash.size()),
                             as_bytes_view(stored_hash.data(), stored_hash.size()));
}

std::string DeviceTokens::mac(std::string_view payload) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), out, &size);
  return to_hex(ByteView(reinterpret_cast<const std::byte*>(out), size));
}

namespace {

// What the MAC covers is prefixed, so no other MAC of this key (opaque ids, or the
// "<id>.<expiry>" tokens of before the generation) verifies as a device token:
// no device id holds a space.
constexpr std::string_view kTokenMacPrefix = "device-token/2 ";

// A decimal number that is all of `text`.
template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::optional<std::string_view> authorization_credentials(std::string_view authorization,
                                                          std::string_view scheme) {
  if (authorization.size() <= scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(authorization[i]) != lower(scheme[i])) return std::nullopt;
  }
  std::string_view rest = authorization.substr(scheme.size());
  if (rest.front() != ' ') return std::nullopt;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty()) return std::nullopt;
  return rest;
}

std::string DeviceTokens::issue(const DeviceId& device, std::uint32_t generation,
                                UnixTime expires_at) const {
  const std::string payload =
      device.value + "." + std::to_string(generation) + "." + std::to_string(expires_at);
  return payload + "." + mac(std::string(kTokenMacPrefix) + payload);
}

HostResult<DeviceTokenClaims> DeviceTokens::verify(std::string_view token, UnixTime now) const {
  const Error invalid(ErrorCode::kApiUnauthorized, "device token is invalid or expired");
  // The device id may contain dots, so split from the right.
  const std::size_t mac_dot = token.rfind('.');
  if (mac_dot == std::string_view::npos || mac_dot == 0) return invalid;
  const std::size_t expiry_dot = token.rfind('.', mac_dot - 1);
  if (expiry_dot == std::string_view::npos || expiry_dot == 0) return invalid;
  const std::size_t generation_dot = token.rfind('.', expiry_dot - 1);
  if (generation_dot == std::string_view::npos || generation_dot == 0) return invalid;
  const std::string_view payload = token.substr(0, mac_dot);
  const std::string expected = mac(std::string(kTokenMacPrefix) + std::string(payload));
  const std::string_view given = token.substr(mac_dot + 1);
  if (given.size() != expected.size() ||
      !constant_time_equal(as_bytes_view(given.data(), given.size()),
                           as_bytes_view(expected.data(), expected.size()))) {
    return invalid;
  }
  DeviceTokenClaims claims;
  if (!parse_number(token.substr(expiry_dot + 1, mac_dot - expiry_dot - 1), claims.expires_at) ||
      !parse_number(token.substr(generation_dot + 1, expiry_dot - generation_dot - 1),
                    claims.generation) ||
      claims.expires_at <= now) {
    return invalid;
  }
  claims.device.value = std::string(token.substr(0, generation_dot));
  return claims;
}

}  // namespace updraft::server
