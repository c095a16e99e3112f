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

std::string DeviceTokens::issue(const DeviceId& device, UnixTime expires_at) const {
  std::string payload = device.value + "." + std::to_string(expires_at);
  return payload + "." + mac(payload);
}

HostResult<DeviceId> DeviceTokens::verify(std::string_view token, UnixTime now) const {
  const Error invalid(ErrorCode::kApiUnauthorized, "device token is invalid or expired");
  // The device id may contain dots, so split from the right.
  const std::size_t mac_dot = token.rfind('.');
  if (mac_dot == std::string_view::npos || mac_dot == 0) return invalid;
  const std::size_t expiry_dot = token.rfind('.', mac_dot - 1);
  if (expiry_dot == std::string_view::npos || expiry_dot == 0) return invalid;
  const std::string_view payload = token.substr(0, mac_dot);
  const std::string expected = mac(payload);
  const std::string_view given = token.substr(mac_dot + 1);
  if (given.size() != expected.size() ||
      !constant_time_equal(as_bytes_view(given.data(), given.size()),
                           as_bytes_view(expected.data(), expected.size()))) {
    return invalid;
  }
  const std::string_view expiry_text = token.substr(expiry_dot + 1, mac_dot - expiry_dot - 1);
  UnixTime expires = 0;
  const auto [end, ec] =
      std::from_chars(expiry_text.data(), expiry_text.data() + expiry_text.size(), expires);
  if (ec != std::errc() || end != expiry_text.data() + expiry_text.size() || expires <= now)
    return invalid;
  return DeviceId{std::string(token.substr(0, expiry_dot))};
}

}  // namespace updraft::server
