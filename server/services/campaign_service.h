// Campaign lifecycle on top of the pure rules in server/campaigns: create (target
// the matching devices, split them into phases), start, pause, resume, abort, and
// tick — apply plan() and record what it decided. Every change is audited and
// published as a live event. Host only; thread-safe (one mutex: campaign changes
// are rare next to check-ins).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "core/host/error.h"
#include "server/deltas/delta_cache.h"
#include "server/services/event_bus.h"
#include "server/services/status_queue.h"
#include "server/storage/store.h"

namespace updraft::server {

struct CampaignProgress {
  Campaign campaign;
  std::size_t total = 0;
  std::vector<std::pair<DeploymentState, std::size_t>> by_state;
  // Per phase: devices, and how many of them finished (succeeded / failed-or-rolled-back).
  struct Phase {
    std::size_t devices = 0;
    std::size_t succeeded = 0;
    std::size_t failed = 0;
    std::size_t released = 0;
  };
  std::vector<Phase> phases;
};

// Devices a campaign's target matched but left out, by reason.
struct Exclusions {
  std::size_t busy = 0;              // in another unfinished deployment (draft campaigns too)
  std::size_t hardware = 0;          // not in the release's hardware list
  std::size_t downgrade = 0;         // the release is older and the campaign allows no downgrade
  std::size_t security_counter = 0;  // the release is below the running one's counter
};
nlohmann::json to_json(const Exclusions& excluded);

struct CampaignCreated {
  Campaign campaign;
  std::size_t targeted = 0;
  Exclusions excluded;
};

class CampaignService {
 public:
  CampaignService(Store& store, StatusQueue& statuses, EventBus& events, DeltaCache& deltas)
      : store_(store), statuses_(statuses), events_(events), deltas_(deltas) {}

  // Flushes the queued device statuses, so targeting sees what devices said at
  // their latest check-in. Validates, selects the product's devices the target matches, leaves out
  // those already in an unfinished deployment and those the release does not fit
  // (campaigns::check_compatibility), counting each reason; assigns phases by device id, stores
  // the campaign (draft) and its deployments. kApiConflict when the store's one-open-deployment
  // constraint refuses (another process targeted a device meanwhile).
  HostResult<CampaignCreated> create(Campaign campaign, const std::string& actor, UnixTime now);

  // Flushes the statuses too: the start warms deltas for the images devices run.
  HostResult<Campaign> start(CampaignId id, const std::string& actor, UnixTime now);
  HostResult<Campaign> pause(CampaignId id, const std::string& actor, UnixTime now);
  // A campaign that paused itself for failures would pause again at once: the
  // operator raises the failure threshold to resume it (kApiConflict otherwise).
  HostResult<Campaign> resume(CampaignId id, std::optional<double> failure_threshold,
                              const std::string& actor, UnixTime now);
  // Cancels every deployment that is not final.
  HostResult<Campaign> abort(CampaignId id, const std::string& actor, UnixTime now);
  // Deletes a draft campaign with its deployments, audited as "campaign.delete".
  // kApiNotFound for an unknown campaign; kApiConflict for one that ever started
  // (its history stays: abort it instead).
  HostResult<Campaign> remove(CampaignId id, const std::string& actor, UnixTime now);

  // An operator's action on one device's deployment, audited as
  // "deployment.<action>" and published. kApiNotFound for an unknown deployment,
  // kApiConflict from a state the action does not apply to.
  //  - cancel: an unfinished deployment ends canceled; the device keeps its image.
  //  - retry: a failed, rolled-back or canceled deployment in a running or paused
  //    campaign is offered again (pending; its attempts go on counting, and its
  //    history keeps the earlier ones). kApiConflict when the device is in
  //    another unfinished deployment meanwhile.
  //  - update-now: an unfinished deployment is released now whatever its phase,
  //    and offered outside the campaign's maintenance window too.
  //  - defer: nothing is offered to the device before `until` (0 lifts it).
  HostResult<Deployment> cancel_deployment(DeploymentId id, const std::string& actor, UnixTime now);
  HostResult<Deployment> retry_deployment(DeploymentId id, const std::string& actor, UnixTime now);
  HostResult<Deployment> update_now(DeploymentId id, const std::string& actor, UnixTime now);
  HostResult<Deployment> defer_deployment(DeploymentId id, UnixTime until, const std::string& actor,
                                          UnixTime now);

  // Applies plan() to one running campaign, or to all of them (nullopt), after
  // failing their deployments silent past the campaign's deployment timeout
  // (DEPLOYMENT_TIMED_OUT). With nullopt it first starts the drafts whose
  // start_at has come (audited as the scheduler's campaign.start).
  HostResult<void> tick(std::optional<CampaignId> id, UnixTime now);

  // A device with no open deployment, as it checks in (`device` carries the
  // status it reports now): joins the current phase of the first running dynamic
  // campaign of its product that it matches and fits and was never in, then
  // that campaign is ticked (which releases it when the phase and window allow).
  // True when it joined one. Audited as "campaign.join".
  HostResult<bool> join_dynamic(const Device& device, UnixTime now);

  HostResult<CampaignProgress> progress(CampaignId id);
  // `limit` campaigns from the `offset`-th newest, and how many there are.
  HostResult<Page<Campaign>> campaign_page(std::size_t limit, std::size_t offset);
  HostResult<std::vector<Deployment>> deployments(const DeploymentFilter& filter);
  // kApiNotFound "no deployment <id>".
  HostResult<Deployment> deployment(DeploymentId id);
  // Deployments by state, of one campaign or (nullopt) of every one (/metrics).
  HostResult<std::vector<std::pair<DeploymentState, std::size_t>>> deployment_counts(
      std::optional<CampaignId> campaign = std::nullopt);

  // Bumped after every committed change that can give a device a deployment it did
  // not have (a start or resume), so caches of "nothing to do" know to look again.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // Servers sharing a database: each change above also records a fresh mark in
  // the store; a server that finds a mark it has not seen bumps its own
  // generation. The scheduler calls this every tick, on every server.
  HostResult<void> follow_generation();

 private:
  HostResult<void> tick_locked(Campaign campaign, UnixTime now);
  // start() with mutex_ held and the statuses flushed.
  HostResult<Campaign> start_locked(CampaignId id, const std::string& actor, UnixTime now);
  // With mutex_ held: fails the campaign's deployments silent past its timeout.
  HostResult<void> time_out_locked(const Campaign& campaign, std::vector<Deployment>& deployments,
                                   UnixTime now);
  HostResult<std::set<DeviceId>> devices_with_unfinished_deployments();
  HostResult<Campaign> set_state(CampaignId id, CampaignState from_a, CampaignState from_b,
                                 CampaignState to, const char* action, const std::string& actor,
                                 UnixTime now);
  // `details` null: the campaign's name.
  void audit(const std::string& actor, const char* action, const Campaign& c,
             const nlohmann::json& details, UnixTime now);
  void publish(const Campaign& c);
  void bump_generation();
  // Reads the deployment, lets `change` check and change it, writes it: one
  // transaction. Then audits "deployment.<action>" and publishes it.
  HostResult<Deployment> change_deployment(
      DeploymentId id, const char* action, const std::string& actor, UnixTime now,
      const std::function<HostResult<void>(Deployment&, const Campaign&)>& change);

  Store& store_;
  StatusQueue& statuses_;
  EventBus& events_;
  DeltaCache& deltas_;
  std::mutex mutex_;
  std::atomic<std::uint64_t> generation_{1};
  // The dynamic campaigns that were running at `dynamic_generation_`: a campaign
  // starts running only through a change that bumps the generation, so the list
  // is read again only then (each candidate is read afresh before a device joins).
  std::mutex dynamic_mutex_;  // guards the two below
  std::vector<CampaignId> dynamic_;
  std::uint64_t dynamic_generation_ = 0;
  std::mutex mark_mutex_;
  std::string seen_mark_;  // the store's generation mark last followed or written
};

}  // namespace updraft::server
