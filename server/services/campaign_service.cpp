#include "server/services/campaign_service.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "server/campaigns/campaign_planner.h"
#include "server/campaigns/campaign_validation.h"
#include "server/campaigns/compatibility.h"
#include "server/campaigns/phases.h"
#include "server/campaigns/targeting.h"
#include "server/model/names.h"
#include "server/services/audit_log.h"
#include "server/services/credentials.h"
#include "server/services/deployment_events.h"

namespace updraft::server {
namespace {

using nlohmann::json;

Error conflict(std::string message) { return Error(ErrorCode::kApiConflict, std::move(message)); }

}  // namespace

void CampaignService::audit(const std::string& actor, const char* action, const Campaign& c,
                            const json& details, UnixTime now) {
  // The change itself is committed; the log is best effort.
  (void)append_audit(store_, now, actor, action, "campaign/" + std::to_string(c.id.value),
                     details.is_null() ? json{{"name", c.name}} : details);
}

void CampaignService::bump_generation() {
  generation_.fetch_add(1, std::memory_order_acq_rel);
  // A mark no other change writes; best effort: a server that misses it still
  // looks again when its idle devices next check in after their poll interval.
  HostResult<std::string> mark = random_secret();
  if (!mark.ok()) return;
  std::lock_guard lock(mark_mutex_);
  if (store_.set_setting("campaign_generation_mark", *mark).ok()) seen_mark_ = *mark;
}

HostResult<void> CampaignService::follow_generation() {
  HostResult<std::string> mark = store_.setting("campaign_generation_mark");
  if (!mark.ok()) {
    if (mark.error().code == ErrorCode::kStoreNotFound) return {};  // no change yet
    return mark.error();
  }
  std::lock_guard lock(mark_mutex_);
  if (*mark == seen_mark_) return {};
  seen_mark_ = *mark;
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return {};
}

void CampaignService::publish(const Campaign& c) {
  events_.publish("campaign", json{{"id", c.id.value},
                                   {"state", name_of(c.state)},
                                   {"current_phase", c.current_phase},
                                   {"pause_reason", c.pause_reason}}
                                  .dump());
}

json to_json(const Exclusions& excluded) {
  return json{{"busy", excluded.busy},
              {"hardware", excluded.hardware},
              {"downgrade", excluded.downgrade},
              {"security_counter", excluded.security_counter}};
}

HostResult<std::set<DeviceId>> CampaignService::devices_with_unfinished_deployments() {
  std::set<DeviceId> busy;
  for (DeploymentState state :
       {DeploymentState::kScheduled, DeploymentState::kPending, DeploymentState::kDownloading,
        DeploymentState::kInstalling, DeploymentState::kRebooting, DeploymentState::kDeferred}) {
    DeploymentFilter filter;
    filter.state = state;
    filter.limit = std::numeric_limits<std::size_t>::max();
    UPDRAFT_TRY_ASSIGN(std::vector<Deployment> found, store_.deployments(filter));
    for (const Deployment& d : found) busy.insert(d.device);
  }
  return busy;
}

HostResult<CampaignCreated> CampaignService::create(Campaign campaign, const std::string& actor,
                                                    UnixTime now) {
  UPDRAFT_TRY(statuses_.flush());
  std::lock_guard lock(mutex_);
  campaign.state = CampaignState::kDraft;
  campaign.current_phase = 0;
  campaign.created_at = now;
  campaign.created_by = actor;
  UPDRAFT_TRY(campaigns::validate(campaign));
  HostResult<Release> release = store_.release(campaign.release);
  if (!release.ok())
    return Error(ErrorCode::kApiNotFound,
                 "release: no release " + std::to_string(campaign.release.value));
  campaign.product = release->product;

  DeviceFilter filter;
  filter.product = campaign.product;
  filter.limit = std::numeric_limits<std::size_t>::max();
  UPDRAFT_TRY_ASSIGN(std::vector<Device> devices, store_.devices(filter));
  UPDRAFT_TRY_ASSIGN(std::set<DeviceId> busy, devices_with_unfinished_deployments());
  std::vector<DeviceId> targeted;
  Exclusions excluded;
  for (const Device& d : devices) {
    std::vector<InventoryAttribute> inventory;
    if (!campaign.target.inventory.empty()) {
      UPDRAFT_TRY_ASSIGN(inventory, store_.inventory(d.id));
    }
    if (!campaigns::matches(campaign.target, d, inventory)) continue;
    if (busy.contains(d.id)) {
      ++excluded.busy;  // one unfinished deployment per device (the store enforces it too)
      continue;
    }
    std::optional<Release> running;
    if (!d.status.image_sha256.empty()) {
      HostResult<Release> found = store_.release_by_image(campaign.product, d.status.image_sha256);
      if (found.ok()) running = *found;
    }
    switch (campaigns::check_compatibility(*release, campaign, d, running)) {
      case campaigns::Incompatibility::kNone:
        targeted.push_back(d.id);
        break;
      case campaigns::Incompatibility::kHardware:
        ++excluded.hardware;
        break;
      case campaigns::Incompatibility::kDowngrade:
        ++excluded.downgrade;
        break;
      case campaigns::Incompatibility::kSecurityCounter:
        ++excluded.security_counter;
        break;
    }
  }
  std::sort(targeted.begin(), targeted.end());
  const std::vector<std::uint32_t> phases =
      campaigns::assign_phases(targeted.size(), campaign.phases);

  CampaignCreated created;
  Campaign& stored = created.campaign;
  created.targeted = targeted.size();
  created.excluded = excluded;
  const HostResult<void> written = store_.transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(stored, store_.create_campaign(campaign));
    std::vector<Deployment> deployments(targeted.size());
    for (std::size_t i = 0; i < targeted.size(); ++i) {
      deployments[i].campaign = stored.id;
      deployments[i].device = targeted[i];
      deployments[i].phase = phases[i];
      deployments[i].state = DeploymentState::kScheduled;
      deployments[i].created_at = deployments[i].updated_at = now;
    }
    return store_.create_deployments(deployments);
  });
  if (!written.ok()) {
    // Another server process gave one of these devices a deployment meanwhile:
    // the store's one-open-deployment constraint refused the whole campaign.
    if (written.error().code == ErrorCode::kStoreConflict)
      return conflict("a targeted device was given another deployment meanwhile; create again");
    return written.error();
  }
  audit(actor, "campaign.create", stored,
        json{{"name", stored.name},
             {"release", stored.release.value},
             {"devices", targeted.size()},
             {"excluded", to_json(excluded)}},
        now);
  publish(stored);
  return created;
}

HostResult<Campaign> CampaignService::set_state(CampaignId id, CampaignState from_a,
                                                CampaignState from_b, CampaignState to,
                                                const char* action, const std::string& actor,
                                                UnixTime now) {
  HostResult<Campaign> c = store_.campaign(id);
  if (!c.ok()) return Error(ErrorCode::kApiNotFound, "no campaign " + std::to_string(id.value));
  if (c->state != from_a && c->state != from_b) {
    return conflict("campaign " + std::to_string(id.value) + " is " +
                    std::string(name_of(c->state)));
  }
  c->state = to;
  if (to == CampaignState::kRunning && c->started_at == 0) c->started_at = now;
  if (to == CampaignState::kPaused) c->pause_reason = "operator";
  if (to == CampaignState::kRunning) c->pause_reason.clear();
  UPDRAFT_TRY(store_.update_campaign(*c));
  bump_generation();  // after the commit: see generation()
  audit(actor, action, *c, json(), now);
  publish(*c);
  return c;
}

HostResult<Campaign> CampaignService::start(CampaignId id, const std::string& actor, UnixTime now) {
  UPDRAFT_TRY(statuses_.flush());
  std::lock_guard lock(mutex_);
  return start_locked(id, actor, now);
}

HostResult<Campaign> CampaignService::start_locked(CampaignId id, const std::string& actor,
                                                   UnixTime now) {
  UPDRAFT_TRY_ASSIGN(Campaign c, set_state(id, CampaignState::kDraft, CampaignState::kDraft,
                                           CampaignState::kRunning, "campaign.start", actor, now));
  // Warm the delta cache: one build per source image among the targeted devices.
  // A Mender artifact goes whole to clients that take nothing else.
  HostResult<Release> release = store_.release(c.release);
  HostResult<Product> product = store_.product(c.product);
  DeploymentFilter filter;
  filter.campaign = c.id;
  HostResult<std::vector<Deployment>> deployments = store_.deployments(filter);
  if (release.ok() && release->mender_artifact_name.empty() && product.ok() && deployments.ok()) {
    std::set<std::string> sources;
    for (const Deployment& d : *deployments) {
      HostResult<Device> device = store_.device(d.device);
      if (device.ok() && !device->status.image_sha256.empty() &&
          device->status.image_sha256 != release->sha256) {
        sources.insert(device->status.image_sha256);
      }
    }
    for (const std::string& from : sources) {
      if (store_.release_by_image(c.product, from).ok())
        deltas_.prebuild(from, release->sha256, product->profile);
    }
  }
  UPDRAFT_TRY(tick_locked(c, now));
  return store_.campaign(id);
}

HostResult<Campaign> CampaignService::pause(CampaignId id, const std::string& actor, UnixTime now) {
  std::lock_guard lock(mutex_);
  return set_state(id, CampaignState::kRunning, CampaignState::kRunning, CampaignState::kPaused,
                   "campaign.pause", actor, now);
}

HostResult<Campaign> CampaignService::resume(CampaignId id, std::optional<double> failure_threshold,
                                             const std::string& actor, UnixTime now) {
  std::lock_guard lock(mutex_);
  HostResult<Campaign> c = store_.campaign(id);
  if (!c.ok()) return Error(ErrorCode::kApiNotFound, "no campaign " + std::to_string(id.value));
  if (c->state != CampaignState::kPaused) {
    return conflict("campaign " + std::to_string(id.value) + " is " +
                    std::string(name_of(c->state)));
  }
  Campaign resumed = *c;
  resumed.state = CampaignState::kRunning;
  resumed.pause_reason.clear();
  if (failure_threshold) {
    if (!(*failure_threshold >= 0.0 && *failure_threshold <= 1.0)) {
      return Error(ErrorCode::kApiBadRequest, "failure_threshold: must be in [0, 1]");
    }
    resumed.failure_threshold = *failure_threshold;
  }
  DeploymentFilter filter;
  filter.campaign = id;
  UPDRAFT_TRY_ASSIGN(std::vector<Deployment> deployments, store_.deployments(filter));
  std::vector<campaigns::DeploymentSummary> summaries;
  for (const Deployment& d : deployments) summaries.push_back({d.id, d.phase, d.state});
  const campaigns::CampaignDecision decision = campaigns::plan(resumed, summaries, now);
  if (decision.pause) {
    return conflict("resuming would pause again at once (" + decision.pause_reason +
                    "); raise failure_threshold or abort");
  }
  UPDRAFT_TRY(store_.update_campaign(resumed));
  bump_generation();
  audit(actor, "campaign.resume", resumed,
        json{{"name", resumed.name}, {"failure_threshold", resumed.failure_threshold}}, now);
  publish(resumed);
  // Devices released before the pause may have gone back to sleep: announce them again.
  for (const Deployment& d : deployments) {
    if (d.state == DeploymentState::kPending) publish_deployment(events_, d);
  }
  UPDRAFT_TRY(tick_locked(resumed, now));
  return store_.campaign(id);
}

HostResult<Campaign> CampaignService::abort(CampaignId id, const std::string& actor, UnixTime now) {
  std::lock_guard lock(mutex_);
  HostResult<Campaign> c = store_.campaign(id);
  if (!c.ok()) return Error(ErrorCode::kApiNotFound, "no campaign " + std::to_string(id.value));
  if (c->state == CampaignState::kCompleted || c->state == CampaignState::kAborted) {
    return conflict("campaign " + std::to_string(id.value) + " is " +
                    std::string(name_of(c->state)));
  }
  c->state = CampaignState::kAborted;
  c->finished_at = now;
  std::size_t canceled = 0;
  UPDRAFT_TRY(store_.transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY(store_.update_campaign(*c));
    DeploymentFilter filter;
    filter.campaign = id;
    UPDRAFT_TRY_ASSIGN(std::vector<Deployment> deployments, store_.deployments(filter));
    for (Deployment& d : deployments) {
      if (is_final(d.state)) continue;
      d.state = DeploymentState::kCanceled;
      d.updated_at = d.finished_at = now;
      UPDRAFT_TRY(store_.update_deployment(d));
      ++canceled;
    }
    return {};
  }));
  audit(actor, "campaign.abort", *c, json{{"name", c->name}, {"canceled", canceled}}, now);
  publish(*c);
  return c;
}

HostResult<Campaign> CampaignService::remove(CampaignId id, const std::string& actor,
                                             UnixTime now) {
  std::lock_guard lock(mutex_);
  Campaign removed;
  UPDRAFT_TRY(store_.transaction([&]() -> HostResult<void> {
    HostResult<Campaign> c = store_.campaign(id);
    if (!c.ok()) return Error(ErrorCode::kApiNotFound, "no campaign " + std::to_string(id.value));
    if (c->state != CampaignState::kDraft) {
      return conflict("campaign " + std::to_string(id.value) + " is " +
                      std::string(name_of(c->state)) +
                      ": only a draft can be deleted (abort it to stop it)");
    }
    removed = *c;
    UPDRAFT_TRY(store_.delete_campaign(id));
    // In the same transaction: no deletion goes unrecorded.
    return append_audit(store_, now, actor, "campaign.delete",
                        "campaign/" + std::to_string(id.value),
                        json{{"name", c->name}, {"release", c->release.value}});
  }));
  return removed;
}

HostResult<Deployment> CampaignService::change_deployment(
    DeploymentId id, const char* action, const std::string& actor, UnixTime now,
    const std::function<HostResult<void>(Deployment&, const Campaign&)>& change) {
  std::lock_guard lock(mutex_);
  Deployment dep;
  HostResult<void> done = store_.transaction([&]() -> HostResult<void> {
    HostResult<Deployment> found = store_.deployment(id);
    if (!found.ok()) {
      if (found.error().code == ErrorCode::kStoreNotFound)
        return Error(ErrorCode::kApiNotFound, "no deployment " + std::to_string(id.value));
      return found.error();
    }
    dep = *found;
    UPDRAFT_TRY_ASSIGN(const Campaign campaign, store_.campaign(dep.campaign));
    UPDRAFT_TRY(change(dep, campaign));
    dep.updated_at = now;
    return store_.update_deployment(dep);
  });
  if (!done.ok()) {
    if (done.error().code == ErrorCode::kStoreConflict)
      return conflict("device " + dep.device.value + " is in another unfinished deployment");
    return done.error();
  }
  (void)append_audit(store_, now, actor, std::string("deployment.") + action,
                     "deployment/" + std::to_string(dep.id.value),
                     json{{"device", dep.device.value},
                          {"campaign", dep.campaign.value},
                          {"state", name_of(dep.state)}});
  publish_deployment(events_, dep);
  // A device told "nothing to do" is cached as idle: it must look again.
  bump_generation();
  return dep;
}

HostResult<Deployment> CampaignService::cancel_deployment(DeploymentId id, const std::string& actor,
                                                          UnixTime now) {
  return change_deployment(id, "cancel", actor, now,
                           [&](Deployment& d, const Campaign&) -> HostResult<void> {
                             if (is_final(d.state))
                               return conflict("deployment " + std::to_string(id.value) +
                                               " is already " + std::string(name_of(d.state)));
                             d.state = DeploymentState::kCanceled;
                             d.message = "canceled by " + actor;
                             d.finished_at = now;
                             return {};
                           });
}

HostResult<Deployment> CampaignService::retry_deployment(DeploymentId id, const std::string& actor,
                                                         UnixTime now) {
  return change_deployment(
      id, "retry", actor, now, [&](Deployment& d, const Campaign& c) -> HostResult<void> {
        if (d.state != DeploymentState::kFailed && d.state != DeploymentState::kRolledBack &&
            d.state != DeploymentState::kCanceled) {
          return conflict("deployment " + std::to_string(id.value) + " is " +
                          std::string(name_of(d.state)) +
                          ": only a failed, rolled-back or canceled one is retried");
        }
        if (c.state != CampaignState::kRunning && c.state != CampaignState::kPaused) {
          return conflict("campaign " + std::to_string(c.id.value) + " is " +
                          std::string(name_of(c.state)) + ": retry within a running campaign");
        }
        d.state = DeploymentState::kPending;
        d.progress = 0;
        d.error = 0;
        d.message = "retried by " + actor;
        d.finished_at = 0;
        return {};
      });
}

HostResult<Deployment> CampaignService::update_now(DeploymentId id, const std::string& actor,
                                                   UnixTime now) {
  return change_deployment(id, "update_now", actor, now,
                           [&](Deployment& d, const Campaign&) -> HostResult<void> {
                             if (is_final(d.state))
                               return conflict("deployment " + std::to_string(id.value) +
                                               " is already " + std::string(name_of(d.state)));
                             if (d.state == DeploymentState::kScheduled)
                               d.state = DeploymentState::kPending;
                             d.ignore_window = true;
                             d.not_before = 0;
                             return {};
                           });
}

HostResult<Deployment> CampaignService::defer_deployment(DeploymentId id, UnixTime until,
                                                         const std::string& actor, UnixTime now) {
  return change_deployment(id, "defer", actor, now,
                           [&](Deployment& d, const Campaign&) -> HostResult<void> {
                             if (is_final(d.state))
                               return conflict("deployment " + std::to_string(id.value) +
                                               " is already " + std::string(name_of(d.state)));
                             d.not_before = until;
                             return {};
                           });
}

HostResult<void> CampaignService::tick(std::optional<CampaignId> id, UnixTime now) {
  std::lock_guard lock(mutex_);
  if (id) {
    UPDRAFT_TRY_ASSIGN(Campaign c, store_.campaign(*id));
    return tick_locked(c, now);
  }
  // One read of the campaigns per tick, under the lock that pauses and resumes
  // take too: drafts due to start are started (which ticks them), then every
  // campaign that was running ticks.
  UPDRAFT_TRY_ASSIGN(const std::vector<Campaign> all, store_.campaigns());
  bool flushed = false;
  for (const Campaign& c : all) {
    if (c.state != CampaignState::kDraft || c.start_at == 0 || c.start_at > now) continue;
    if (!flushed) {
      UPDRAFT_TRY(statuses_.flush());  // as start() does, for the delta warm-up
      flushed = true;
    }
    HostResult<Campaign> started = start_locked(c.id, "scheduler", now);
    // Another server's scheduler, or an operator, may have started it first.
    if (!started.ok() && started.error().code != ErrorCode::kApiConflict) return started.error();
  }
  for (const Campaign& c : all) {
    if (c.state == CampaignState::kRunning) UPDRAFT_TRY(tick_locked(c, now));
  }
  return {};
}

HostResult<void> CampaignService::time_out_locked(const Campaign& campaign,
                                                  std::vector<Deployment>& deployments,
                                                  UnixTime now) {
  const std::int64_t limit = campaign.deployment_timeout_seconds;
  if (limit == 0) return {};
  std::vector<Deployment*> silent;
  for (Deployment& d : deployments) {
    if ((d.state == DeploymentState::kDownloading || d.state == DeploymentState::kInstalling) &&
        now - d.updated_at >= limit) {
      silent.push_back(&d);
    }
  }
  if (silent.empty()) return {};
  UPDRAFT_TRY(store_.transaction([&]() -> HostResult<void> {
    for (Deployment* d : silent) {
      d->message = "no news for " + std::to_string(now - d->updated_at) + " s while " +
                   std::string(name_of(d->state)) + " (deployment timeout " +
                   std::to_string(limit) + " s)";
      d->state = DeploymentState::kFailed;
      d->error = static_cast<int>(ErrorCode::kDeploymentTimedOut);
      d->updated_at = d->finished_at = now;
      UPDRAFT_TRY(store_.update_deployment(*d));
    }
    return {};
  }));
  json devices = json::array();
  for (const Deployment* d : silent) {
    publish_deployment(events_, *d);
    devices.push_back(d->device.value);
  }
  audit("server", "campaign.timeout", campaign, json{{"name", campaign.name}, {"devices", devices}},
        now);
  return {};
}

HostResult<void> CampaignService::tick_locked(Campaign campaign, UnixTime now) {
  if (campaign.state != CampaignState::kRunning) return {};
  DeploymentFilter filter;
  filter.campaign = campaign.id;
  UPDRAFT_TRY_ASSIGN(std::vector<Deployment> deployments, store_.deployments(filter));
  UPDRAFT_TRY(time_out_locked(campaign, deployments, now));
  // plan() moves one phase per call: repeat while it advances.
  for (int round = 0; round <= static_cast<int>(campaign.phases.size()); ++round) {
    std::vector<campaigns::DeploymentSummary> summaries;
    summaries.reserve(deployments.size());
    for (const Deployment& d : deployments) summaries.push_back({d.id, d.phase, d.state});
    campaigns::CampaignDecision decision = campaigns::plan(campaign, summaries, now);
    // A dynamic campaign stays open for the devices still to come.
    if (campaign.dynamic) decision.complete = false;
    if (decision.release.empty() && !decision.advance_to && !decision.pause && !decision.complete)
      return {};

    std::set<DeploymentId> release(decision.release.begin(), decision.release.end());
    UPDRAFT_TRY(store_.transaction([&]() -> HostResult<void> {
      for (Deployment& d : deployments) {
        if (!release.contains(d.id)) continue;
        d.state = DeploymentState::kPending;
        d.updated_at = now;
        UPDRAFT_TRY(store_.update_deployment(d));
      }
      if (decision.advance_to) campaign.current_phase = *decision.advance_to;
      if (decision.pause) {
        campaign.state = CampaignState::kPaused;
        campaign.pause_reason = decision.pause_reason;
      }
      if (decision.complete) {
        campaign.state = CampaignState::kCompleted;
        campaign.finished_at = now;
      }
      if (decision.advance_to || decision.pause || decision.complete)
        UPDRAFT_TRY(store_.update_campaign(campaign));
      return {};
    }));
    if (decision.advance_to) {
      audit("server", "campaign.advance", campaign,
            json{{"name", campaign.name}, {"phase", campaign.current_phase}}, now);
    }
    if (decision.pause) {
      audit("server", "campaign.auto_pause", campaign,
            json{{"name", campaign.name}, {"reason", campaign.pause_reason}}, now);
    }
    if (decision.complete) audit("server", "campaign.complete", campaign, json(), now);
    // Each released device gets its own event: the console shows it pending and
    // the MQTT wake-up tells that device to check in now.
    for (const Deployment& d : deployments) {
      if (release.contains(d.id)) publish_deployment(events_, d);
    }
    if (decision.advance_to || decision.pause || decision.complete || !release.empty())
      publish(campaign);
    if (!decision.advance_to || campaign.state != CampaignState::kRunning) return {};
  }
  return {};
}

HostResult<bool> CampaignService::join_dynamic(const Device& device, UnixTime now) {
  // On the check-in path: with no dynamic campaign running (the usual case) this
  // costs a cache look, never a wait on mutex_, which a long tick holds.
  std::vector<CampaignId> candidates;
  {
    std::lock_guard lock(dynamic_mutex_);
    if (const std::uint64_t g = generation(); g != dynamic_generation_) {
      UPDRAFT_TRY_ASSIGN(const std::vector<Campaign> all, store_.campaigns());
      dynamic_.clear();
      for (const Campaign& c : all) {
        if (c.dynamic && c.state == CampaignState::kRunning) dynamic_.push_back(c.id);
      }
      dynamic_generation_ = g;
    }
    candidates = dynamic_;
  }
  if (candidates.empty()) return false;
  std::lock_guard lock(mutex_);
  for (const CampaignId id : candidates) {
    UPDRAFT_TRY_ASSIGN(Campaign c, store_.campaign(id));
    if (c.state != CampaignState::kRunning || c.product != device.product) continue;
    std::vector<InventoryAttribute> inventory;
    if (!c.target.inventory.empty()) {
      UPDRAFT_TRY_ASSIGN(inventory, store_.inventory(device.id));
    }
    if (!campaigns::matches(c.target, device, inventory)) continue;
    DeploymentFilter mine;
    mine.campaign = c.id;
    mine.device = device.id;
    mine.limit = 1;
    UPDRAFT_TRY_ASSIGN(const std::vector<Deployment> before, store_.deployments(mine));
    if (!before.empty()) continue;  // it was in this campaign already: an operator retries it
    UPDRAFT_TRY_ASSIGN(const Release release, store_.release(c.release));
    std::optional<Release> running;
    if (!device.status.image_sha256.empty()) {
      HostResult<Release> found = store_.release_by_image(c.product, device.status.image_sha256);
      if (found.ok()) running = *found;
    }
    if (campaigns::check_compatibility(release, c, device, running) !=
        campaigns::Incompatibility::kNone) {
      continue;
    }
    std::vector<Deployment> joined(1);
    joined[0].campaign = c.id;
    joined[0].device = device.id;
    joined[0].phase = c.current_phase;
    joined[0].state = DeploymentState::kScheduled;
    joined[0].created_at = joined[0].updated_at = now;
    if (HostResult<void> made = store_.create_deployments(joined); !made.ok()) {
      // Another server gave it a deployment meanwhile (one open per device).
      if (made.error().code == ErrorCode::kStoreConflict) return false;
      return made.error();
    }
    audit("server", "campaign.join", c, json{{"name", c.name}, {"device", device.id.value}}, now);
    publish_deployment(events_, joined[0]);
    UPDRAFT_TRY(tick_locked(c, now));
    return true;
  }
  return false;
}

HostResult<CampaignProgress> CampaignService::progress(CampaignId id) {
  CampaignProgress p;
  HostResult<Campaign> c = store_.campaign(id);
  if (!c.ok()) return Error(ErrorCode::kApiNotFound, "no campaign " + std::to_string(id.value));
  p.campaign = *c;
  DeploymentFilter filter;
  filter.campaign = id;
  UPDRAFT_TRY_ASSIGN(std::vector<Deployment> deployments, store_.deployments(filter));
  p.total = deployments.size();
  p.phases.resize(std::max<std::size_t>(1, c->phases.size()));
  std::map<DeploymentState, std::size_t> counts;
  for (const Deployment& d : deployments) {
    ++counts[d.state];
    CampaignProgress::Phase& phase = p.phases[std::min<std::size_t>(d.phase, p.phases.size() - 1)];
    ++phase.devices;
    if (d.state != DeploymentState::kScheduled) ++phase.released;
    if (d.state == DeploymentState::kSucceeded) ++phase.succeeded;
    if (d.state == DeploymentState::kFailed || d.state == DeploymentState::kRolledBack)
      ++phase.failed;
  }
  p.by_state.assign(counts.begin(), counts.end());
  return p;
}

HostResult<Page<Campaign>> CampaignService::campaign_page(std::size_t limit, std::size_t offset) {
  return store_.campaign_page(limit, offset);
}

HostResult<std::vector<Deployment>> CampaignService::deployments(const DeploymentFilter& filter) {
  return store_.deployments(filter);
}

HostResult<Deployment> CampaignService::deployment(DeploymentId id) {
  HostResult<Deployment> found = store_.deployment(id);
  if (!found.ok() && found.error().code == ErrorCode::kStoreNotFound)
    return Error(ErrorCode::kApiNotFound, "no deployment " + std::to_string(id.value));
  return found;
}

HostResult<std::vector<std::pair<DeploymentState, std::size_t>>> CampaignService::deployment_counts(
    std::optional<CampaignId> campaign) {
  return store_.count_deployments(campaign);
}

}  // namespace updraft::server
