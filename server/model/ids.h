// Typed identifiers for the server's entities, so a release id cannot be passed
// where a campaign id belongs. Numeric ids are the store's row ids; a device is
// named by the operator (its serial number, say), so its id is text.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace updraft::server {

template <typename Tag>
struct Id {
  std::int64_t value = 0;

  explicit operator bool() const { return value != 0; }
  auto operator<=>(const Id&) const = default;
};

using ProductId = Id<struct ProductTag>;
using ReleaseId = Id<struct ReleaseTag>;
using CampaignId = Id<struct CampaignTag>;
using DeploymentId = Id<struct DeploymentTag>;
using TokenId = Id<struct TokenTag>;

// Operator-chosen, 1..64 bytes of [A-Za-z0-9._:-] (validated at the API).
struct DeviceId {
  std::string value;

  auto operator<=>(const DeviceId&) const = default;
};

// Unix seconds, UTC. Server logic takes `now` as an argument and never reads a clock.
using UnixTime = std::int64_t;

}  // namespace updraft::server

template <typename Tag>
struct std::hash<updraft::server::Id<Tag>> {
  std::size_t operator()(const updraft::server::Id<Tag>& id) const noexcept {
    return std::hash<std::int64_t>{}(id.value);
  }
};
template <>
struct std::hash<updraft::server::DeviceId> {
  std::size_t operator()(const updraft::server::DeviceId& id) const noexcept {
    return std::hash<std::string>{}(id.value);
  }
};
