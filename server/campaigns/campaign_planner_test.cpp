#include "server/campaigns/campaign_planner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "server/campaigns/maintenance_window.h"
#include "server/campaigns/phases.h"

namespace updraft::server::campaigns {
namespace {

using State = DeploymentState;

constexpr UnixTime kNoon = 1717243200;  // 2024-06-01 12:00 UTC

Campaign running_campaign() {
  Campaign campaign;
  campaign.phases = {{PhaseSpec::Kind::kPercent, 10},
                     {PhaseSpec::Kind::kPercent, 50},
                     {PhaseSpec::Kind::kPercent, 100}};
  campaign.success_threshold = 0.9;
  campaign.failure_threshold = 0.2;
  campaign.window = {0, 0, "UTC"};  // always open
  campaign.state = CampaignState::kRunning;
  return campaign;
}

// Deployments built phase by phase, with ids 1, 2, 3, ...
class Fleet {
 public:
  Fleet& add(std::uint32_t phase, State state, int count = 1) {
    for (int i = 0; i < count; ++i)
      deployments_.push_back({DeploymentId{next_id_++}, phase, state});
    return *this;
  }
  std::vector<DeploymentId> ids(std::uint32_t phase, State state) const {
    std::vector<DeploymentId> result;
    for (const DeploymentSummary& d : deployments_)
      if (d.phase == phase && d.state == state) result.push_back(d.id);
    return result;
  }
  const std::vector<DeploymentSummary>& all() const { return deployments_; }

 private:
  std::vector<DeploymentSummary> deployments_;
  std::int64_t next_id_ = 1;
};

bool decides_nothing(const CampaignDecision& d) {
  return d.release.empty() && !d.advance_to && !d.pause && !d.complete && !d.plan_again_at;
}

TEST(CampaignPlannerTest, ReleasesOnlyTheCurrentPhaseWhileTheWindowIsOpen) {
  Fleet fleet;
  fleet.add(0, State::kScheduled, 2).add(1, State::kScheduled, 8).add(2, State::kScheduled, 10);
  const CampaignDecision decision = plan(running_campaign(), fleet.all(), kNoon);
  EXPECT_EQ(decision.release, fleet.ids(0, State::kScheduled));
  EXPECT_FALSE(decision.advance_to);
  EXPECT_FALSE(decision.pause);
  EXPECT_FALSE(decision.complete);
  EXPECT_FALSE(decision.plan_again_at);  // now only device reports change anything
}

TEST(CampaignPlannerTest, WaitsForTheWindowAndSaysWhenItOpens) {
  Campaign campaign = running_campaign();
  campaign.window = {2 * 60, 4 * 60, "UTC"};
  Fleet fleet;
  fleet.add(0, State::kScheduled, 2).add(1, State::kScheduled, 8);
  const CampaignDecision closed = plan(campaign, fleet.all(), kNoon);
  EXPECT_TRUE(closed.release.empty());
  EXPECT_EQ(closed.plan_again_at, kNoon + 14 * 3600);  // 02:00 the next day
  const CampaignDecision open = plan(campaign, fleet.all(), kNoon + 14 * 3600);
  EXPECT_EQ(open.release, fleet.ids(0, State::kScheduled));
}

TEST(CampaignPlannerTest, AdvancesWhenTheSuccessShareReachesTheThreshold) {
  struct Case {
    int succeeded;
    int unfinished;
    bool advances;
  };
  // Ten devices in phase 0, success threshold 0.9: 9 of 10 is exactly at it.
  const Case cases[] = {{8, 2, false}, {9, 1, true}, {10, 0, true}};
  for (const Case& c : cases) {
    Fleet fleet;
    fleet.add(0, State::kSucceeded, c.succeeded)
        .add(0, State::kDownloading, c.unfinished)
        .add(1, State::kScheduled, 40);
    const CampaignDecision decision = plan(running_campaign(), fleet.all(), kNoon);
    EXPECT_FALSE(decision.pause) << c.succeeded;
    if (c.advances) {
      EXPECT_EQ(decision.advance_to, 1u) << c.succeeded;
      EXPECT_EQ(decision.release, fleet.ids(1, State::kScheduled)) << c.succeeded;
      EXPECT_EQ(decision.plan_again_at, kNoon) << c.succeeded;
    } else {
      EXPECT_TRUE(decides_nothing(decision)) << c.succeeded;
    }
  }
}

TEST(CampaignPlannerTest, AdvancesOnePhaseAtATimeEvenThroughEmptyPhases) {
  Campaign campaign = running_campaign();
  Fleet fleet;
  fleet.add(0, State::kSucceeded, 1).add(2, State::kScheduled, 1);  // phase 1 is empty
  EXPECT_EQ(plan(campaign, fleet.all(), kNoon).advance_to, 1u);
  campaign.current_phase = 1;
  const CampaignDecision decision = plan(campaign, fleet.all(), kNoon);
  EXPECT_EQ(decision.advance_to, 2u);
  EXPECT_EQ(decision.release, fleet.ids(2, State::kScheduled));
}

TEST(CampaignPlannerTest, PausesItselfWhenFailuresPassTheThreshold) {
  Fleet fleet;
  fleet.add(0, State::kSucceeded, 12)
      .add(0, State::kFailed, 3)
      .add(0, State::kRolledBack, 2)
      .add(0, State::kDownloading, 3)
      .add(1, State::kScheduled, 30);
  const CampaignDecision decision = plan(running_campaign(), fleet.all(), kNoon);
  EXPECT_TRUE(decision.pause);
  EXPECT_EQ(decision.pause_reason, "failure share 25% passed threshold 20% (5 of 20 released)");
  EXPECT_TRUE(decision.release.empty());
  EXPECT_FALSE(decision.advance_to);
  EXPECT_FALSE(decision.complete);
}

TEST(CampaignPlannerTest, PausesOnlyWhenTheFailureShareIsStrictlyAboveTheThreshold) {
  struct Case {
    double threshold;
    int failed;
    int released;
    bool pauses;
  };
  const Case cases[] = {
      {0.2, 4, 20, false},  // exactly at the threshold
      {0.2, 5, 20, true},   {0.2, 1, 5, false},  {0.2, 2, 9, true}, {0.3, 3, 10, false},
      {0.3, 4, 10, true},   {0.0, 0, 10, false},  // no failure, no pause, whatever the threshold
      {0.0, 1, 10, true},                         // 0: the first failure pauses
      {1.0, 10, 10, false},                       // 1: never pauses
  };
  for (const Case& c : cases) {
    Campaign campaign = running_campaign();
    campaign.failure_threshold = c.threshold;
    Fleet fleet;
    fleet.add(0, State::kFailed, c.failed)
        .add(0, State::kPending, c.released - c.failed)
        .add(0, State::kScheduled, 50);  // not released: counts for nothing
    EXPECT_EQ(plan(campaign, fleet.all(), kNoon).pause, c.pauses)
        << c.failed << " of " << c.released << " at " << c.threshold;
  }
}

TEST(CampaignPlannerTest, CanceledDeploymentsCountInNoShare) {
  // 2 failures of 8 deployments that stayed: 25% > 20%, though 2 of 10 would not be.
  Fleet failing;
  failing.add(0, State::kFailed, 2).add(0, State::kSucceeded, 6).add(0, State::kCanceled, 2);
  EXPECT_TRUE(plan(running_campaign(), failing.all(), kNoon).pause);
  // 9 of 9 succeeded: the phase is done, though 9 of 10 would not reach 0.95.
  Campaign strict = running_campaign();
  strict.success_threshold = 0.95;
  Fleet succeeding;
  succeeding.add(0, State::kSucceeded, 9).add(0, State::kCanceled, 1).add(1, State::kScheduled);
  EXPECT_EQ(plan(strict, succeeding.all(), kNoon).advance_to, 1u);
}

TEST(CampaignPlannerTest, PausesWhenAFinishedPhaseStaysBelowTheSuccessThreshold) {
  Campaign campaign = running_campaign();
  campaign.failure_threshold = 0.5;
  Fleet fleet;
  fleet.add(0, State::kSucceeded, 8).add(0, State::kFailed, 2).add(1, State::kScheduled, 40);
  const CampaignDecision decision = plan(campaign, fleet.all(), kNoon);
  EXPECT_TRUE(decision.pause);
  EXPECT_EQ(decision.pause_reason,
            "phase 1 of 3 finished with success share 80% below threshold 90% (8 of 10 succeeded)");
  EXPECT_FALSE(decision.advance_to);
  EXPECT_TRUE(decision.release.empty());
}

TEST(CampaignPlannerTest, DeferredDeviceHoldsItsPhaseOpen) {
  Fleet fleet;
  fleet.add(0, State::kSucceeded, 8).add(0, State::kDeferred, 2).add(1, State::kScheduled, 40);
  EXPECT_TRUE(decides_nothing(plan(running_campaign(), fleet.all(), kNoon)));
}

TEST(CampaignPlannerTest, CompletesWhenTheLastPhaseIsReachedAndEverythingIsFinal) {
  Campaign campaign = running_campaign();
  campaign.current_phase = 2;
  Fleet fleet;
  fleet.add(0, State::kSucceeded, 2).add(1, State::kSucceeded, 8);
  fleet.add(2, State::kSucceeded, 8).add(2, State::kFailed, 2);  // 10%: under the threshold
  const CampaignDecision done = plan(campaign, fleet.all(), kNoon);
  EXPECT_TRUE(done.complete);
  EXPECT_FALSE(done.pause);  // nothing is left to stop

  Fleet waiting = fleet;
  waiting.add(2, State::kDeferred);
  EXPECT_FALSE(plan(campaign, waiting.all(), kNoon).complete);

  campaign.current_phase = 1;  // everything final, but the last phase not reached
  EXPECT_FALSE(plan(campaign, fleet.all(), kNoon).complete);
}

// Found from outside (findings 2026-12-01): a one-device campaign whose device
// failed called itself completed, so the failure threshold never stopped it.
TEST(Regression, CampaignWhoseLastDevicesFailedPausesInsteadOfCompleting) {
  Campaign campaign = running_campaign();
  campaign.phases = {PhaseSpec{}};
  campaign.current_phase = 0;
  Fleet fleet;
  fleet.add(0, State::kFailed);
  const CampaignDecision decision = plan(campaign, fleet.all(), kNoon);
  EXPECT_TRUE(decision.pause);
  EXPECT_FALSE(decision.complete);
  EXPECT_NE(decision.pause_reason.find("failure share 100%"), std::string::npos)
      << decision.pause_reason;
}

TEST(CampaignPlannerTest, CampaignWithoutDevicesWalksItsPhasesThenCompletes) {
  Campaign campaign = running_campaign();
  for (std::uint32_t phase = 0; phase < 2; ++phase) {
    campaign.current_phase = phase;
    EXPECT_EQ(plan(campaign, {}, kNoon).advance_to, phase + 1);
  }
  campaign.current_phase = 2;
  EXPECT_TRUE(plan(campaign, {}, kNoon).complete);
}

TEST(CampaignPlannerTest, DecidesNothingUnlessRunning) {
  Fleet fleet;
  fleet.add(0, State::kSucceeded, 10).add(1, State::kScheduled, 10).add(0, State::kFailed, 10);
  for (const CampaignState state : {CampaignState::kDraft, CampaignState::kPaused,
                                    CampaignState::kCompleted, CampaignState::kAborted}) {
    Campaign campaign = running_campaign();
    campaign.state = state;
    EXPECT_TRUE(decides_nothing(plan(campaign, fleet.all(), kNoon))) << static_cast<int>(state);
  }
}

TEST(CampaignPlannerTest, PausesWhenTheWindowTimeZoneIsUnknown) {
  Campaign campaign = running_campaign();
  campaign.window.timezone = "Atlantis/Capital";
  Fleet fleet;
  fleet.add(0, State::kScheduled, 2);
  const CampaignDecision decision = plan(campaign, fleet.all(), kNoon);
  EXPECT_TRUE(decision.pause);
  EXPECT_NE(decision.pause_reason.find("Atlantis/Capital"), std::string::npos);
  EXPECT_TRUE(decision.release.empty());
}

TEST(CampaignPlannerTest, OffersOnlyWhileRunningInsideTheWindowAndUnderTheDownloadLimit) {
  using Why = OfferDecision::Why;
  Campaign campaign = running_campaign();
  campaign.max_concurrent_downloads = 3;
  campaign.window = {22 * 60, 4 * 60, "UTC"};
  const UnixTime midnight = kNoon + 12 * 3600;
  struct Case {
    const char* name;
    CampaignState state;
    std::size_t downloading;
    UnixTime now;
    Why why;
    std::int64_t poll_after;
  };
  const Case cases[] = {
      {"room for one more", CampaignState::kRunning, 2, midnight, Why::kOffered, 0},
      {"limit reached", CampaignState::kRunning, 3, midnight, Why::kTooManyDownloading,
       kPollAgainWhenBusySeconds},
      {"window closed: until it opens at 22:00", CampaignState::kRunning, 0, kNoon,
       Why::kWindowClosed, 10 * 3600},
      {"paused", CampaignState::kPaused, 0, midnight, Why::kNotRunning,
       kPollAgainWhenStoppedSeconds},
      {"draft", CampaignState::kDraft, 0, midnight, Why::kNotRunning, kPollAgainWhenStoppedSeconds},
  };
  for (const Case& c : cases) {
    campaign.state = c.state;
    const OfferDecision decision = may_offer(campaign, c.downloading, c.now);
    EXPECT_EQ(decision.offer, c.why == Why::kOffered) << c.name;
    EXPECT_EQ(decision.why, c.why) << c.name;
    EXPECT_EQ(decision.poll_after_seconds, c.poll_after) << c.name;
  }
}

TEST(CampaignPlannerTest, ZeroMaxConcurrentDownloadsMeansNoLimit) {
  const OfferDecision decision = may_offer(running_campaign(), 100000, kNoon);
  EXPECT_TRUE(decision.offer);
}

TEST(CampaignPlannerTest, UnknownTimeZoneOffersNothing) {
  Campaign campaign = running_campaign();
  campaign.window.timezone = "Nowhere/Special";
  const OfferDecision decision = may_offer(campaign, 0, kNoon);
  EXPECT_FALSE(decision.offer);
  EXPECT_EQ(decision.poll_after_seconds, kPollAgainWhenStoppedSeconds);
}

// Random campaigns for the properties below (fixed seeds).
class RandomCampaigns {
 public:
  explicit RandomCampaigns(unsigned seed) : random_(seed) {}

  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(random_() % n); }
  bool chance(std::uint32_t percent) { return below(100) < percent; }

  Campaign campaign() {
    Campaign campaign;
    campaign.phases.resize(1 + below(4));
    std::uint32_t amount = 0;
    for (PhaseSpec& phase : campaign.phases) {
      amount = std::min<std::uint32_t>(100, amount + 1 + below(40));
      phase = {PhaseSpec::Kind::kPercent, amount};
    }
    campaign.current_phase = below(static_cast<std::uint32_t>(campaign.phases.size()));
    const double thresholds[] = {0.0, 0.1, 0.2, 0.5, 0.9, 1.0};
    campaign.success_threshold = thresholds[below(6)];
    campaign.failure_threshold = thresholds[below(6)];
    campaign.window =
        chance(50) ? MaintenanceWindow{0, 0, "UTC"}
                   : MaintenanceWindow{static_cast<std::uint16_t>(below(1440)),
                                       static_cast<std::uint16_t>(below(1440)), "Europe/Berlin"};
    campaign.state = static_cast<CampaignState>(1 + below(5));
    return campaign;
  }

  std::vector<DeploymentSummary> deployments(const Campaign& campaign) {
    const std::vector<std::uint32_t> phases = assign_phases(below(40), campaign.phases);
    std::vector<DeploymentSummary> result;
    for (std::size_t i = 0; i < phases.size(); ++i)
      result.push_back({DeploymentId{static_cast<std::int64_t>(i + 1)}, phases[i],
                        static_cast<State>(1 + below(10))});
    return result;
  }

  UnixTime time() { return kNoon + below(14 * 86400); }

 private:
  std::mt19937 random_;
};

const DeploymentSummary* find(const std::vector<DeploymentSummary>& all, DeploymentId id) {
  for (const DeploymentSummary& d : all)
    if (d.id == id) return &d;
  return nullptr;
}

// What every decision must respect, whatever the campaign and its deployments.
void expect_sound(const Campaign& campaign, const std::vector<DeploymentSummary>& deployments,
                  const CampaignDecision& decision, UnixTime now, const std::string& where) {
  if (campaign.state != CampaignState::kRunning) {
    ASSERT_TRUE(decides_nothing(decision)) << where;
    return;
  }
  const std::uint32_t current = decision.advance_to.value_or(campaign.current_phase);
  for (const DeploymentId id : decision.release) {
    const DeploymentSummary* released = find(deployments, id);
    ASSERT_NE(released, nullptr) << where;
    ASSERT_EQ(released->state, State::kScheduled) << where;
    ASSERT_LE(released->phase, current) << where;
  }
  if (!decision.release.empty()) {
    ASSERT_TRUE(*window_open(campaign.window, now)) << where;
  }
  if (decision.advance_to) {
    ASSERT_EQ(*decision.advance_to, campaign.current_phase + 1) << where;
    ASSERT_LT(*decision.advance_to, campaign.phases.size()) << where;
  }
  if (decision.pause) {
    ASSERT_FALSE(decision.pause_reason.empty()) << where;
    ASSERT_TRUE(decision.release.empty() && !decision.advance_to && !decision.complete) << where;
  }
  if (decision.complete) {
    ASSERT_EQ(campaign.current_phase + 1, campaign.phases.size()) << where;
    for (const DeploymentSummary& d : deployments) ASSERT_TRUE(is_final(d.state)) << where;
    ASSERT_TRUE(decision.release.empty() && !decision.advance_to) << where;
  }
  if (decision.plan_again_at) {
    ASSERT_GE(*decision.plan_again_at, now) << where;
  }
}

TEST(CampaignPlannerTest, EveryDecisionIsSoundForRandomCampaignsAndDeployments) {
  RandomCampaigns random(1234);
  for (int round = 0; round < 20000; ++round) {
    const Campaign campaign = random.campaign();
    const std::vector<DeploymentSummary> deployments = random.deployments(campaign);
    const UnixTime now = random.time();
    expect_sound(campaign, deployments, plan(campaign, deployments, now), now,
                 "round " + std::to_string(round));
    if (HasFatalFailure()) return;
  }
}

// Moves a released deployment one step, as devices would report.
State progress(State state, RandomCampaigns& random) {
  switch (state) {
    case State::kPending:
      return random.chance(10) ? State::kDeferred : State::kDownloading;
    case State::kDeferred:
      return State::kPending;
    case State::kDownloading:
      return random.chance(5) ? State::kFailed : State::kInstalling;
    case State::kInstalling:
      return State::kRebooting;
    case State::kRebooting:
      return random.chance(5) ? State::kRolledBack : State::kSucceeded;
    default:
      return state;
  }
}

TEST(CampaignPlannerTest, RandomRolloutsWalkPhasesInOrderAndCompleteOnlyWhenAllIsFinal) {
  RandomCampaigns random(99);
  for (int round = 0; round < 500; ++round) {
    Campaign campaign = random.campaign();
    campaign.state = CampaignState::kRunning;
    campaign.current_phase = 0;
    std::vector<DeploymentSummary> deployments = random.deployments(campaign);
    for (DeploymentSummary& d : deployments) d.state = State::kScheduled;
    UnixTime now = random.time();
    for (int step = 0; step < 400 && campaign.state == CampaignState::kRunning; ++step) {
      const std::string where = "round " + std::to_string(round) + " step " + std::to_string(step);
      const CampaignDecision decision = plan(campaign, deployments, now);
      expect_sound(campaign, deployments, decision, now, where);
      if (HasFatalFailure()) return;
      for (const DeploymentId id : decision.release)
        for (DeploymentSummary& d : deployments)
          if (d.id == id) d.state = State::kPending;
      if (decision.advance_to) campaign.current_phase = *decision.advance_to;
      if (decision.pause) campaign.state = CampaignState::kPaused;
      if (decision.complete) campaign.state = CampaignState::kCompleted;
      for (DeploymentSummary& d : deployments) {
        // Nothing of a later phase than the current one has ever left kScheduled.
        ASSERT_TRUE(d.state == State::kScheduled || d.phase <= campaign.current_phase) << where;
        if (random.chance(30)) d.state = progress(d.state, random);
      }
      now += 20 * 60;
    }
    if (campaign.state == CampaignState::kCompleted) {
      EXPECT_EQ(campaign.current_phase + 1, campaign.phases.size()) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace updraft::server::campaigns
