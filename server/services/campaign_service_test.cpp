// CampaignService on an in-memory store: which devices a new campaign takes,
// which it leaves out and why, and the store's one-open-deployment rule.
#include "server/services/campaign_service.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace updraft::server
