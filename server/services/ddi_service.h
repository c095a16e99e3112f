// The hawkBit DDI v1 rules (docs/api/ddi.md), behind server/api/ddi_routes.cpp.
// A DDI tenant is a product, a controller a device, an action a deployment, a
// software module a release; DDI calls reuse UpdateService (check-in, reports),
// so DDI deployments are ordinary campaigns. Feedback maps onto report phases:
//   closed+success|none -> success   closed+failure -> failure   canceled -> canceled here
//   rejected|scheduled -> deferred   download -> downloading     downloaded -> installing
//   proceeding|resumed -> the step the deployment reached
// A canceled deployment stays offered as a cancelAction until the controller
// acknowledges it (closed/canceled feedback, kept as a store setting). Settings
// per product, configData and the SHA-1/MD5 of images are store settings too.
// Host only; thread-safe as the store is.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/host/error.h"
#include "crypto/host/legacy_digests.h"
#include "server/deltas/delta_cache.h"
#include "server/services/artifact_digests.h"
#include "server/services/event_bus.h"
#include "server/services/fleet_service.h"
#include "server/services/update_service.h"
#include "server/storage/store.h"

namespace updraft::server {

// POST .../deploymentBase/{actionId}/feedback and .../cancelAction/{id}/feedback.
struct DdiFeedback {
  // closed, proceeding, canceled, scheduled, rejected, resumed, downloaded, download
  std::string execution;
  std::string finished = "none";  // success, failure, none
  int percent = -1;               // from result.progress cnt/of, 0..100; -1: not given or unusable
  std::vector<std::string> details;  // at most kMaxDetails lines of kMaxDetailBytes (ddi_codec.h)
};

// PUT .../configData: {"mode":"merge|replace|remove","data":{key: value}}.
struct DdiConfigData {
  std::string mode = "merge";
  std::map<std::string, std::string> data;
};

// `stored` with `update` applied by its mode: merge overwrites the keys given,
// replace drops the rest, remove deletes the keys given.
std::map<std::string, std::string> apply_config_data(std::map<std::string, std::string> stored,
                                                     const DdiConfigData& update);

// A product's DDI settings, kept as JSON text in the store's settings.
struct DdiSettings {
  bool auto_register = false;      // unknown controllers polling with the gateway token register
  std::string hardware;            // ... with this hardware id
  std::string gateway_token_hash;  // SHA-256 hex; empty: no gateway token
  std::string artifact_suffix = ".swu";  // file name ending the artifact gets (SWUpdate wants .swu)
};

nlohmann::json to_json(const DdiSettings& settings);  // with the hash: the stored form
HostResult<DdiSettings> ddi_settings_from_json(const nlohmann::json& stored);

// The deployment message after a feedback with `details`: the client's error lines
// (those starting with "ERROR", as SWUpdate marks them) from `previous` and from
// `details` first, then the other lines of `details`, joined by newlines and cut
// to kMaxMessageBytes. Clients send their reason for a failure in an earlier
// progress feedback than the one that closes it; this keeps it for the console.
inline constexpr std::size_t kMaxMessageBytes = 500;
std::string ddi_deployment_message(const std::string& previous,
                                   const std::vector<std::string>& details);

// An authenticated controller: its tenant, its device and the tenant's settings.
struct DdiController {
  Product product;
  Device device;
  DdiSettings settings;
};

// What a poll offers, beside the check-in's answer.
struct DdiPoll {
  CheckInAnswer answer;
  std::optional<DeploymentId> cancel;     // a cancel the controller has not acknowledged
  std::optional<DeploymentId> installed;  // the latest deployment that succeeded
  bool config_wanted = false;             // no configData stored yet
};

// A deployment as deploymentBase / installedBase describe it.
struct DdiOffer {
  Deployment deployment;
  Campaign campaign;
  Release release;
  LegacyDigests hashes;
  std::string filename;
};

class DdiService {
 public:
  DdiService(Store& store, FleetService& fleet, UpdateService& updates, DeltaCache& deltas,
             ArtifactDigests& digests, EventBus& events)
      : store_(store),
        fleet_(fleet),
        updates_(updates),
        deltas_(deltas),
        digests_(digests),
        events_(events) {}

  HostResult<DdiSettings> settings(ProductId product);
  // Saves `settings` and audits `view` (what the admin API shows of them).
  HostResult<void> set_settings(const Product& product, const DdiSettings& settings,
                                const std::string& actor, const nlohmann::json& view, UnixTime now);

  // Checks `authorization` ("TargetToken <device secret>" or "GatewayToken <the
  // tenant's token>") and finds the controller. With the gateway token, an unknown
  // controller is registered (FleetService, with the tenant's hardware) when
  // `may_register` and the tenant allows it (404 otherwise; 400 for an id no
  // device may have). One 401 for unknown tenant, unknown device with a target
  // token, or a wrong token: no probing for ids.
  HostResult<DdiController> controller(std::string_view authorization, const std::string& tenant,
                                       const DeviceId& id, bool may_register, UnixTime now);

  HostResult<DdiPoll> poll(const DdiController& c, UnixTime now);
  // The controller's deployment `id`; kApiNotFound when it is not.
  HostResult<Deployment> deployment(const DdiController& c, DeploymentId id);
  // installedBase (`installed`) names what the controller installed; deploymentBase
  // what it was offered. kApiNotFound otherwise.
  HostResult<DdiOffer> offer(const DdiController& c, DeploymentId id, bool installed);
  // Moves the deployment by the mapping above; kApiGone once it is final. Final
  // states and rejections are audited with the change.
  HostResult<void> feedback(const DdiController& c, DeploymentId id, const DdiFeedback& feedback,
                            UnixTime now);
  // The controller's deployment `id` if it is canceled (kApiNotFound otherwise).
  HostResult<Deployment> canceled(const DdiController& c, DeploymentId id);
  // closed/canceled acknowledge the cancel (kApiGone afterwards); rejected keeps it offered.
  HostResult<void> cancel_feedback(const DdiController& c, DeploymentId id,
                                   const DdiFeedback& feedback, UnixTime now);
  HostResult<void> config_data(const DdiController& c, const DdiConfigData& update);
  // The release `module` if a campaign gave it to the controller (kApiNotFound otherwise).
  HostResult<Release> assigned_release(const DdiController& c, std::optional<std::int64_t> module);
  std::string artifact_name(const DdiController& c, const Release& release) const;
  // SHA-1 and MD5 of a release's image, which DDI names beside SHA-256.
  HostResult<LegacyDigests> sha1_md5(const Release& release);

 private:
  HostResult<std::vector<Deployment>> deployments_of(const DeviceId& device);

  Store& store_;
  FleetService& fleet_;
  UpdateService& updates_;
  DeltaCache& deltas_;
  ArtifactDigests& digests_;
  EventBus& events_;
};

}  // namespace updraft::server
