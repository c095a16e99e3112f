#include "server/services/opaque_ids.h"

#include <charconv>
#include <cstdint>

namespace updraft::server {
namespace {

constexpr std::uint64_t kCheckModulus = 1'000'000;  // six digits of MAC after the id
constexpr std::size_t kCheckDigits = 6;
// 19 digits of a positive int64 and the check: anything longer is not an id.
constexpr std::size_t kMaxLength = 25;

}  // namespace

std::string OpaqueIds::make(DeploymentId deployment) const {
  const std::string mac = keys_.mac(purpose_ + ":" + std::to_string(deployment.value));
  // The MAC's first 48 bits, reduced to six decimal digits.
  const std::uint64_t check = std::stoull(mac.substr(0, 12), nullptr, 16) % kCheckModulus;
  std::string digits = std::to_string(check);
  digits.insert(0, kCheckDigits - digits.size(), '0');
  return std::to_string(deployment.value) + digits;
}

std::optional<DeploymentId> OpaqueIds::parse(std::string_view id) const {
  if (id.size() <= kCheckDigits || id.size() > kMaxLength) return std::nullopt;
  std::int64_t value = 0;
  const std::string_view head = id.substr(0, id.size() - kCheckDigits);
  const auto [end, ec] = std::from_chars(head.data(), head.data() + head.size(), value);
  if (ec != std::errc() || end != head.data() + head.size() || value <= 0) return std::nullopt;
  // Also refuses a leading zero or '+': only make()'s exact text is an id.
  if (make(DeploymentId{value}) != id) return std::nullopt;
  return DeploymentId{value};
}

}  // namespace updraft::server
