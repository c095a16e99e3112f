#include "server/services/update_service.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "server/campaigns/campaign_planner.h"
#include "server/campaigns/compatibility.h"
#include "server/model/names.h"
#include "server/services/deployment_events.h"
#include "server/services/utf8.h"

namespace updraft::server {
namespace {

using nlohmann::json;

bool is_transport_error(int error) { return error >= 400 && error < 500; }
bool is_deferral(int error) { return error >= 530 && error <= 539; }

}  // namespace

void UpdateService::publish(const Deployment& dep) { publish_deployment(events_, dep); }

std::optional<DeploymentState> state_for_phase(const std::string& phase, int error) {
  if (phase == "downloading") return DeploymentState::kDownloading;
  if (phase == "verifying" || phase == "installing") return DeploymentState::kInstalling;
  if (phase == "rebooting") return DeploymentState::kRebooting;
  if (phase == "success") return DeploymentState::kSucceeded;
  if (phase == "rolled_back") return DeploymentState::kRolledBack;
  if (phase == "deferred") return DeploymentState::kDeferred;
  if (phase == "failure") {
    // A broken link is not the end: the agent backs off and resumes by itself.
    if (is_transport_error(error)) return DeploymentState::kDownloading;
    if (is_deferral(error)) return DeploymentState::kDeferred;
    return DeploymentState::kFailed;
  }
  return std::nullopt;
}

HostResult<DeltaCache::Artifact> UpdateService::choose_artifact(const Product& product,
                                                                const Release& release,
                                                                const Release* from) {
  if (from != nullptr && from->sha256 != release.sha256)
    return deltas_.get(from->sha256, release.sha256, product.profile, settings_.delta_wait);
  DeltaCache::Artifact full;
  full.kind = DeltaCache::Artifact::Kind::kFull;
  UPDRAFT_TRY_ASSIGN(const ArtifactLocation image, deltas_.image(release.sha256));
  full.path = image.path;
  full.size = release.size;
  full.sha256 = release.sha256;
  return full;
}

void UpdateService::record_status(const DeviceId& device, DeviceStatusReport status, UnixTime now) {
  metrics_.check_ins.fetch_add(1, std::memory_order_relaxed);
  status.last_seen = now;
  statuses_.put(device, status);
}

HostResult<CheckInAnswer> UpdateService::check_in(const DeviceId& id, const CheckInRequest& request,
                                                  UnixTime now) {
  metrics_.check_ins.fetch_add(1, std::memory_order_relaxed);
  DeviceStatusReport status = request.status;
  status.last_seen = now;
  CheckInAnswer answer;
  answer.poll_seconds = settings_.poll_seconds;
  answer.reason = "no update";
  // Read before the store: a campaign that starts after this read bumps it.
  const std::uint64_t generation = campaigns_.generation();
  if (request.reports_status) {
    statuses_.put(id, status);
  } else {
    status = statuses_.update(id, request.status,
                              [now](DeviceStatusReport& queued) { queued.last_seen = now; });
  }
  {
    std::lock_guard lock(mutex_);
    const auto idle = idle_.find(id);
    if (idle != idle_.end() && idle->second.generation == generation &&
        idle->second.image_sha256 == status.image_sha256) {
      return answer;
    }
  }
  HostResult<Deployment> open = store_.open_deployment(id);
  if (!open.ok() && open.error().code != ErrorCode::kStoreNotFound) return open.error();
  HostResult<Device> device = store_.device(id);
  if (!device.ok())
    return Error(ErrorCode::kApiUnauthorized, "device " + id.value + " is not registered");
  if (!open.ok()) {
    Device reporting = *device;
    reporting.status = status;
    UPDRAFT_TRY_ASSIGN(const bool joined, campaigns_.join_dynamic(reporting, now));
    if (joined) open = store_.open_deployment(id);
    if (!open.ok()) {
      std::lock_guard lock(mutex_);
      idle_[id] = Idle{generation, status.image_sha256};
      return answer;
    }
  }
  Deployment dep = *open;
  UPDRAFT_TRY_ASSIGN(Campaign campaign, store_.campaign(dep.campaign));
  UPDRAFT_TRY_ASSIGN(Release release, store_.release(campaign.release));
  UPDRAFT_TRY_ASSIGN(Product product, store_.product(device->product));
  answer.poll_seconds = settings_.active_poll_seconds;

  if (status.image_sha256 == release.sha256 && dep.state != DeploymentState::kScheduled) {
    // Installed and confirmed: the success report was lost, the check-in says it.
    dep.state = DeploymentState::kSucceeded;
    dep.progress = 100;
    dep.updated_at = dep.finished_at = now;
    UPDRAFT_TRY(store_.update_deployment(dep));
    publish(dep);
    answer.poll_seconds = settings_.poll_seconds;
    answer.reason = "up to date";
    return answer;
  }
  if (dep.state == DeploymentState::kScheduled) {
    answer.reason = "waiting for its phase";
    return answer;
  }
  if (dep.not_before > now) {
    answer.poll_seconds = std::min<std::int64_t>(dep.not_before - now, settings_.poll_seconds);
    answer.reason = "deferred by an operator";
    return answer;
  }
  // The device may have changed since the campaign targeted it (another image,
  // a re-registration): the server never offers what the device must refuse.
  Device now_running = *device;
  now_running.status = status;
  std::optional<Release> running;
  if (!status.image_sha256.empty()) {
    HostResult<Release> found = store_.release_by_image(product.id, status.image_sha256);
    if (found.ok()) running = *found;
  }
  const campaigns::Incompatibility misfit =
      campaigns::check_compatibility(release, campaign, now_running, running);
  if (misfit != campaigns::Incompatibility::kNone) {
    dep.state = DeploymentState::kCanceled;  // not the update's failure: it never ran
    dep.error = static_cast<int>(campaigns::error_for(misfit));
    dep.message = campaigns::explain(misfit, release, now_running, running);
    dep.updated_at = dep.finished_at = now;
    UPDRAFT_TRY(store_.update_deployment(dep));
    publish(dep);
    answer.poll_seconds = settings_.poll_seconds;
    answer.reason = dep.message;
    return answer;
  }

  // Counted only when the campaign caps downloads, and only those rows: a count
  // of the whole campaign at every offer grew with the fleet.
  std::size_t downloading = 0;
  if (campaign.max_concurrent_downloads != 0) {
    UPDRAFT_TRY_ASSIGN(
        downloading, store_.count_deployments_in_state(campaign.id, DeploymentState::kDownloading));
  }
  // A device already downloading is resuming: it never waits for itself.
  if (dep.state == DeploymentState::kDownloading && downloading > 0) --downloading;
  // An operator's "update now" offers outside the campaign's window.
  Campaign terms = campaign;
  if (dep.ignore_window) terms.window = MaintenanceWindow{};
  const campaigns::OfferDecision offer = campaigns::may_offer(terms, downloading, now);
  if (!offer.offer) {
    answer.poll_seconds = offer.poll_after_seconds;
    answer.reason = offer.why == campaigns::OfferDecision::Why::kWindowClosed
                        ? "outside the maintenance window"
                    : offer.why == campaigns::OfferDecision::Why::kTooManyDownloading
                        ? "too many devices downloading"
                        : "campaign not running";
    return answer;
  }

  UPDRAFT_TRY_ASSIGN(
      DeltaCache::Artifact artifact,
      choose_artifact(product, release, request.full_image_only || !running ? nullptr : &*running));
  if (artifact.kind == DeltaCache::Artifact::Kind::kBuilding) {
    // The product's policy: the full image now rather than the patch later, or
    // once the build has outrun the product's budget (it goes on for later devices).
    const std::int64_t waited = now - artifact.building_since;
    const std::int64_t budget = product.delta_budget_seconds;
    if (product.while_delta_builds == WhileDeltaBuilds::kFullImage ||
        (budget > 0 && waited >= budget)) {
      UPDRAFT_TRY_ASSIGN(artifact, choose_artifact(product, release, nullptr));
    } else {
      answer.poll_seconds = budget > 0 ? std::clamp<std::int64_t>(budget - waited, 1, 5) : 5;
      answer.reason = "preparing the delta";
      return answer;
    }
  }
  const bool is_delta = artifact.kind == DeltaCache::Artifact::Kind::kDelta;
  UPDRAFT_TRY_ASSIGN(answer.manifest,
                     releases_.sign_answer(product, release, artifact, status.image_sha256,
                                           now + settings_.answer_ttl_seconds, request.nonce));
  if (dep.state == DeploymentState::kPending || dep.state == DeploymentState::kDeferred)
    ++dep.attempts;
  dep.artifact_kind = is_delta ? "delta" : "full";
  dep.channel = request.channel;
  dep.from_sha256 = status.image_sha256;
  dep.updated_at = now;
  UPDRAFT_TRY(store_.update_deployment(dep));
  (is_delta ? metrics_.offers_delta : metrics_.offers_full).fetch_add(1, std::memory_order_relaxed);

  answer.update = true;
  answer.deployment = dep.id;
  answer.version = release.version;
  answer.kind = dep.artifact_kind;
  answer.artifact_size = artifact.size;
  answer.artifact_sha256 = artifact.sha256;
  answer.force = campaign.force;
  return answer;
}

HostResult<DeltaCache::Artifact> UpdateService::artifact(const DeviceId& device, DeploymentId id) {
  const Error not_found(ErrorCode::kApiNotFound,
                        "no artifact for deployment " + std::to_string(id.value));
  HostResult<Deployment> dep = store_.deployment(id);
  if (!dep.ok() || dep->device != device || dep->artifact_kind.empty()) return not_found;
  UPDRAFT_TRY_ASSIGN(Campaign campaign, store_.campaign(dep->campaign));
  UPDRAFT_TRY_ASSIGN(Release release, store_.release(campaign.release));
  UPDRAFT_TRY_ASSIGN(Product product, store_.product(campaign.product));
  if (dep->artifact_kind == "full") {
    metrics_.downloads.fetch_add(1, std::memory_order_relaxed);
    return choose_artifact(product, release, nullptr);
  }
  UPDRAFT_TRY_ASSIGN(
      DeltaCache::Artifact artifact,
      deltas_.get(dep->from_sha256, release.sha256, product.profile, settings_.delta_wait));
  // The manifest the device holds names this patch; anything else would fail its check.
  if (artifact.kind != DeltaCache::Artifact::Kind::kDelta) {
    return Error(ErrorCode::kApiUnavailable, "the patch for deployment " +
                                                 std::to_string(id.value) +
                                                 " is being rebuilt; check in again");
  }
  metrics_.downloads.fetch_add(1, std::memory_order_relaxed);
  return artifact;
}

HostResult<Deployment> UpdateService::report(const DeviceId& device, DeploymentId id,
                                             const DeviceReport& report, UnixTime now) {
  metrics_.reports.fetch_add(1, std::memory_order_relaxed);
  // Read, check and write in one transaction: two reports at once (a client that
  // sends progress from one thread and the result from another) must not let the
  // older one overwrite a final state.
  Deployment dep;
  UPDRAFT_TRY(store_.transaction([&]() -> HostResult<void> {
    HostResult<Deployment> found = store_.deployment(id);
    if (!found.ok() || found->device != device) {
      return Error(ErrorCode::kApiNotFound,
                   "no deployment " + std::to_string(id.value) + " for this device");
    }
    dep = *found;
    if (is_final(dep.state)) {
      return Error(ErrorCode::kApiGone, "deployment " + std::to_string(id.value) + " is already " +
                                            std::string(name_of(dep.state)));
    }
    const std::optional<DeploymentState> state = state_for_phase(report.phase, report.error);
    if (!state)
      return Error(ErrorCode::kApiBadRequest, "phase: unknown phase \"" + report.phase + "\"");
    dep.state = *state;
    if (report.progress >= 0) dep.progress = std::clamp(report.progress, 0, 100);
    if (dep.state == DeploymentState::kSucceeded) dep.progress = 100;
    dep.error = report.error;
    dep.message = utf8_prefix(report.message, 500);
    dep.updated_at = now;
    if (is_final(dep.state)) dep.finished_at = now;
    UPDRAFT_TRY(store_.update_deployment(dep));
    if (report.log.empty()) return {};
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < report.log.size() && i < kMaxReportLogLines; ++i)
      lines.emplace_back(utf8_prefix(report.log[i], kMaxLogLineBytes));
    UPDRAFT_TRY(store_.append_deployment_log(dep.id, now, lines, kMaxDeploymentLogLines));
    return {};
  }));
  if (dep.state == DeploymentState::kSucceeded) UPDRAFT_TRY(note_installed(device, dep, now));
  publish(dep);
  return dep;
}

HostResult<void> UpdateService::note_installed(const DeviceId& device, const Deployment& dep,
                                               UnixTime now) {
  UPDRAFT_TRY_ASSIGN(Campaign campaign, store_.campaign(dep.campaign));
  UPDRAFT_TRY_ASSIGN(Release release, store_.release(campaign.release));
  UPDRAFT_TRY_ASSIGN(Device stored, store_.device(device));
  // Written with the check-in statuses at the next flush; a newer check-in's status wins.
  statuses_.update(device, stored.status, [&](DeviceStatusReport& status) {
    status.version = release.version;
    status.image_sha256 = release.sha256;
    status.last_seen = now;
  });
  return {};
}

HostResult<UpdateService::Offer> UpdateService::offer(const DeviceId& device, DeploymentId id) {
  HostResult<Deployment> dep = store_.deployment(id);
  if (!dep.ok() || dep->device != device) {
    if (!dep.ok() && dep.error().code != ErrorCode::kStoreNotFound) return dep.error();
    return Error(ErrorCode::kApiNotFound, "no deployment " + std::to_string(id.value));
  }
  Offer out;
  out.deployment = *dep;
  UPDRAFT_TRY_ASSIGN(Campaign campaign, store_.campaign(dep->campaign));
  UPDRAFT_TRY_ASSIGN(out.release, store_.release(campaign.release));
  return out;
}

}  // namespace updraft::server
