// Opaque, unguessable ids for deployments in URLs a device may fetch without
// credentials (EnOS's /version/{id}, CoAP's /a/<ref>): the deployment id followed
// by six decimal digits of the server's MAC over a purpose prefix and that id. The
// digits stop anyone walking the ids; the purpose keeps an id made for one use from
// being valid for another. Host only; thread-safe (no state beyond the key).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "server/model/ids.h"
#include "server/services/credentials.h"

namespace updraft::server {

class OpaqueIds {
 public:
  // `keys`: the server's MAC key (copied). `purpose` is part of what the MAC
  // covers, e.g. "enos-version"; changing it changes every id.
  OpaqueIds(DeviceTokens keys, std::string purpose)
      : keys_(std::move(keys)), purpose_(std::move(purpose)) {}

  // Decimal digits: the deployment id, then six check digits.
  std::string make(DeploymentId deployment) const;
  // The deployment `id` names, or nullopt for anything make() did not produce.
  std::optional<DeploymentId> parse(std::string_view id) const;

 private:
  DeviceTokens keys_;
  std::string purpose_;
};

}  // namespace updraft::server
