#include "server/campaigns/campaign_planner.h"

#include <algorithm>
#include <cstdio>

#include "server/campaigns/maintenance_window.h"

namespace updraft::server::campaigns {
namespace {

struct Tally {
  std::size_t counted = 0;  // every deployment but canceled ones
  std::size_t released = 0;
  std::size_t succeeded = 0;
  std::size_t failed = 0;  // failed or rolled back
  std::size_t unfinished = 0;

  void add(DeploymentState state) {
    if (!is_final(state)) ++unfinished;
    if (state == DeploymentState::kCanceled) return;
    ++counted;
    if (state != DeploymentState::kScheduled) ++released;
    if (state == DeploymentState::kSucceeded) ++succeeded;
    if (state == DeploymentState::kFailed || state == DeploymentState::kRolledBack) ++failed;
  }
};

// Division, not multiplication by the threshold: the quotient is correctly rounded,
// so 1 of 5 compares equal to a threshold of 0.2.
double share(std::size_t part, std::size_t whole) {
  return static_cast<double>(part) / static_cast<double>(whole);
}

std::string percent(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g%%", value * 100);
  return text;
}

CampaignDecision pause(std::string reason) {
  CampaignDecision decision;
  decision.pause = true;
  decision.pause_reason = std::move(reason);
  return decision;
}

}  // namespace

CampaignDecision plan(const Campaign& campaign, const std::vector<DeploymentSummary>& deployments,
                      UnixTime now) {
  CampaignDecision decision;
  if (campaign.state != CampaignState::kRunning) return decision;
  const auto last =
      static_cast<std::uint32_t>(std::max<std::size_t>(campaign.phases.size(), 1) - 1);
  const std::uint32_t current = std::min(campaign.current_phase, last);
  Tally all;
  Tally phase;
  for (const DeploymentSummary& deployment : deployments) {
    all.add(deployment.state);
    if (deployment.phase == current) phase.add(deployment.state);
  }

  // Failures first: a campaign whose last devices failed past the threshold
  // pauses for the operator rather than calling itself completed.
  const double failure_share = all.released > 0 ? share(all.failed, all.released) : 0.0;
  if (all.failed > 0 && failure_share > campaign.failure_threshold) {
    return pause("failure share " + percent(failure_share) + " passed threshold " +
                 percent(campaign.failure_threshold) + " (" + std::to_string(all.failed) + " of " +
                 std::to_string(all.released) + " released)");
  }
  if (current == last && all.unfinished == 0) {
    decision.complete = true;
    return decision;
  }
  const HostResult<UnixTime> opens = next_window_open(campaign.window, now);
  if (!opens.ok()) return pause(opens.error().message);

  std::uint32_t release_through = current;
  if (current < last) {
    if (phase.counted == 0 || share(phase.succeeded, phase.counted) >= campaign.success_threshold) {
      decision.advance_to = release_through = current + 1;
      decision.plan_again_at = now;
    } else if (phase.unfinished == 0) {
      return pause("phase " + std::to_string(current + 1) + " of " + std::to_string(last + 1) +
                   " finished with success share " +
                   percent(share(phase.succeeded, phase.counted)) + " below threshold " +
                   percent(campaign.success_threshold) + " (" + std::to_string(phase.succeeded) +
                   " of " + std::to_string(phase.counted) + " succeeded)");
    }
  }

  const bool window_open = *opens == now;
  for (const DeploymentSummary& deployment : deployments) {
    if (deployment.state != DeploymentState::kScheduled || deployment.phase > release_through)
      continue;
    if (!window_open) {  // after an advance, plan_again_at is already `now`
      if (!decision.plan_again_at) decision.plan_again_at = *opens;
      break;
    }
    decision.release.push_back(deployment.id);
  }
  return decision;
}

OfferDecision may_offer(const Campaign& campaign, std::size_t downloading_now, UnixTime now) {
  using Why = OfferDecision::Why;
  if (campaign.state != CampaignState::kRunning)
    return {false, Why::kNotRunning, kPollAgainWhenStoppedSeconds};
  const HostResult<UnixTime> opens = next_window_open(campaign.window, now);
  if (!opens.ok()) return {false, Why::kWindowClosed, kPollAgainWhenStoppedSeconds};
  if (*opens > now) return {false, Why::kWindowClosed, *opens - now};
  if (campaign.max_concurrent_downloads != 0 &&
      downloading_now >= campaign.max_concurrent_downloads)
    return {false, Why::kTooManyDownloading, kPollAgainWhenBusySeconds};
  return {true, Why::kOffered, 0};
}

}  // namespace updraft::server::campaigns
