// FleetService on an in-memory store: products, the one registration path and
// its one rule set, device tokens, admin tokens and the audit log.
#include "server/services/fleet_service.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/services/testing/service_fixture.h"

namespace updraft::server {
namespace {

using testing::Bytes;
using testing::ServiceFixture;

class FleetServiceTest : public ServiceFixture {
 protected:
  HostResult<NewDevice> register_as(Registrar registrar, const std::string& id,
                                    const std::string& hardware,
                                    const std::string& provisioning = "provisioning-secret-1") {
    DeviceSpec spec;
    spec.id.value = id;
    spec.product = "meter";
    spec.hardware = hardware;
    return fleet_->register_device(spec, registrar, "test", now_, provisioning);
  }
};

TEST_F(FleetServiceTest, CreatesAProductAndShowsAGeneratedProvisioningSecretOnce) {
  ProductSpec spec;
  spec.name = "meter";
  spec.profile = "mcu";
  spec.provisioning_secret = "generate";
  HostResult<NewProduct> created = fleet_->create_product(spec, "alice", now_);
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  EXPECT_EQ(created->provisioning_secret.size(), 64u);
  EXPECT_EQ(created->product.profile, delta::Profile::kMcu);
  // Only the hash is kept.
  EXPECT_EQ(created->product.provisioning_secret_hash, secret_hash(created->provisioning_secret));
  HostResult<Product> read = fleet_->product("meter");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->id, created->product.id);
}

TEST_F(FleetServiceTest, RefusesABadProductNamingTheField) {
  struct Case {
    ProductSpec spec;
    const char* field;
  };
  std::vector<Case> cases(5);
  cases[0].spec.name = "two words";
  cases[0].field = "name:";
  cases[1].spec.name = "p";
  cases[1].spec.profile = "huge";
  cases[1].field = "profile:";
  cases[2].spec.name = "p";
  cases[2].spec.sector_size = 0;
  cases[2].field = "sector_size:";
  cases[3].spec.name = "p";
  cases[3].spec.provisioning_secret = "short";
  cases[3].field = "provisioning_secret:";
  cases[4].spec.name = std::string(33, 'x');
  cases[4].field = "name:";
  for (const Case& c : cases) {
    HostResult<NewProduct> r = fleet_->create_product(c.spec, "alice", now_);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.error().code, ErrorCode::kApiBadRequest);
    EXPECT_EQ(r.error().message.rfind(c.field, 0), 0u) << r.error().message;
  }
  ASSERT_TRUE(fleet_->products()->empty());
}

TEST_F(FleetServiceTest, ATakenProductNameIsAConflict) {
  add_product("meter");
  ProductSpec spec;
  spec.name = "meter";
  HostResult<NewProduct> again = fleet_->create_product(spec, "alice", now_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kApiConflict);
}

// The finding: a self-registered device with hardware "board rev2" was accepted,
// yet no release can ever name that hardware. One rule set for every registrar.
TEST_F(FleetServiceTest, RegressionEveryRegistrarRefusesHardwareNoManifestCanName) {
  add_product("meter", "mcu-tiny", "provisioning-secret-1");
  for (Registrar registrar : {Registrar::kOperator, Registrar::kSelf, Registrar::kDdiGateway}) {
    for (const char* hardware : {"board rev2", "", "0123456789012345678901234567890123"}) {
      HostResult<NewDevice> r = register_as(registrar, "dev-1", hardware);
      ASSERT_FALSE(r.ok()) << static_cast<int>(registrar) << " '" << hardware << "'";
      EXPECT_EQ(r.error().code, ErrorCode::kApiBadRequest);
      EXPECT_EQ(r.error().message.rfind("hardware:", 0), 0u) << r.error().message;
    }
  }
  EXPECT_EQ(fleet_->device(DeviceId{"dev-1"}).error().code, ErrorCode::kApiNotFound);
}

TEST_F(FleetServiceTest, EveryRegistrarRefusesAnIdNoPathOrTopicCanCarry) {
  add_product("meter", "mcu-tiny", "provisioning-secret-1");
  const std::pair<Registrar, const char*> fields[] = {{Registrar::kOperator, "id:"},
                                                      {Registrar::kSelf, "device_id:"},
                                                      {Registrar::kDdiGateway, "controllerId:"}};
  for (const auto& [registrar, field] : fields) {
    for (const std::string& id :
         std::vector<std::string>{"", "a/b", "a b", "dev#1", std::string(65, 'a')}) {
      HostResult<NewDevice> r = register_as(registrar, id, "board-a");
      ASSERT_FALSE(r.ok()) << field << " '" << id << "'";
      EXPECT_EQ(r.error().message.rfind(field, 0), 0u) << r.error().message;
    }
  }
  EXPECT_TRUE(valid_device_id("gw-17.site_3:a"));
  EXPECT_TRUE(valid_device_id(std::string(64, 'a')));
}

TEST_F(FleetServiceTest, SelfRegistrationNeedsTheProvisioningSecretAndAnswersOneWay) {
  add_product("meter", "mcu-tiny", "provisioning-secret-1");
  add_product("closed");  // no provisioning secret: only operators register
  HostResult<NewDevice> wrong =
      register_as(Registrar::kSelf, "dev-1", "board-a", "nope-nope-nope-nope");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kApiUnauthorized);
  DeviceSpec elsewhere;
  elsewhere.id.value = "dev-1";
  elsewhere.product = "no-such-product";
  elsewhere.hardware = "board-a";
  HostResult<NewDevice> unknown =
      fleet_->register_device(elsewhere, Registrar::kSelf, "test", now_, "provisioning-secret-1");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, wrong.error().message);
  elsewhere.product = "closed";
  EXPECT_EQ(fleet_->register_device(elsewhere, Registrar::kSelf, "test", now_, "").error().code,
            ErrorCode::kApiUnauthorized);

  HostResult<NewDevice> ok = register_as(Registrar::kSelf, "dev-1", "board-a");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->secret.size(), 64u);
  EXPECT_NE(ok->secret, "provisioning-secret-1");
  EXPECT_EQ(ok->device.secret_hash, secret_hash(ok->secret));
}

TEST_F(FleetServiceTest, OperatorSecretsAreCheckedAndKeptOnlyAsHashes) {
  add_product("meter");
  DeviceSpec spec;
  spec.id.value = "dev-1";
  spec.product = "meter";
  spec.hardware = "board-a";
  spec.secret = "too-short";
  HostResult<NewDevice> r = fleet_->register_device(spec, Registrar::kOperator, "alice", now_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("secret:", 0), 0u);
  spec.secret = "a-long-enough-secret";
  r = fleet_->register_device(spec, Registrar::kOperator, "alice", now_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->secret, "a-long-enough-secret");
  EXPECT_EQ(fleet_->device(spec.id)->secret_hash, secret_hash("a-long-enough-secret"));
  HostResult<NewDevice> again = fleet_->register_device(spec, Registrar::kOperator, "alice", now_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kApiConflict);
}

TEST_F(FleetServiceTest, AGatewayRegistersAControllerOnceEvenWhenAskedTwice) {
  add_product("meter");
  HostResult<NewDevice> first = register_as(Registrar::kDdiGateway, "ctl-1", "board-a");
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_TRUE(first->secret.empty());
  EXPECT_TRUE(first->device.secret_hash.empty());
  HostResult<NewDevice> second = register_as(Registrar::kDdiGateway, "ctl-1", "board-a");
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(second->device.id, first->device.id);
  HostResult<std::vector<AuditEvent>> audit = fleet_->audit(100, 0);
  ASSERT_TRUE(audit.ok());
  std::size_t registrations = 0;
  for (const AuditEvent& e : *audit) registrations += e.action == "device.ddi_register";
  EXPECT_EQ(registrations, 1u);
}

TEST_F(FleetServiceTest, DeviceTokensNameTheDeviceUntilTheyExpire) {
  add_product("meter");
  const NewDevice d = add_device("dev-1", "meter");
  HostResult<DeviceToken> token = fleet_->issue_device_token(DeviceId{"dev-1"}, d.secret, now_);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->expires_at, now_ + 24 * 3600);
  HostResult<DeviceId> who = fleet_->authenticate_device(token->token, now_ + 10);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->value, "dev-1");
  EXPECT_EQ(fleet_->authenticate_device(token->token, token->expires_at).error().code,
            ErrorCode::kApiUnauthorized);
  std::string forged = token->token;
  forged.back() = forged.back() == 'a' ? 'b' : 'a';
  EXPECT_FALSE(fleet_->authenticate_device(forged, now_).ok());
  EXPECT_FALSE(fleet_->authenticate_device("", now_).ok());

  HostResult<DeviceToken> wrong =
      fleet_->issue_device_token(DeviceId{"dev-1"}, "not-the-secret", now_);
  HostResult<DeviceToken> unknown = fleet_->issue_device_token(DeviceId{"dev-9"}, d.secret, now_);
  ASSERT_FALSE(wrong.ok());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(wrong.error().message, unknown.error().message);  // no probing for ids
}

TEST_F(FleetServiceTest, TagsAreReplacedWholeAndAudited) {
  add_product("meter");
  add_device("dev-1", "meter", "board-a", {"north"});
  HostResult<Device> tagged = fleet_->set_tags(DeviceId{"dev-1"}, {"south", "pilot"}, "bob", now_);
  ASSERT_TRUE(tagged.ok());
  EXPECT_EQ(tagged->tags, (std::vector<std::string>{"pilot", "south"}));  // kept sorted
  EXPECT_EQ(fleet_->set_tags(DeviceId{"dev-9"}, {"x"}, "bob", now_).error().code,
            ErrorCode::kApiNotFound);
  EXPECT_EQ(fleet_->set_tags(DeviceId{"dev-1"}, {""}, "bob", now_).error().code,
            ErrorCode::kApiBadRequest);
  EXPECT_EQ(fleet_->audit(1, 0)->front().action, "device.tags");
}

TEST_F(FleetServiceTest, DeviceListFiltersByProductAndCountsTheTotal) {
  add_product("meter");
  add_product("gateway", "linux");
  for (int i = 0; i < 5; ++i) add_device("m-" + std::to_string(i), "meter");
  add_device("g-0", "gateway", "board-g");
  DeviceQuery q;
  q.product = "meter";
  q.filter.limit = 2;
  HostResult<DevicePage> page = fleet_->devices(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->devices.size(), 2u);
  EXPECT_EQ(page->total, 5u);
  q.product = "no-such-product";
  EXPECT_EQ(fleet_->devices(q)->total, 0u);
}

TEST_F(FleetServiceTest, AdminTokensHaveRolesAndOnlyTheirHashIsStored) {
  HostResult<std::optional<std::string>> admin = fleet_->bootstrap_admin_token(now_);
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE(admin->has_value());
  EXPECT_FALSE(fleet_->bootstrap_admin_token(now_)->has_value()) << "made only once";
  ASSERT_TRUE(fleet_->authorize(**admin, Role::kAdmin).ok());

  HostResult<NewToken> viewer = fleet_->create_token("ci", "viewer", "admin", now_);
  ASSERT_TRUE(viewer.ok());
  EXPECT_EQ(viewer->token.token_sha256, secret_hash(viewer->secret));
  EXPECT_TRUE(fleet_->authorize(viewer->secret, Role::kViewer).ok());
  HostResult<ApiToken> denied = fleet_->authorize(viewer->secret, Role::kOperator);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, ErrorCode::kApiForbidden);
  EXPECT_EQ(fleet_->authorize("not-a-token", Role::kViewer).error().code,
            ErrorCode::kApiUnauthorized);
  EXPECT_EQ(fleet_->authorize("", Role::kViewer).error().code, ErrorCode::kApiUnauthorized);

  EXPECT_EQ(fleet_->create_token("x", "root", "admin", now_).error().code,
            ErrorCode::kApiBadRequest);
  EXPECT_EQ(fleet_->create_token("", "viewer", "admin", now_).error().code,
            ErrorCode::kApiBadRequest);
  EXPECT_EQ(fleet_->tokens()->size(), 2u);
}

// The finding: a quote in a product name broke the audit log's JSON, and with it
// every read of the log.
TEST_F(FleetServiceTest, RegressionAuditDetailsStayJsonWhateverTheNames) {
  add_product("m\"e\\t'er");
  ReleaseUpload up;
  up.product = "m\"e\\t'er";
  up.version = "1.0.0";
  up.security_counter = 1;
  up.hardware = {"board-a"};
  ASSERT_TRUE(releases_->upload(up, Bytes(100, std::byte{1}), "al\"ice", now_).ok());
  HostResult<std::vector<AuditEvent>> audit = fleet_->audit(10, 0);
  ASSERT_TRUE(audit.ok());
  ASSERT_GE(audit->size(), 2u);
  for (const AuditEvent& e : *audit) {
    const nlohmann::json details = nlohmann::json::parse(e.details, nullptr, false);
    ASSERT_TRUE(details.is_object()) << e.action << ": " << e.details;
    EXPECT_EQ(details.value("product", details.value("name", "")), "m\"e\\t'er") << e.action;
  }
}

}  // namespace
}  // namespace updraft::server
