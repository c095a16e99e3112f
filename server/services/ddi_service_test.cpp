// DdiService on an in-memory store: controller authentication and registration,
// polls, the feedback mapping, the cancel hand-shake and configData. The HTTP
// shapes are tested in tests/integration/ddi_test.cpp.
#include "server/services/ddi_service.h"

#include <gtest/gtest.h>

#include "server/services/testing/service_fixture.h"

namespace updraft::server {
namespace {

using testing::Bytes;
using testing::ServiceFixture;

constexpr char kGatewayToken[] = "gateway-token-of-meter";

class DdiServiceTest : public ServiceFixture {
 protected:
  void SetUp() override {
    ServiceFixture::SetUp();
    v1_ = test_images::firmware_like(16 * 1024, 1);
    v2_ = test_images::spread_changes(v1_, 500, 3000, 2);
    product_ = add_product("meter");
    DdiSettings s;
    s.auto_register = true;
    s.hardware = "board-a";
    s.gateway_token_hash = secret_hash(kGatewayToken);
    ASSERT_TRUE(ddi_->set_settings(product_, s, "admin", {{"auto_register", true}}, now_).ok());
    r2_ = upload("meter", "2.0.0", 2, v2_);
  }

  DdiController controller(const std::string& id) {
    HostResult<DdiController> c = ddi_->controller(std::string("GatewayToken ") + kGatewayToken,
                                                   "meter", DeviceId{id}, true, now_);
    EXPECT_TRUE(c.ok()) << c.error().to_string();
    return c.ok() ? *c : DdiController{};
  }

  HostResult<void> feedback(const DdiController& c, DeploymentId id, const std::string& execution,
                            const std::string& finished = "none",
                            std::vector<std::string> details = {}) {
    DdiFeedback f;
    f.execution = execution;
    f.finished = finished;
    f.details = std::move(details);
    return ddi_->feedback(c, id, f, now_);
  }

  Bytes v1_, v2_;
  Product product_;
  Release r2_;
};

TEST_F(DdiServiceTest, TheGatewayTokenRegistersAnUnknownControllerWithTheTenantsHardware) {
  const DdiController c = controller("ctl-1");
  EXPECT_EQ(c.device.id.value, "ctl-1");
  EXPECT_EQ(c.device.hardware, "board-a");
  EXPECT_EQ(c.device.product, product_.id);
  EXPECT_EQ(controller("ctl-1").device.registered_at, c.device.registered_at);
}

TEST_F(DdiServiceTest, ATargetTokenIsTheDevicesOwnSecret) {
  const NewDevice d = add_device("dev-1", "meter");
  EXPECT_TRUE(
      ddi_->controller("TargetToken " + d.secret, "meter", DeviceId{"dev-1"}, false, now_).ok());
  const auto refused = [&](const std::string& auth, const std::string& tenant,
                           const std::string& id) {
    HostResult<DdiController> c = ddi_->controller(auth, tenant, DeviceId{id}, true, now_);
    return c.ok() ? ErrorCode::kOk : c.error().code;
  };
  EXPECT_EQ(refused("TargetToken wrong-secret", "meter", "dev-1"), ErrorCode::kApiUnauthorized);
  EXPECT_EQ(refused("TargetToken " + d.secret, "other", "dev-1"), ErrorCode::kApiUnauthorized);
  EXPECT_EQ(refused("TargetToken " + d.secret, "meter", "dev-2"), ErrorCode::kApiUnauthorized);
  EXPECT_EQ(refused("GatewayToken wrong", "meter", "dev-9"), ErrorCode::kApiUnauthorized);
  EXPECT_EQ(refused("Bearer x", "meter", "dev-1"), ErrorCode::kApiUnauthorized);
  // The gateway may not register an id no device can have.
  EXPECT_EQ(refused(std::string("GatewayToken ") + kGatewayToken, "meter", "a/b"),
            ErrorCode::kApiBadRequest);
}

TEST_F(DdiServiceTest, WithoutAutoRegistrationAnUnknownControllerIsNotFound) {
  DdiSettings s = *ddi_->settings(product_.id);
  s.auto_register = false;
  ASSERT_TRUE(ddi_->set_settings(product_, s, "admin", {}, now_).ok());
  HostResult<DdiController> c = ddi_->controller(std::string("GatewayToken ") + kGatewayToken,
                                                 "meter", DeviceId{"ctl-1"}, true, now_);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kApiNotFound);
}

TEST_F(DdiServiceTest, FeedbackMovesTheDeploymentAndTheEndIsFinal) {
  const DdiController c = controller("ctl-1");
  start_campaign(r2_);
  HostResult<DdiPoll> poll = ddi_->poll(c, now_);
  ASSERT_TRUE(poll.ok());
  ASSERT_TRUE(poll->answer.update);
  const DeploymentId id = poll->answer.deployment;
  ASSERT_TRUE(feedback(c, id, "download").ok());
  EXPECT_EQ(deployment(id).state, DeploymentState::kDownloading);
  ASSERT_TRUE(feedback(c, id, "downloaded").ok());
  EXPECT_EQ(deployment(id).state, DeploymentState::kInstalling);
  ASSERT_TRUE(feedback(c, id, "proceeding", "none", {"ERROR : HASH mismatch"}).ok());
  ASSERT_TRUE(feedback(c, id, "closed", "failure", {"Installation failed"}).ok());
  const Deployment failed = deployment(id);
  EXPECT_EQ(failed.state, DeploymentState::kFailed);
  // The client's reason from an earlier feedback survives its closing summary.
  EXPECT_EQ(failed.message.rfind("ERROR : HASH mismatch", 0), 0u) << failed.message;
  HostResult<void> late = feedback(c, id, "closed", "success");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kApiGone);
}

TEST_F(DdiServiceTest, ClosedSuccessIsInstalledAndNamedAsSuch) {
  const DdiController c = controller("ctl-1");
  start_campaign(r2_);
  const DeploymentId id = ddi_->poll(c, now_)->answer.deployment;
  ASSERT_TRUE(feedback(c, id, "closed", "success").ok());
  EXPECT_EQ(deployment(id).state, DeploymentState::kSucceeded);
  HostResult<DdiPoll> after = ddi_->poll(controller("ctl-1"), now_);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->installed, id);
  HostResult<DdiOffer> installed = ddi_->offer(c, id, true);
  ASSERT_TRUE(installed.ok());
  EXPECT_EQ(installed->release.version, "2.0.0");
  EXPECT_EQ(installed->filename, "meter-2.0.0.swu");
  EXPECT_EQ(installed->hashes.sha1.size(), 40u);
  EXPECT_EQ(installed->hashes.md5.size(), 32u);
}

TEST_F(DdiServiceTest, AnAbortedDeploymentIsOfferedAsACancelUntilAcknowledged) {
  const DdiController c = controller("ctl-1");
  const Campaign campaign = start_campaign(r2_);
  const DeploymentId id = ddi_->poll(c, now_)->answer.deployment;
  ASSERT_TRUE(campaigns_->abort(campaign.id, "admin", now_).ok());
  EXPECT_EQ(ddi_->poll(c, now_)->cancel, id);
  DdiFeedback rejected;
  rejected.execution = "rejected";
  ASSERT_TRUE(ddi_->cancel_feedback(c, id, rejected, now_).ok());
  EXPECT_EQ(ddi_->poll(c, now_)->cancel, id) << "a rejected cancel stays offered";
  DdiFeedback closed;
  closed.execution = "closed";
  ASSERT_TRUE(ddi_->cancel_feedback(c, id, closed, now_).ok());
  EXPECT_FALSE(ddi_->poll(c, now_)->cancel.has_value());
  EXPECT_EQ(ddi_->cancel_feedback(c, id, closed, now_).error().code, ErrorCode::kApiGone);
  EXPECT_EQ(deployment(id).state, DeploymentState::kCanceled);
}

TEST_F(DdiServiceTest, AnotherControllersActionIsNotFound) {
  const DdiController mine = controller("ctl-1");
  const DdiController theirs = controller("ctl-2");
  start_campaign(r2_);
  const DeploymentId id = ddi_->poll(mine, now_)->answer.deployment;
  EXPECT_EQ(ddi_->deployment(theirs, id).error().code, ErrorCode::kApiNotFound);
  EXPECT_EQ(feedback(theirs, id, "closed", "success").error().code, ErrorCode::kApiNotFound);
  EXPECT_EQ(deployment(id).state, DeploymentState::kPending);
}

TEST_F(DdiServiceTest, ConfigDataIsAskedForUntilStored) {
  const DdiController c = controller("ctl-1");
  EXPECT_TRUE(ddi_->poll(c, now_)->config_wanted);
  DdiConfigData update;
  update.data = {{"serial", "A-17"}};
  ASSERT_TRUE(ddi_->config_data(c, update).ok());
  EXPECT_FALSE(ddi_->poll(c, now_)->config_wanted);
}

// Found from outside (issue 15): SWUpdate polls right after reporting success,
// and that poll wrote the old version back, so version targeting missed it.
TEST_F(DdiServiceTest, ThePollAfterSuccessKeepsTheNewVersion) {
  const DdiController c = controller("ctl-1");
  start_campaign(r2_);
  const DeploymentId id = ddi_->poll(c, now_)->answer.deployment;
  ASSERT_TRUE(feedback(c, id, "closed", "success").ok());
  ASSERT_TRUE(ddi_->poll(controller("ctl-1"), now_ + 1).ok());
  ASSERT_TRUE(statuses_->flush().ok());
  const Device stored = *store_->device(DeviceId{"ctl-1"});
  EXPECT_EQ(stored.status.version, "2.0.0");
  EXPECT_EQ(stored.status.image_sha256, r2_.sha256);
  EXPECT_EQ(stored.status.last_seen, now_ + 1);
}

// Found from outside (issue 15): a gateway token could tell whether a
// controller id exists in another tenant.
TEST_F(DdiServiceTest, AnotherTenantsControllerLooksLikeAnUnknownOne) {
  DdiSettings s = *ddi_->settings(product_.id);
  s.auto_register = false;
  ASSERT_TRUE(ddi_->set_settings(product_, s, "admin", {}, now_).ok());
  add_product("other");
  add_device("theirs", "other");
  const auto probe = [&](const std::string& id) {
    HostResult<DdiController> c = ddi_->controller(std::string("GatewayToken ") + kGatewayToken,
                                                   "meter", DeviceId{id}, true, now_);
    EXPECT_FALSE(c.ok());
    return c.ok() ? Error(ErrorCode::kOk, "") : c.error();
  };
  const Error taken = probe("theirs");
  const Error free = probe("nobody");
  EXPECT_EQ(taken.code, free.code);
  EXPECT_EQ(taken.message.substr(taken.message.find(" (")),
            free.message.substr(free.message.find(" (")));
  EXPECT_EQ(taken.code, ErrorCode::kApiNotFound);
}

TEST(DdiConfigDataTest, MergeReplaceAndRemove) {
  const std::map<std::string, std::string> stored = {{"a", "1"}, {"b", "2"}};
  EXPECT_EQ(apply_config_data(stored, {"merge", {{"b", "3"}, {"c", "4"}}}),
            (std::map<std::string, std::string>{{"a", "1"}, {"b", "3"}, {"c", "4"}}));
  EXPECT_EQ(apply_config_data(stored, {"replace", {{"c", "4"}}}),
            (std::map<std::string, std::string>{{"c", "4"}}));
  EXPECT_EQ(apply_config_data(stored, {"remove", {{"a", ""}}}),
            (std::map<std::string, std::string>{{"b", "2"}}));
}

TEST(DdiMessageTest, ErrorLinesComeFirstAndTheWholeIsBounded) {
  EXPECT_EQ(ddi_deployment_message("ERROR : first", {"progress 50", "ERROR : second"}),
            "ERROR : first\nERROR : second\nprogress 50");
  const std::string huge = ddi_deployment_message("", {std::string(2000, 'x')});
  EXPECT_EQ(huge.size(), kMaxMessageBytes);
}

}  // namespace
}  // namespace updraft::server
