// FleetService on an in-memory store: products, the one registration path and
// its one rule set, device tokens, admin tokens, the ways credentials end
// (expiry, revocation, secret rotation, decommissioning), event tickets and the
// audit log.
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
  ASSERT_TRUE(fleet_->authorize(**admin, Role::kAdmin, now_).ok());

  HostResult<NewToken> viewer = fleet_->create_token("ci", "viewer", "admin", now_);
  ASSERT_TRUE(viewer.ok());
  EXPECT_EQ(viewer->token.token_sha256, secret_hash(viewer->secret));
  EXPECT_TRUE(fleet_->authorize(viewer->secret, Role::kViewer, now_).ok());
  HostResult<ApiToken> denied = fleet_->authorize(viewer->secret, Role::kOperator, now_);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, ErrorCode::kApiForbidden);
  EXPECT_EQ(fleet_->authorize("not-a-token", Role::kViewer, now_).error().code,
            ErrorCode::kApiUnauthorized);
  EXPECT_EQ(fleet_->authorize("", Role::kViewer, now_).error().code, ErrorCode::kApiUnauthorized);

  EXPECT_EQ(fleet_->create_token("x", "root", "admin", now_).error().code,
            ErrorCode::kApiBadRequest);
  EXPECT_EQ(fleet_->create_token("", "viewer", "admin", now_).error().code,
            ErrorCode::kApiBadRequest);
  EXPECT_EQ(fleet_->tokens()->size(), 2u);
}

TEST_F(FleetServiceTest, AdminTokensExpireAndRecordTheirLastUseAtMostOncePerMinute) {
  HostResult<NewToken> ci = fleet_->create_token("ci", "operator", "admin", now_, now_ + 3600);
  ASSERT_TRUE(ci.ok()) << ci.error().to_string();
  EXPECT_EQ(ci->token.expires_at, now_ + 3600);
  EXPECT_EQ(fleet_->create_token("late", "viewer", "admin", now_, now_).error().code,
            ErrorCode::kApiBadRequest);

  const auto last_use = [&] { return fleet_->tokens()->front().last_used_at; };
  EXPECT_EQ(last_use(), 0) << "never used";
  ASSERT_TRUE(fleet_->authorize(ci->secret, Role::kOperator, now_).ok());
  EXPECT_EQ(last_use(), now_);
  // Cached; within the minute nothing is written, after it once more.
  ASSERT_TRUE(fleet_->authorize(ci->secret, Role::kOperator, now_ + 59).ok());
  EXPECT_EQ(last_use(), now_);
  ASSERT_TRUE(fleet_->authorize(ci->secret, Role::kOperator, now_ + 60).ok());
  EXPECT_EQ(last_use(), now_ + 60);
  // A refused request is no use.
  EXPECT_EQ(fleet_->authorize(ci->secret, Role::kAdmin, now_ + 200).error().code,
            ErrorCode::kApiForbidden);
  EXPECT_EQ(last_use(), now_ + 60);

  ASSERT_TRUE(fleet_->authorize(ci->secret, Role::kViewer, now_ + 3599).ok());
  HostResult<ApiToken> expired = fleet_->authorize(ci->secret, Role::kViewer, now_ + 3600);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, ErrorCode::kApiUnauthorized);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
}

TEST_F(FleetServiceTest, ARevokedTokenIsRefusedAtOnceThoughItWasCached) {
  ASSERT_TRUE(fleet_->bootstrap_admin_token(now_).ok());
  HostResult<NewToken> ci = fleet_->create_token("ci", "operator", "admin", now_);
  ASSERT_TRUE(ci.ok());
  ASSERT_TRUE(fleet_->authorize(ci->secret, Role::kOperator, now_).ok());  // now cached
  HostResult<ApiToken> revoked = fleet_->revoke_token(ci->token.id, "alice", now_ + 5);
  ASSERT_TRUE(revoked.ok()) << revoked.error().to_string();
  EXPECT_EQ(revoked->revoked_at, now_ + 5);
  HostResult<ApiToken> refused = fleet_->authorize(ci->secret, Role::kViewer, now_ + 5);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kApiUnauthorized);
  EXPECT_NE(refused.error().message.find("revoked"), std::string::npos);

  // Again: nothing changes, nothing is audited twice.
  EXPECT_EQ(fleet_->revoke_token(ci->token.id, "alice", now_ + 9)->revoked_at, now_ + 5);
  EXPECT_EQ(fleet_->revoke_token(TokenId{999}, "alice", now_).error().code,
            ErrorCode::kApiNotFound);
  const std::vector<AuditEvent> audit = *fleet_->audit(100, 0);
  std::size_t revocations = 0;
  for (const AuditEvent& e : audit) revocations += e.action == "token.revoke";
  EXPECT_EQ(revocations, 1u);
}

TEST_F(FleetServiceTest, TheLastActiveAdminTokenCannotBeRevokedNotEvenByItself) {
  const std::string first = **fleet_->bootstrap_admin_token(now_);
  const ApiToken first_token = *fleet_->authorize(first, Role::kAdmin, now_);
  HostResult<ApiToken> alone = fleet_->revoke_token(first_token.id, "admin", now_);
  ASSERT_FALSE(alone.ok());
  EXPECT_EQ(alone.error().code, ErrorCode::kApiConflict);

  // An admin token that has expired does not count as another.
  HostResult<NewToken> brief = fleet_->create_token("brief", "admin", "admin", now_, now_ + 10);
  ASSERT_TRUE(brief.ok());
  EXPECT_EQ(fleet_->revoke_token(first_token.id, "admin", now_ + 10).error().code,
            ErrorCode::kApiConflict);
  // With another active admin token, a token may revoke itself.
  HostResult<NewToken> second = fleet_->create_token("second", "admin", "admin", now_);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(fleet_->revoke_token(first_token.id, "admin", now_).ok());
  EXPECT_FALSE(fleet_->authorize(first, Role::kViewer, now_).ok());
  EXPECT_TRUE(fleet_->authorize(second->secret, Role::kAdmin, now_).ok());
}

TEST_F(FleetServiceTest, BootstrapMakesANewAdminTokenOnlyWhenNoneIsUsable) {
  ASSERT_TRUE(fleet_->bootstrap_admin_token(now_)->has_value());
  EXPECT_FALSE(fleet_->bootstrap_admin_token(now_)->has_value());
  HostResult<NewToken> brief = fleet_->create_token("brief", "admin", "admin", now_, now_ + 10);
  ASSERT_TRUE(brief.ok());
  const TokenId first = fleet_->tokens()->front().id;
  ASSERT_TRUE(fleet_->revoke_token(first, "admin", now_).ok());
  EXPECT_FALSE(fleet_->bootstrap_admin_token(now_)->has_value()) << "brief is still active";
  HostResult<std::optional<std::string>> recovered = fleet_->bootstrap_admin_token(now_ + 10);
  ASSERT_TRUE(recovered.ok());
  ASSERT_TRUE(recovered->has_value()) << "every admin token expired or revoked";
  EXPECT_TRUE(fleet_->authorize(**recovered, Role::kAdmin, now_ + 10).ok());
}

TEST_F(FleetServiceTest, RotatingASecretEndsTheOldSecretAndEveryTokenIssuedBefore) {
  add_product("meter");
  const NewDevice d = add_device("dev-1", "meter");
  const DeviceId id{"dev-1"};
  const std::string old_token = fleet_->issue_device_token(id, d.secret, now_)->token;
  ASSERT_TRUE(fleet_->authenticate_device(old_token, now_).ok());

  HostResult<NewDevice> rotated = fleet_->rotate_device_secret(id, "", "alice", now_);
  ASSERT_TRUE(rotated.ok()) << rotated.error().to_string();
  EXPECT_EQ(rotated->secret.size(), 64u);
  EXPECT_EQ(rotated->device.token_generation, 1u);
  EXPECT_EQ(fleet_->authenticate_device(old_token, now_).error().code, ErrorCode::kApiUnauthorized);
  EXPECT_FALSE(fleet_->issue_device_token(id, d.secret, now_).ok());
  HostResult<DeviceToken> fresh = fleet_->issue_device_token(id, rotated->secret, now_);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fleet_->authenticate_device(fresh->token, now_)->value, "dev-1");

  // A chosen secret, and the rules for it.
  EXPECT_EQ(fleet_->rotate_device_secret(id, "short", "alice", now_).error().code,
            ErrorCode::kApiBadRequest);
  EXPECT_EQ(fleet_->rotate_device_secret(DeviceId{"dev-9"}, "", "alice", now_).error().code,
            ErrorCode::kApiNotFound);
  ASSERT_TRUE(fleet_->rotate_device_secret(id, "the-operators-own-secret", "alice", now_).ok());
  EXPECT_FALSE(fleet_->authenticate_device(fresh->token, now_).ok());
  EXPECT_TRUE(fleet_->issue_device_token(id, "the-operators-own-secret", now_).ok());
  EXPECT_EQ(fleet_->audit(1, 0)->front().action, "device.rotate_secret");
}

TEST_F(FleetServiceTest, EndedTokensStayEndedForAServiceStartedLater) {
  add_product("meter");
  const NewDevice d = add_device("dev-1", "meter");
  add_device("dev-2", "meter");
  const std::string old_token =
      fleet_->issue_device_token(DeviceId{"dev-1"}, d.secret, now_)->token;
  ASSERT_TRUE(fleet_->rotate_device_secret(DeviceId{"dev-1"}, "", "alice", now_).ok());
  // A new service on the same store (a restart) knows only what the store says.
  FleetService restarted(*store_, *device_tokens_);
  EXPECT_FALSE(restarted.authenticate_device(old_token, now_).ok());
}

TEST_F(FleetServiceTest, TokensOfAnotherFormatOrGenerationDoNotVerify) {
  add_product("meter");
  const NewDevice d = add_device("dev-1", "meter");
  const std::string token = fleet_->issue_device_token(DeviceId{"dev-1"}, d.secret, now_)->token;
  // "<id>.<generation>.<expiry>.<mac>": the generation is under the MAC.
  const std::size_t generation_dot = token.find('.');
  std::string bumped = token;
  bumped.replace(generation_dot + 1, 1, "1");
  EXPECT_FALSE(fleet_->authenticate_device(bumped, now_).ok());
  // The format of before generations (its MAC over "<id>.<expiry>") is refused,
  // also for an id that looks like "<id>.<generation>".
  const std::string expiry = std::to_string(now_ + 100);
  EXPECT_FALSE(fleet_
                   ->authenticate_device(
                       "dev-1.0." + expiry + "." + device_tokens_->mac("dev-1.0." + expiry), now_)
                   .ok());
  EXPECT_FALSE(fleet_
                   ->authenticate_device(
                       "dev-1." + expiry + "." + device_tokens_->mac("dev-1." + expiry), now_)
                   .ok());
}

TEST_F(FleetServiceTest, DecommissioningEndsTokensCancelsTheDeploymentAndKeepsTheRecord) {
  add_product("meter");
  const NewDevice d = add_device("dev-1", "meter");
  add_device("dev-2", "meter");
  const DeviceId id{"dev-1"};
  const Bytes v1(3000, std::byte{1});
  const Bytes v2(3000, std::byte{2});
  upload("meter", "1.0.0", 1, v1);
  start_campaign(upload("meter", "2.0.0", 2, v2));
  const CheckInAnswer offer = check_in("dev-1", "1.0.0", v1);
  ASSERT_TRUE(offer.update);
  const std::string token = fleet_->issue_device_token(id, d.secret, now_)->token;

  HostResult<DecommissionedDevice> done = fleet_->decommission_device(id, "alice", now_ + 7);
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  EXPECT_EQ(done->device.decommissioned_at, now_ + 7);
  EXPECT_TRUE(done->device.secret_hash.empty());
  ASSERT_EQ(done->canceled.size(), 1u);
  EXPECT_EQ(done->canceled[0].id, offer.deployment);
  EXPECT_EQ(deployment(offer.deployment).state, DeploymentState::kCanceled);

  EXPECT_FALSE(fleet_->authenticate_device(token, now_ + 8).ok());
  HostResult<DeviceToken> again = fleet_->issue_device_token(id, d.secret, now_ + 8);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(
      again.error().message,
      fleet_->issue_device_token(DeviceId{"dev-9"}, "x", now_).error().message);  // one answer
  EXPECT_EQ(fleet_->device(id)->decommissioned_at, now_ + 7) << "the record stays";
  EXPECT_EQ(fleet_->decommission_device(id, "alice", now_ + 9).error().code,
            ErrorCode::kApiConflict);
  EXPECT_EQ(fleet_->rotate_device_secret(id, "", "alice", now_ + 9).error().code,
            ErrorCode::kApiConflict)
      << "a new secret would bring it back";
  EXPECT_EQ(fleet_->decommission_device(DeviceId{"dev-9"}, "alice", now_).error().code,
            ErrorCode::kApiNotFound);
  const AuditEvent audited = fleet_->audit(1, 0)->front();
  EXPECT_EQ(audited.action, "device.decommission");
  EXPECT_NE(audited.details.find(std::to_string(offer.deployment.value)), std::string::npos);
}

TEST_F(FleetServiceTest, EventTicketsAreSingleUseAndLastAMinute) {
  ASSERT_TRUE(fleet_->bootstrap_admin_token(now_).ok());
  HostResult<NewToken> viewer = fleet_->create_token("wall", "viewer", "admin", now_);
  ASSERT_TRUE(viewer.ok());
  const ApiToken who = *fleet_->authorize(viewer->secret, Role::kViewer, now_);

  HostResult<EventTicket> ticket = fleet_->issue_event_ticket(who, now_);
  ASSERT_TRUE(ticket.ok());
  EXPECT_EQ(ticket->expires_at, now_ + 60);
  HostResult<ApiToken> redeemed = fleet_->redeem_event_ticket(ticket->ticket, Role::kViewer, now_);
  ASSERT_TRUE(redeemed.ok()) << redeemed.error().to_string();
  EXPECT_EQ(redeemed->id, who.id);
  EXPECT_EQ(fleet_->redeem_event_ticket(ticket->ticket, Role::kViewer, now_).error().code,
            ErrorCode::kApiUnauthorized)
      << "spent";

  HostResult<EventTicket> late = fleet_->issue_event_ticket(who, now_);
  EXPECT_FALSE(fleet_->redeem_event_ticket(late->ticket, Role::kViewer, now_ + 60).ok());
  EXPECT_FALSE(fleet_->redeem_event_ticket("made-up", Role::kViewer, now_).ok());
  // Another server on the same store (the console's stream behind a load
  // balancer) takes a ticket this one issued; a forged or altered one is refused.
  FleetService other_node(*store_, *device_tokens_);
  HostResult<EventTicket> elsewhere = fleet_->issue_event_ticket(who, now_);
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_EQ(elsewhere->ticket.size(), 96u);
  for (const std::size_t at : {0, 40, 60, 90}) {  // nonce, expiry, token id, MAC
    std::string altered = elsewhere->ticket;
    altered[at] = altered[at] == '9' ? '8' : '9';
    EXPECT_FALSE(other_node.redeem_event_ticket(altered, Role::kViewer, now_).ok()) << at;
  }
  EXPECT_FALSE(other_node.redeem_event_ticket(elsewhere->ticket + "0", Role::kViewer, now_).ok());
  EXPECT_EQ(elsewhere->ticket.find(who.token_sha256.substr(0, 16)), std::string::npos);
  HostResult<ApiToken> there =
      other_node.redeem_event_ticket(elsewhere->ticket, Role::kViewer, now_);
  ASSERT_TRUE(there.ok()) << there.error().to_string();
  EXPECT_EQ(there->id, who.id);
  EXPECT_FALSE(other_node.redeem_event_ticket(elsewhere->ticket, Role::kViewer, now_).ok())
      << "spent on that node";
  DeviceTokens other_key("another server's key, not this database's");
  FleetService stranger(*store_, other_key);
  HostResult<EventTicket> foreign = stranger.issue_event_ticket(who, now_);
  EXPECT_FALSE(fleet_->redeem_event_ticket(foreign->ticket, Role::kViewer, now_).ok());
  // A ticket is worth what its token is worth, when it is used.
  HostResult<EventTicket> orphan = fleet_->issue_event_ticket(who, now_);
  ASSERT_TRUE(fleet_->revoke_token(who.id, "admin", now_).ok());
  EXPECT_FALSE(fleet_->redeem_event_ticket(orphan->ticket, Role::kViewer, now_).ok());
}

TEST(AuthorizationTest, SchemesAreCaseInsensitiveAndNeedCredentials) {
  for (const char* header : {"Bearer abc", "bearer abc", "BEARER abc", "bEaReR   abc"})
    EXPECT_EQ(authorization_credentials(header, "Bearer"), "abc") << header;
  EXPECT_EQ(authorization_credentials("targettoken s3cret", "TargetToken"), "s3cret");
  for (const char* header : {"", "Bearer", "Bearer ", "Bearerabc", "Basic abc", "Bear abc"})
    EXPECT_FALSE(authorization_credentials(header, "Bearer").has_value()) << header;
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
