// CampaignService on an in-memory store: which devices a new campaign takes,
// which it leaves out and why, the store's one-open-deployment rule, and the
// campaign's timing: deployment timeouts, a scheduled start, dynamic campaigns.
#include "server/services/campaign_service.h"

#include <gtest/gtest.h>

#include <map>

#include "server/services/testing/service_fixture.h"

namespace updraft::server {
namespace {

using testing::Bytes;
using testing::ServiceFixture;

class CampaignServiceTest : public ServiceFixture {
 protected:
  void SetUp() override {
    ServiceFixture::SetUp();
    v1_ = test_images::random_bytes(4096, 1);
    v2_ = test_images::random_bytes(4096, 2);
    v3_ = test_images::random_bytes(4096, 3);
    add_product("meter");
    r1_ = upload("meter", "1.0.0", 1, v1_);
    r2_ = upload("meter", "2.0.0", 2, v2_, {"board-a"});
    r3_ = upload("meter", "3.0.0", 2, v3_);  // same counter: a pure downgrade back to r2
  }

  HostResult<CampaignCreated> create(const Release& release, const std::string& name,
                                     bool allow_downgrade = false) {
    Campaign spec;
    spec.release = release.id;
    spec.name = name;
    spec.phases = {PhaseSpec{}};
    spec.allow_downgrade = allow_downgrade;
    return campaigns_->create(spec, "test", now_);
  }

  std::size_t open_deployments(const std::string& device) {
    DeploymentFilter filter;
    filter.device = DeviceId{device};
    const std::vector<Deployment> all = *campaigns_->deployments(filter);
    std::size_t open = 0;
    for (const Deployment& d : all) open += is_final(d.state) ? 0 : 1;
    return open;
  }

  Bytes v1_, v2_, v3_;
  Release r1_, r2_, r3_;
};

// Found from outside (issue 15): `esp` firmware for hardware `b` was sent to
// `sim-board` devices, which all failed with 210.
TEST_F(CampaignServiceTest, DevicesOfOtherHardwareAreLeftOutAndCounted) {
  add_device("a-1", "meter", "board-a");
  add_device("b-1", "meter", "board-b");
  add_device("b-2", "meter", "board-b");
  HostResult<CampaignCreated> created = create(r2_, "r2");
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  EXPECT_EQ(created->targeted, 1u);
  EXPECT_EQ(created->excluded.hardware, 2u);
  EXPECT_EQ(open_deployments("b-1"), 0u);
  EXPECT_EQ(open_deployments("a-1"), 1u);
}

TEST_F(CampaignServiceTest, DevicesRunningANewerReleaseAreLeftOutUnlessDowngradeIsAllowed) {
  add_device("new", "meter");
  add_device("old", "meter");
  add_device("unknown", "meter");  // never checked in: the check-in decides later
  check_in("new", "3.0.0", v3_);
  check_in("old", "1.0.0", v1_);
  HostResult<CampaignCreated> created = create(r2_, "r2");
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  EXPECT_EQ(created->targeted, 2u);
  EXPECT_EQ(created->excluded.downgrade, 1u);
  EXPECT_EQ(open_deployments("new"), 0u);

  // Allowed by the campaign but not by r2's manifest: still left out.
  ASSERT_TRUE(campaigns_->abort(created->campaign.id, "test", now_).ok());
  created = create(r2_, "r2-down", true);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->excluded.downgrade, 1u);
}

TEST_F(CampaignServiceTest, NeverBelowTheSecurityCounterOfTheRunningRelease) {
  ReleaseUpload up;
  up.product = "meter";
  up.version = "1.5.0";
  up.security_counter = 1;
  up.hardware = {"board-a"};
  up.allow_downgrade = true;
  HostResult<Release> low = releases_->upload(up, test_images::random_bytes(4096, 4), "test", now_);
  ASSERT_TRUE(low.ok());
  add_device("dev", "meter");
  check_in("dev", "2.0.0", v2_);  // r2: counter 2
  HostResult<CampaignCreated> created = create(*low, "low", true);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->excluded.security_counter, 1u);
  EXPECT_EQ(created->targeted, 0u);
}

// Found from outside (issue 15): draft campaigns started together gave one
// device three open deployments.
TEST_F(CampaignServiceTest, ADeviceInADraftIsLeftOutOfTheNextCampaign) {
  add_device("dev", "meter");
  HostResult<CampaignCreated> first = create(r2_, "first");
  HostResult<CampaignCreated> second = create(r3_, "second");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->targeted, 1u);
  EXPECT_EQ(second->targeted, 0u);
  EXPECT_EQ(second->excluded.busy, 1u);
  ASSERT_TRUE(campaigns_->start(second->campaign.id, "test", now_).ok());
  ASSERT_TRUE(campaigns_->start(first->campaign.id, "test", now_).ok());
  EXPECT_EQ(open_deployments("dev"), 1u);
}

TEST_F(CampaignServiceTest, TheStoreRefusesASecondOpenDeploymentForADevice) {
  add_device("dev", "meter");
  HostResult<CampaignCreated> first = create(r2_, "first");
  ASSERT_TRUE(first.ok());
  Campaign other;
  other.name = "sneaky";
  other.release = r3_.id;
  other.product = r3_.product;
  other.phases = {PhaseSpec{}};
  HostResult<Campaign> stored = store_->create_campaign(other);
  ASSERT_TRUE(stored.ok());
  Deployment second;
  second.campaign = stored->id;
  second.device = DeviceId{"dev"};
  second.state = DeploymentState::kScheduled;
  std::vector<Deployment> deployments{second};
  HostResult<void> written = store_->create_deployments(deployments);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, ErrorCode::kStoreConflict);
}

TEST_F(CampaignServiceTest, TheAuditEntrySaysWhatWasLeftOut) {
  add_device("b-1", "meter", "board-b");
  ASSERT_TRUE(create(r2_, "r2").ok());
  HostResult<std::vector<AuditEvent>> audit = store_->audit(100, 0);
  ASSERT_TRUE(audit.ok());
  bool found = false;
  for (const AuditEvent& e : *audit) {
    if (e.action == "campaign.create")
      found = e.details.find("\"hardware\":1") != std::string::npos;
  }
  EXPECT_TRUE(found);
}

TEST_F(CampaignServiceTest, ADeploymentSilentPastTheTimeoutFailsWithItsOwnNumber) {
  add_device("quiet", "meter");
  add_device("talking", "meter");
  add_device("waiting", "meter");
  Campaign spec;
  spec.failure_threshold = 1.0;
  spec.deployment_timeout_seconds = 600;
  const Campaign c = start_campaign(r2_, spec);
  std::map<std::string, DeploymentId> dep;
  DeploymentFilter filter;
  filter.campaign = c.id;
  const std::vector<Deployment> all = *campaigns_->deployments(filter);
  for (const Deployment& d : all) dep[d.device.value] = d.id;
  report("quiet", dep["quiet"], "downloading", 0, 10);
  report("talking", dep["talking"], "installing", 0, 90);

  const UnixTime started = now_;
  now_ = started + 599;
  report("talking", dep["talking"], "installing", 0, 95);  // news: its clock starts again
  ASSERT_TRUE(campaigns_->tick(c.id, now_).ok());
  EXPECT_EQ(deployment(dep["quiet"]).state, DeploymentState::kDownloading) << "not yet";

  now_ = started + 600;
  ASSERT_TRUE(campaigns_->tick(c.id, now_).ok());
  const Deployment quiet = deployment(dep["quiet"]);
  EXPECT_EQ(quiet.state, DeploymentState::kFailed);
  EXPECT_EQ(quiet.error, 550);
  EXPECT_EQ(quiet.finished_at, now_);
  EXPECT_EQ(quiet.message, "no news for 600 s while downloading (deployment timeout 600 s)");
  EXPECT_EQ(deployment(dep["talking"]).state, DeploymentState::kInstalling);
  EXPECT_EQ(deployment(dep["waiting"]).state, DeploymentState::kPending) << "never started";
  EXPECT_EQ(error_name(ErrorCode::kDeploymentTimedOut), "DEPLOYMENT_TIMED_OUT");

  now_ = started + 1199;
  ASSERT_TRUE(campaigns_->tick(c.id, now_).ok());
  EXPECT_EQ(deployment(dep["talking"]).state, DeploymentState::kFailed);
  EXPECT_EQ(deployment(dep["talking"]).error, 550);
}

TEST_F(CampaignServiceTest, ADraftStartsItselfAtItsStartTime) {
  add_device("dev", "meter");
  Campaign spec;
  spec.release = r2_.id;
  spec.name = "at night";
  spec.phases = {PhaseSpec{}};
  spec.start_at = now_ + 3600;
  HostResult<CampaignCreated> created = campaigns_->create(spec, "test", now_);
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  const CampaignId id = created->campaign.id;

  ASSERT_TRUE(campaigns_->tick(std::nullopt, now_ + 3599).ok());
  EXPECT_EQ(campaigns_->progress(id)->campaign.state, CampaignState::kDraft);
  ASSERT_TRUE(campaigns_->tick(std::nullopt, now_ + 3600).ok());
  const Campaign started = campaigns_->progress(id)->campaign;
  EXPECT_EQ(started.state, CampaignState::kRunning);
  EXPECT_EQ(started.started_at, now_ + 3600);
  EXPECT_EQ(open_deployments("dev"), 1u);
  ASSERT_TRUE(campaigns_->tick(std::nullopt, now_ + 3601).ok()) << "started once";

  bool by_scheduler = false;
  const std::vector<AuditEvent> audit = *store_->audit(100, 0);
  for (const AuditEvent& e : audit)
    by_scheduler |= e.action == "campaign.start" && e.actor == "scheduler";
  EXPECT_TRUE(by_scheduler);
}

TEST_F(CampaignServiceTest, DevicesJoinADynamicCampaignAtCheckInAndItStaysOpen) {
  add_device("early", "meter");
  Campaign spec;
  spec.dynamic = true;
  spec.target.versions = {"1.0.0"};
  spec.phases = {{PhaseSpec::Kind::kCount, 1}, {PhaseSpec::Kind::kPercent, 100}};
  spec.success_threshold = 1.0;
  check_in("early", "1.0.0", v1_);
  const Campaign c = start_campaign(r2_, spec);
  DeploymentFilter filter;
  filter.campaign = c.id;
  ASSERT_EQ(campaigns_->deployments(filter)->size(), 1u);

  // Registered after the start: it joins at its first check-in, in the current
  // phase, and is released at once.
  add_device("late", "meter");
  check_in("late", "1.0.0", v1_);
  filter.device = DeviceId{"late"};
  std::vector<Deployment> late = *campaigns_->deployments(filter);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].phase, 0u);
  EXPECT_EQ(late[0].state, DeploymentState::kPending);

  // One that reports a version the target does not name stays out until it does.
  add_device("other", "meter");
  check_in("other", "3.0.0", v3_);
  filter.device = DeviceId{"other"};
  EXPECT_TRUE(campaigns_->deployments(filter)->empty());

  // When every device has finished, the campaign is still running for the next.
  filter.device.reset();
  const std::vector<Deployment> joined = *campaigns_->deployments(filter);
  for (const Deployment& d : joined) {
    report(d.device.value, d.id, "downloading", 0, 50);
    report(d.device.value, d.id, "success", 0, 100);
  }
  ASSERT_TRUE(campaigns_->tick(c.id, now_).ok());
  EXPECT_EQ(campaigns_->progress(c.id)->campaign.state, CampaignState::kRunning);
  EXPECT_EQ(campaigns_->progress(c.id)->campaign.current_phase, 1u);

  // A device once in the campaign does not join again by itself.
  check_in("late", "1.0.0", v1_);
  filter.device = DeviceId{"late"};
  EXPECT_EQ(campaigns_->deployments(filter)->size(), 1u);
  add_device("later", "meter");
  check_in("later", "1.0.0", v1_);
  filter.device = DeviceId{"later"};
  late = *campaigns_->deployments(filter);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].phase, 1u) << "the phase it runs now";
}

}  // namespace
}  // namespace updraft::server
