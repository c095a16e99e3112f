// What devices ask of the server: check in (is there an update for me?), and report
// progress and results. The answer to a check-in is a signed manifest bound to the
// device's nonce, plus the artifact to fetch: a patch from the exact image the
// device runs when one is built and smaller, else the full image. Reports move the
// device's deployment; the campaign scheduler (CampaignService::tick) picks the
// change up, so a fleet's reports cost no campaign-wide work each. Host only; thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/host/error.h"
#include "server/deltas/delta_cache.h"
#include "server/services/campaign_service.h"
#include "server/services/event_bus.h"
#include "server/services/metrics.h"
#include "server/services/release_service.h"
#include "server/services/status_queue.h"
#include "server/storage/store.h"

namespace updraft::server {

struct UpdateSettings {
  std::int64_t poll_seconds = 3600;            // idle devices check in this often
  std::int64_t active_poll_seconds = 60;       // with an update under way
  std::int64_t answer_ttl_seconds = 300;       // signed answers expire after this
  std::chrono::milliseconds delta_wait{2000};  // wait this long for a delta build at check-in
};

struct CheckInRequest {
  DeviceStatusReport status;  // last_seen is set by the service
  std::uint64_t nonce = 0;
  std::string channel;  // the protocol asking: "" native, "ddi", "enos" (Deployment::channel)
  bool full_image_only = false;  // a client that cannot apply patches
  // False for a poll that says nothing of the running image (DDI): `status` is
  // then only the stored one, and a newer queued status (a success report's
  // version) stands rather than being overwritten by it.
  bool reports_status = true;
};

struct CheckInAnswer {
  bool update = false;
  std::int64_t poll_seconds = 0;
  // With an update:
  DeploymentId deployment;
  std::string version;
  std::string kind;  // "delta" or "full"
  std::uint64_t artifact_size = 0;
  std::string artifact_sha256;
  std::vector<std::byte> manifest;
  bool force = false;
  std::string reason;  // without an update: why not now (for logs and the EnOS API)
};

// A device's report, as the agent sends it (agent/port/transport.h, Phase).
struct DeviceReport {
  std::string phase;  // downloading, verifying, installing, rebooting, success, failure,
                      // rolled_back, deferred
  int progress = 0;   // 0..100 (clamped); negative: unknown, keep the last
  int error = 0;
  std::string running_version;
  std::string message;
  std::vector<std::string> log;  // lines for the deployment's log (at most kMaxReportLogLines)
};

// Bounds on what devices attach to reports: lines per report and per deployment,
// and bytes per line (longer lines are cut, at a character boundary).
inline constexpr std::size_t kMaxReportLogLines = 100;
inline constexpr std::size_t kMaxDeploymentLogLines = 1000;
inline constexpr std::size_t kMaxLogLineBytes = 1000;

class UpdateService {
 public:
  UpdateService(Store& store, ReleaseService& releases, DeltaCache& deltas,
                CampaignService& campaigns, StatusQueue& statuses, EventBus& events,
                Metrics& metrics, UpdateSettings settings)
      : store_(store),
        releases_(releases),
        deltas_(deltas),
        campaigns_(campaigns),
        statuses_(statuses),
        events_(events),
        metrics_(metrics),
        settings_(settings) {}

  HostResult<CheckInAnswer> check_in(const DeviceId& device, const CheckInRequest& request,
                                     UnixTime now);
  // A check-in that is answered "no update" before it reaches the rules (a
  // protocol's own limit): the status is kept all the same.
  void record_status(const DeviceId& device, DeviceStatusReport status, UnixTime now);

  // kApiNotFound for another device's deployment, kApiGone once it is final,
  // kApiBadRequest for an unknown phase.
  HostResult<Deployment> report(const DeviceId& device, DeploymentId deployment,
                                const DeviceReport& report, UnixTime now);

  // A deployment of the device's and the release it installs.
  struct Offer {
    Deployment deployment;
    Release release;
  };
  // kApiNotFound unless deployment `id` is the device's.
  HostResult<Offer> offer(const DeviceId& device, DeploymentId id);

  // The file a device may download for its deployment (the offered artifact);
  // kApiNotFound unless the deployment is the device's and was offered.
  HostResult<DeltaCache::Artifact> artifact(const DeviceId& device, DeploymentId deployment);

  const UpdateSettings& settings() const { return settings_; }

 private:
  // A delta from `from` (the release the device runs, already looked up) when there
  // is one to make; else the full image.
  HostResult<DeltaCache::Artifact> choose_artifact(const Product& product, const Release& release,
                                                   const Release* from);
  // A "deployment" live event with the deployment's state, progress and error.
  void publish(const Deployment& deployment);
  // A success report means the device runs the release now: its status says so at
  // once, not only at its next check-in (which a device may never make).
  HostResult<void> note_installed(const DeviceId& device, const Deployment& deployment,
                                  UnixTime now);

  Store& store_;
  ReleaseService& releases_;
  DeltaCache& deltas_;
  CampaignService& campaigns_;
  StatusQueue& statuses_;
  EventBus& events_;
  Metrics& metrics_;
  UpdateSettings settings_;

  std::mutex mutex_;
  // Devices known to have no deployment, with the campaign generation that was
  // current when the store said so, and the image they ran then (one that starts
  // reporting another may join a dynamic campaign): the hot path of a fleet
  // costs no query.
  struct Idle {
    std::uint64_t generation = 0;
    std::string image_sha256;
  };
  std::unordered_map<DeviceId, Idle> idle_;
};

// Deployment state for a report phase; nullopt for an unknown phase.
std::optional<DeploymentState> state_for_phase(const std::string& phase, int error);

}  // namespace updraft::server
