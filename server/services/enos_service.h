// EnOS Edge sub-device OTA, as the EnOS document specifies it (docs/api/enos.md,
// from its section "Sub-devices report version and get the upgrade message"):
// a sub-device polls /checkversion with its assetId, version and serialNum,
// downloads /version/{id}, reports /downloadresult/{id} and /updateresult. The
// calls reuse UpdateService (check-in, artifact, reports), so EnOS deployments are
// ordinary campaigns, offered over the channel "enos".
//
// Identity: assetId is the device id and serialNum its registered serial number;
// the document's own /checkversion request leaves assetId empty, and the serial
// then names the device. /checkversion needs the serial (or a bearer token, which
// stands in for both); the result calls carry no serial in the document, so there
// assetId suffices, and a serial, when sent, must match. A refusal answers one 404
// for "unknown" and "wrong serial" alike, and is audited.
//
// "Up to 5 devices upgrade at the same time": per product, at most
// EnosSettings::max_concurrent EnOS deployments are in flight; a device over the
// limit hears "no update" and gets it on a later poll. A slot frees when the
// device reports success or failure, or when its deployment has not moved for
// upgrade_timeout_seconds. Host only; thread-safe (the limit check and the offer
// are one step under a mutex: one updraftd process per store).
#pragma once

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/host/error.h"
#include "server/services/artifact_digests.h"
#include "server/services/credentials.h"
#include "server/services/fleet_service.h"
#include "server/services/opaque_ids.h"
#include "server/services/update_service.h"
#include "server/storage/store.h"

namespace updraft::server {

// A product's EnOS settings, kept as JSON in the store's settings.
struct EnosSettings {
  std::string sign_method = "MD5";  // or "SHA256": the digest `sign` carries
  // "" gives devices "/version/<id>"; else this prefix, e.g. "http://10.0.0.2:5055",
  // for devices behind a gateway that need an absolute URL.
  std::string download_base;
  bool allow_delta = false;    // serve a patch from the reported version when one exists
  bool auto_register = false;  // unknown assetIds with a serial register themselves
  std::string hardware;        // ... with this hardware id
  std::uint32_t max_concurrent = 5;
  std::int64_t upgrade_timeout_seconds = 1800;
};

nlohmann::json to_json(const EnosSettings& settings);
// kApiBadRequest naming the field for a value out of range.
HostResult<EnosSettings> enos_settings_from_json(const nlohmann::json& json,
                                                 EnosSettings base = {});

// Who a request says it comes from.
struct EnosIdentity {
  std::string asset_id;                  // the body's assetId ("" when absent)
  std::optional<std::string> serial;     // the body's serialNum, when sent
  std::optional<DeviceId> token_device;  // a bearer token's device, when one was sent
};

// /checkversion's answer.
struct EnosCheck {
  std::string asset_id;  // the device's id (the request may have named it by serial only)
  bool update = false;
  std::string version;  // the target's EnOS version with an update, else the reported one
  std::string sign_method;
  std::string sign;  // hex digest of exactly the bytes served at download_url
  std::string download_url;
};

// The bytes /version/{id} serves.
struct EnosFile {
  std::string path;
  std::string sha256;  // its SHA-256 (hex), the strong ETag
  std::uint64_t size = 0;
};

// /updateresult's body.
struct EnosUpdateResult {
  std::string version;
  std::string desc;
  int flag = -1;     // 0 failure, 1 in progress, 2 success
  int process = -1;  // 0..100
  std::string errcode;
};

class EnosService {
 public:
  EnosService(Store& store, FleetService& fleet, UpdateService& updates, ArtifactDigests& digests,
              const DeviceTokens& keys)
      : store_(store),
        fleet_(fleet),
        updates_(updates),
        digests_(digests),
        version_ids_(keys, "enos-version") {}

  HostResult<EnosSettings> settings(ProductId product);
  // Saves `settings` and audits the change.
  HostResult<void> set_settings(const Product& product, const EnosSettings& settings,
                                const std::string& actor, UnixTime now);

  // The device behind `who`, registering an unknown assetId with a serial where a
  // product allows it. kApiNotFound (audited) for unknown ids and wrong serials;
  // with `require_serial`, also for a request without one.
  HostResult<Device> identify(const EnosIdentity& who, bool require_serial, UnixTime now);

  // `version` is what the device reports, e.g. "v1.0.0.3".
  HostResult<EnosCheck> check_version(const EnosIdentity& who, const std::string& version,
                                      UnixTime now);
  // The file version id `version_id` names. With `who`, kApiNotFound unless it is
  // that device's. A GET (not `head`) of an offered deployment marks it downloading.
  HostResult<EnosFile> version_file(std::string_view version_id, const EnosIdentity* who, bool head,
                                    UnixTime now);
  // code 1: downloaded (installing); code 0: failed with `message` (541).
  // kApiNotAcceptable once the deployment is finished.
  HostResult<void> download_result(std::string_view version_id, const EnosIdentity& who, int code,
                                   const std::string& message, UnixTime now);
  // flag 0: failed (540, errcode and desc kept); flag 1: in progress; flag 2:
  // succeeded, only with process 100 and the target version (kApiNotAcceptable
  // otherwise, recording nothing); any other flag kApiBadRequest.
  HostResult<void> update_result(const EnosIdentity& who, const EnosUpdateResult& result,
                                 UnixTime now);

  // The opaque, unguessable number /version/{id} uses for a deployment: its id
  // followed by six digits of a MAC, so ids cannot be walked (OpaqueIds).
  std::string version_id(DeploymentId deployment) const;
  std::optional<DeploymentId> deployment_of(std::string_view version_id) const;

 private:
  HostResult<Deployment> deployment_for(std::string_view version_id, const Device& device);
  HostResult<void> report(const Device& device, const Deployment& deployment,
                          const std::string& phase, int progress, int error,
                          const std::string& message, UnixTime now);
  // Audits why `who` was refused, and returns the one answer every refusal gets.
  Error refuse(const EnosIdentity& who, const std::string& why, UnixTime now);

  Store& store_;
  FleetService& fleet_;
  UpdateService& updates_;
  ArtifactDigests& digests_;
  OpaqueIds version_ids_;
  std::mutex offer_mutex_;  // the limit check and the offer, as one step
};

// The version EnOS devices know a release by.
inline const std::string& enos_version_of(const Release& release) {
  return release.enos_version.empty() ? release.version : release.enos_version;
}

}  // namespace updraft::server
