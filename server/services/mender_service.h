// The Mender device API's rules (docs/api/mender.md), behind
// server/api/mender_routes.cpp. A Mender client is an ordinary Updraft device:
//   authentication set -> admits a device (pending until an operator accepts it)
//   JWT                -> HS256 under a key derived from the server's token key;
//                         sub = device id, checked against its set on every call
//   deployments/next   -> UpdateService::check_in (channel "mender", full image only)
//   deployment status  -> report phases:
//     downloading -> downloading   installing -> installing   rebooting -> rebooting
//     success, already-installed -> success   failure -> failure (540)
//     pause_before_* -> no change
//   the download       -> the release's .mender file at a URL that carries its own
//                         expiry and MAC, so the client fetches it without its token
// Host only; thread-safe as the store is.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/host/error.h"
#include "server/deltas/delta_cache.h"
#include "server/model/mender.h"
#include "server/services/credentials.h"
#include "server/services/event_bus.h"
#include "server/services/fleet_service.h"
#include "server/services/update_service.h"
#include "server/storage/store.h"

namespace updraft::server {

// How long what the server hands out lasts.
inline constexpr std::int64_t kMenderTokenSeconds = 24 * 3600;
inline constexpr std::int64_t kMenderDownloadSeconds = 3600;

// POST /api/devices/v1/authentication/auth_requests, its body parsed.
struct MenderAuthRequest {
  std::string id_data;  // canonical JSON of the client's identity
  std::string pubkey;   // PEM
  std::string tenant_token;
};

// The body's fields, checked; kApiBadRequest naming the field.
HostResult<MenderAuthRequest> mender_auth_request_from_json(std::string_view body);

// A deployment's id as Mender clients see it, UUID-shaped
// ("00000000-0000-4000-8000-00000000002a" for 42): the client finds a deployment's
// log file by a match on the id that a short number would also make with the
// index in another deployment's file name, and then uploads the wrong log.
// Ids up to kMaxMenderDeploymentId have one (a store makes ids far below it).
inline constexpr std::int64_t kMaxMenderDeploymentId = (std::int64_t{1} << 48) - 1;
std::string mender_deployment_id(DeploymentId id);
// That form, or a plain decimal id; nullopt for anything else.
std::optional<DeploymentId> parse_mender_deployment_id(std::string_view text);

// What deployments/next offers.
struct MenderOffer {
  Deployment deployment;
  Release release;
  std::string download_path;  // "/api/devices/v1/deployments/download/..."
  UnixTime expires_at = 0;
};

// A line of PUT .../log.
struct MenderLogLine {
  std::string timestamp;
  std::string level;
  std::string message;
};

class MenderService {
 public:
  MenderService(Store& store, FleetService& fleet, UpdateService& updates,
                const DeviceTokens& tokens);

  // The device's signed request: `signature` is X-MEN-Signature (base64) over the
  // raw body. An unknown identity-and-key becomes a pending set. Returns a JWT for
  // an accepted set (a preauthorized one is accepted here); kApiUnauthorized for
  // a pending or rejected one, a bad signature, or a decommissioned device.
  HostResult<std::string> authenticate(std::string_view body, std::string_view signature,
                                       UnixTime now);
  // The device an "Authorization: Bearer <JWT>" header names; kApiUnauthorized
  // for a forged or expired token, or a set no longer accepted.
  HostResult<Device> device_of(std::string_view authorization, UnixTime now);

  // --- Operators.
  HostResult<Page<MenderAuthSet>> auth_sets(std::optional<AuthSetStatus> status, std::size_t limit,
                                            std::size_t offset);
  // Accepts a pending (or rejected) set: its device is registered in `product`
  // (with `hardware`, default the product's name) on first acceptance.
  HostResult<MenderAuthSet> accept(std::int64_t id, const std::string& product,
                                   const std::string& hardware, const std::string& actor,
                                   UnixTime now);
  // Rejects a set: its tokens stop working at once.
  HostResult<MenderAuthSet> reject(std::int64_t id, const std::string& actor, UnixTime now);
  // Enters an identity and key before the device asks; its device is registered
  // now, and its first request is accepted.
  HostResult<MenderAuthSet> preauthorize(const std::string& id_data_json, const std::string& pubkey,
                                         const std::string& product, const std::string& hardware,
                                         const std::string& actor, UnixTime now);

  // --- The device.
  // PATCH (merge) or PUT (replace): [{"name": ..., "value": ...}, ...].
  HostResult<void> put_inventory(const Device& device, const nlohmann::json& attributes,
                                 bool replace_all, UnixTime now);
  HostResult<std::vector<InventoryAttribute>> inventory(const DeviceId& device);
  // nullopt: nothing to do (204).
  HostResult<std::optional<MenderOffer>> next(const Device& device,
                                              const std::string& artifact_name,
                                              const std::string& device_type, UnixTime now);
  // kApiConflict once the deployment was aborted (the client then stops);
  // kApiBadRequest for an unknown status.
  HostResult<void> status(const Device& device, DeploymentId id, const std::string& status,
                          UnixTime now);
  HostResult<void> log(const Device& device, DeploymentId id,
                       const std::vector<MenderLogLine>& lines, UnixTime now);
  // The file behind a download URL, if its MAC holds and it has not expired
  // (kApiForbidden / kApiGone otherwise).
  HostResult<DeltaCache::Artifact> download(DeploymentId id, UnixTime expires, std::string_view mac,
                                            UnixTime now);

 private:
  std::string jwt(const MenderAuthSet& set, UnixTime now) const;
  std::string download_mac(DeploymentId id, UnixTime expires) const;
  // Makes the set's device (a device id from its identity) if it has none yet.
  HostResult<MenderAuthSet> admit(MenderAuthSet set, const std::string& product,
                                  const std::string& hardware, const std::string& actor,
                                  UnixTime now);

  Store& store_;
  FleetService& fleet_;
  UpdateService& updates_;
  const DeviceTokens& tokens_;
  std::string jwt_key_;  // the HS256 key: a MAC of a fixed label under the token key
};

}  // namespace updraft::server
