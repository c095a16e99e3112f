// The rules that move a running campaign: which deployments to release, when to
// advance to the next phase, when to pause itself, when it is complete, and whether
// a device may start its download at a check-in. Pure functions of the campaign,
// its deployments and `now`; the caller applies a decision (in one store
// transaction) and calls again after the next device report, operator action, or
// at plan_again_at.
//
// The rules, in the order plan() applies them:
// 1. Only a running campaign releases, advances, pauses itself or completes; for a
//    draft, paused, completed or aborted campaign plan() decides nothing.
// 2. Complete when the current phase is the last and every deployment is final.
//    This wins over pausing: nothing is left for an operator to stop.
// 3. Pause when the window's time zone is unknown (the tz database changed since
//    validation), with the error as the reason.
// 4. Pause when the failure share is strictly above failure_threshold, so 0 pauses
//    at the first failure and 1 never pauses. Failure share = (failed + rolled
//    back) / deployments released so far (every state but scheduled), over all
//    phases. Canceled deployments have left the campaign: they count in no share.
// 5. Advance current_phase by exactly one when the current phase's success share
//    (succeeded / its deployments) is at least success_threshold, so 1 waits for
//    every device; a phase without deployments advances at once. If instead every
//    deployment of the phase is final, the share can no longer rise: pause, so an
//    operator decides. Deferred is not final: a deferred device holds its phase.
// 6. While the window is open, release (scheduled -> pending) every scheduled
//    deployment of the current phase (after this decision's advance) or earlier.
//    Released devices that are offline get their artifact when they next check in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/model/campaign.h"

namespace updraft::server::campaigns {

// What plan() needs to know of one deployment.
struct DeploymentSummary {
  DeploymentId id;
  std::uint32_t phase = 0;
  DeploymentState state = DeploymentState::kScheduled;
};

struct CampaignDecision {
  std::vector<DeploymentId> release;        // scheduled -> pending now
  std::optional<std::uint32_t> advance_to;  // the new current_phase: always current + 1
  bool pause = false;
  std::string pause_reason;  // with pause, for Campaign::pause_reason
  bool complete = false;
  // When to call plan() again even if no deployment changes: `now` after an
  // advance (the next phase is judged on the next call), the window's next opening
  // while releases wait for it. nullopt: only a device report or an operator
  // action can change the decision.
  std::optional<UnixTime> plan_again_at;
};

// Decides what `campaign` does at `now`, given every one of its deployments.
CampaignDecision plan(const Campaign& campaign, const std::vector<DeploymentSummary>& deployments,
                      UnixTime now);

// How long a device waits before checking in again when it is not offered now.
inline constexpr std::int64_t kPollAgainWhenBusySeconds = 60;
inline constexpr std::int64_t kPollAgainWhenStoppedSeconds = 3600;

struct OfferDecision {
  enum class Why : std::uint8_t { kOffered, kNotRunning, kWindowClosed, kTooManyDownloading };
  bool offer = false;
  Why why = Why::kNotRunning;
  std::int64_t poll_after_seconds = 0;  // when not offered: check in again after this
};

// Whether a device whose deployment in `campaign` is pending may be handed its
// artifact at this check-in: the campaign is running, its window is open and fewer
// than max_concurrent_downloads (0: no limit) of its deployments are downloading
// (`downloading_now`). Otherwise when to poll again: when the window opens, or
// after kPollAgainWhenBusySeconds / kPollAgainWhenStoppedSeconds (also for a
// window whose time zone is unknown; plan() pauses such a campaign).
OfferDecision may_offer(const Campaign& campaign, std::size_t downloading_now, UnixTime now);

}  // namespace updraft::server::campaigns
