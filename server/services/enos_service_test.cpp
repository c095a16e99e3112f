// EnosService on an in-memory store: identity by assetId and serial, the
// version ids, what /checkversion offers and signs, the limit of concurrent
// upgrades, and how download and update results move a deployment. The wire
// shapes are tested in tests/integration/enos_test.cpp.
#include "server/services/enos_service.h"

#include <gtest/gtest.h>

#include "core/host/file.h"
#include "core/host/hex.h"
#include "crypto/host/legacy_digests.h"
#include "server/services/testing/service_fixture.h"

namespace updraft::server {
namespace {

using testing::Bytes;
using testing::ServiceFixture;

class EnosServiceTest : public ServiceFixture {
 protected:
  void SetUp() override {
    ServiceFixture::SetUp();
    v1_ = test_images::firmware_like(32 * 1024, 1);
    v2_ = test_images::spread_changes(v1_, 400, 2500, 2);
    product_ = add_product("meter");
    r1_ = upload("meter", "1.0.0", 1, v1_, {"board-a"}, "v1.0.0.3");
    r2_ = upload("meter", "2.0.0", 2, v2_, {"board-a"}, "v2.0.0.1");
  }

  void add_sub_device(const std::string& id) {
    add_device(id, "meter");
    ASSERT_TRUE(fleet_->set_serial(DeviceId{id}, "SN-" + id, "test", now_).ok());
  }
  static EnosIdentity who(const std::string& id, std::optional<std::string> serial = {}) {
    EnosIdentity w;
    w.asset_id = id;
    w.serial = serial ? serial : std::optional<std::string>("SN-" + id);
    return w;
  }
  EnosCheck check(const std::string& id, const std::string& version = "v1.0.0.3") {
    HostResult<EnosCheck> c = enos_->check_version(who(id), version, now_);
    EXPECT_TRUE(c.ok()) << c.error().to_string();
    return c.ok() ? *c : EnosCheck{};
  }
  std::string id_of(const EnosCheck& c) {
    return c.download_url.substr(c.download_url.rfind('/') + 1);
  }
  Deployment deployment_of(const EnosCheck& c) {
    return deployment(*enos_->deployment_of(id_of(c)));
  }
  EnosSettings settings() { return *enos_->settings(product_.id); }
  void save(const EnosSettings& s) {
    ASSERT_TRUE(enos_->set_settings(product_, s, "admin", now_).ok());
  }
  std::size_t refusals() {
    const HostResult<std::vector<AuditEvent>> audit = fleet_->audit(1000, 0);
    EXPECT_TRUE(audit.ok());
    std::size_t n = 0;
    if (audit.ok()) {
      for (const AuditEvent& e : audit.value()) n += e.action == "enos.refused";
    }
    return n;
  }

  Bytes v1_, v2_;
  Product product_;
  Release r1_, r2_;
};

TEST_F(EnosServiceTest, VersionIdsRoundTripAndCannotBeWalked) {
  for (std::int64_t id :
       {std::int64_t{1}, std::int64_t{7}, std::int64_t{1234567}, std::int64_t{9'000'000'000}}) {
    const std::string text = enos_->version_id(DeploymentId{id});
    EXPECT_EQ(text.size(), std::to_string(id).size() + 6);
    EXPECT_EQ(enos_->deployment_of(text), DeploymentId{id});
  }
  const std::string seven = enos_->version_id(DeploymentId{7});
  EXPECT_FALSE(enos_->deployment_of("8" + seven.substr(1)));  // another id, the same check
  std::string tampered = seven;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_FALSE(enos_->deployment_of(tampered));
  for (const char* bad : {"", "7", "abc", "-1000000", "00000070000000"})
    EXPECT_FALSE(enos_->deployment_of(bad)) << bad;
}

TEST_F(EnosServiceTest, WithoutACampaignTheAnswerIsNoUpdateWithTheReportedVersion) {
  add_sub_device("ZR3c5CfFSO");
  const EnosCheck c = check("ZR3c5CfFSO", "1.0.0");
  EXPECT_FALSE(c.update);
  EXPECT_EQ(c.asset_id, "ZR3c5CfFSO");
  EXPECT_EQ(c.version, "1.0.0");
  EXPECT_EQ(c.sign_method, "");
  EXPECT_EQ(c.sign, "");
  EXPECT_EQ(c.download_url, "");
}

TEST_F(EnosServiceTest, AnEmptyAssetIdIsResolvedByTheSerialNumber) {
  add_sub_device("ZR3c5CfFSO");
  EnosIdentity by_serial;
  by_serial.serial = "SN-ZR3c5CfFSO";
  HostResult<EnosCheck> c = enos_->check_version(by_serial, "1.0.0", now_);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->asset_id, "ZR3c5CfFSO");
}

TEST_F(EnosServiceTest, IdentityFailuresAllLookTheSameAndAreAudited) {
  add_sub_device("dev-1");
  add_device("bare", "meter");  // no serial registered
  const std::vector<EnosIdentity> refused = {who("dev-1", "SN-wrong"), who("ghost"),
                                             who("bare", "SN-bare"), who("", "SN-nobody")};
  std::string message;
  for (const EnosIdentity& w : refused) {
    HostResult<EnosCheck> c = enos_->check_version(w, "1.0.0", now_);
    ASSERT_FALSE(c.ok()) << w.asset_id;
    EXPECT_EQ(c.error().code, ErrorCode::kApiNotFound);
    if (message.empty()) message = c.error().message;
    EXPECT_EQ(c.error().message, message) << "a refusal tells nothing about which ids exist";
  }
  EXPECT_EQ(refusals(), refused.size());
  // /checkversion needs the serial; without one it is refused too.
  EnosIdentity no_serial;
  no_serial.asset_id = "dev-1";
  EXPECT_EQ(enos_->check_version(no_serial, "1.0.0", now_).error().code, ErrorCode::kApiNotFound);
  EXPECT_EQ(enos_->check_version(who("dev-1"), "", now_).error().code, ErrorCode::kApiBadRequest);
}

TEST_F(EnosServiceTest, ADecommissionedSubDeviceIsRefusedByAssetIdAndBySerial) {
  add_sub_device("dev-1");
  ASSERT_TRUE(enos_->check_version(who("dev-1", "SN-dev-1"), "1.0.0", now_).ok());
  ASSERT_TRUE(fleet_->decommission_device(DeviceId{"dev-1"}, "admin", now_).ok());
  EnosIdentity by_serial;
  by_serial.serial = "SN-dev-1";
  for (const EnosIdentity& w : {who("dev-1", "SN-dev-1"), by_serial}) {
    HostResult<EnosCheck> c = enos_->check_version(w, "1.0.0", now_);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, ErrorCode::kApiNotFound);  // the same refusal as an unknown id
  }
}

TEST_F(EnosServiceTest, ABearerTokenStandsInForAssetIdAndSerial) {
  add_device("dev-1", "meter");
  EnosIdentity w;
  w.token_device = DeviceId{"dev-1"};
  EXPECT_TRUE(enos_->check_version(w, "1.0.0", now_).ok());
  w.asset_id = "dev-2";  // the body names another device
  EXPECT_EQ(enos_->check_version(w, "1.0.0", now_).error().code, ErrorCode::kApiNotFound);
}

TEST_F(EnosServiceTest, AProductMayLetUnknownSubDevicesRegisterWithTheirSerial) {
  EXPECT_EQ(enos_->check_version(who("new-1"), "1.0.0", now_).error().code,
            ErrorCode::kApiNotFound);  // off by default
  EnosSettings s = settings();
  s.auto_register = true;
  s.hardware = "board-a";
  save(s);
  ASSERT_TRUE(enos_->check_version(who("new-1"), "1.0.0", now_).ok());
  const Device d = *fleet_->device(DeviceId{"new-1"});
  EXPECT_EQ(d.serial, "SN-new-1");
  EXPECT_EQ(d.hardware, "board-a");
  EXPECT_EQ(d.product, product_.id);
  // Its serial is now its own: another id may not claim it.
  EXPECT_EQ(enos_->check_version(who("new-2", "SN-new-1"), "1.0.0", now_).error().code,
            ErrorCode::kApiNotFound);
  EnosIdentity unsent;
  unsent.asset_id = "new-3";
  unsent.serial = std::nullopt;
  EXPECT_FALSE(enos_->check_version(unsent, "1.0.0", now_).ok());
}

TEST_F(EnosServiceTest, AnUpdateIsSignedOverExactlyTheBytesServed) {
  add_sub_device("dev-1");
  start_campaign(r2_);
  const EnosCheck c = check("dev-1");
  ASSERT_TRUE(c.update);
  EXPECT_EQ(c.version, "v2.0.0.1");
  EXPECT_EQ(c.sign_method, "MD5");
  EXPECT_EQ(c.download_url.rfind("/version/", 0), 0u) << c.download_url;
  HostResult<EnosFile> file = enos_->version_file(id_of(c), nullptr, true, now_);
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  // Full image by default: the product has not allowed deltas for EnOS devices.
  EXPECT_EQ(*read_file(file->path), v2_);
  EXPECT_EQ(c.sign, legacy_digests_of_file(file->path)->md5);
  EXPECT_EQ(deployment_of(c).channel, "enos");

  EnosSettings s = settings();
  s.sign_method = "SHA256";
  s.download_base = "http://10.0.0.2:5055/";
  save(s);
  const EnosCheck again = check("dev-1");
  EXPECT_EQ(again.sign_method, "SHA256");
  EXPECT_EQ(again.sign, sha256_hex(v2_));
  EXPECT_EQ(again.download_url, "http://10.0.0.2:5055/version/" + id_of(c));
}

TEST_F(EnosServiceTest, WithDeltasAllowedADeltaFromTheReportedVersionIsServedAndSigned) {
  UpdateSettings settings;
  settings.delta_wait = std::chrono::seconds(30);
  build(settings);
  product_ = add_product("meter");
  r1_ = upload("meter", "1.0.0", 1, v1_, {"board-a"}, "v1.0.0.3");
  r2_ = upload("meter", "2.0.0", 2, v2_, {"board-a"}, "v2.0.0.1");
  EnosSettings s;
  s.allow_delta = true;
  save(s);
  add_sub_device("dev-1");
  start_campaign(r2_);
  const EnosCheck c = check("dev-1", "v1.0.0.3");
  ASSERT_TRUE(c.update);
  HostResult<EnosFile> file = enos_->version_file(id_of(c), nullptr, true, now_);
  ASSERT_TRUE(file.ok());
  EXPECT_LT(file->size, v2_.size() / 2);
  EXPECT_EQ(deployment_of(c).artifact_kind, "delta");
  EXPECT_EQ(c.sign, legacy_digests_of_file(file->path)->md5);
}

TEST_F(EnosServiceTest, AtMostFiveUpgradeAtOnceAndASlotFreesAtTheEndOrAfterTheTimeout) {
  for (int i = 0; i < 7; ++i) add_sub_device("dev-" + std::to_string(i));
  start_campaign(r2_);
  std::vector<EnosCheck> offers;
  for (int i = 0; i < 6; ++i) offers.push_back(check("dev-" + std::to_string(i)));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(offers[i].update) << i;
  EXPECT_FALSE(offers[5].update) << "the sixth waits";
  EXPECT_TRUE(check("dev-0").update) << "a device holding a slot keeps it";
  EXPECT_FALSE(check("dev-5").update);

  // dev-0 finishes: its slot goes to the next that asks.
  EnosUpdateResult done{"v2.0.0.1", "update completed", 2, 100, "0"};
  ASSERT_TRUE(enos_->update_result(who("dev-0"), done, now_).ok());
  EXPECT_TRUE(check("dev-5").update);
  EXPECT_FALSE(check("dev-6").update);

  // The others go silent: after the timeout their slots are free again.
  now_ += settings().upgrade_timeout_seconds + 1;
  EXPECT_TRUE(check("dev-6").update);
}

TEST_F(EnosServiceTest, DownloadResultsMoveTheDeploymentOrFailItWithTheMessage) {
  add_sub_device("dev-1");
  add_sub_device("dev-2");
  start_campaign(r2_);
  const EnosCheck one = check("dev-1"), two = check("dev-2");
  ASSERT_TRUE(
      enos_->download_result(id_of(one), who("dev-1", std::nullopt), 1, "download success", now_)
          .ok());
  EXPECT_EQ(deployment_of(one).state, DeploymentState::kInstalling);
  // Another device's version id is unknown to this one.
  EXPECT_EQ(enos_->download_result(id_of(two), who("dev-1"), 1, "", now_).error().code,
            ErrorCode::kApiNotFound);
  EXPECT_EQ(enos_->download_result(id_of(two), who("dev-2"), 2, "", now_).error().code,
            ErrorCode::kApiBadRequest);
  ASSERT_TRUE(enos_->download_result(id_of(two), who("dev-2"), 0, "download fail", now_).ok());
  const Deployment failed = deployment_of(two);
  EXPECT_EQ(failed.state, DeploymentState::kFailed);
  EXPECT_EQ(failed.error, 541);
  EXPECT_EQ(failed.message, "download fail");
  EXPECT_EQ(enos_->download_result(id_of(two), who("dev-2"), 1, "", now_).error().code,
            ErrorCode::kApiNotAcceptable);
}

TEST_F(EnosServiceTest, SuccessNeedsProcessOneHundredAndTheTargetVersion) {
  add_sub_device("dev-1");
  start_campaign(r2_);
  const EnosCheck c = check("dev-1");
  const auto result = [&](const std::string& version, int flag, int process,
                          const std::string& errcode = "0") {
    return enos_->update_result(who("dev-1", std::nullopt),
                                EnosUpdateResult{version, "desc", flag, process, errcode}, now_);
  };
  ASSERT_TRUE(result("", 1, 60).ok());
  EXPECT_EQ(deployment_of(c).state, DeploymentState::kInstalling);
  EXPECT_EQ(deployment_of(c).progress, 60);
  EXPECT_EQ(result("v2.0.0.1", 2, 99).error().code, ErrorCode::kApiNotAcceptable);
  EXPECT_EQ(result("v1.0.0.3", 2, 100).error().code, ErrorCode::kApiNotAcceptable);
  EXPECT_EQ(deployment_of(c).state, DeploymentState::kInstalling) << "no success recorded";
  EXPECT_EQ(result("v2.0.0.1", 3, 100).error().code, ErrorCode::kApiBadRequest);
  EXPECT_EQ(result("v2.0.0.1", 1, 101).error().code, ErrorCode::kApiBadRequest);
  ASSERT_TRUE(result("v2.0.0.1", 2, 100).ok());
  EXPECT_EQ(deployment_of(c).state, DeploymentState::kSucceeded);
  EXPECT_EQ(result("v1.0.0.3", 0, 0).error().code, ErrorCode::kApiNotAcceptable);
}

TEST_F(EnosServiceTest, AFailureKeepsTheDevicesErrorCodeAndDescription) {
  add_sub_device("dev-1");
  start_campaign(r2_);
  const EnosCheck c = check("dev-1");
  ASSERT_TRUE(enos_
                  ->update_result(who("dev-1", std::nullopt),
                                  EnosUpdateResult{"v1.0.0.3", "during upgrade", 0, 0, "E42"}, now_)
                  .ok());
  const Deployment d = deployment_of(c);
  EXPECT_EQ(d.state, DeploymentState::kFailed);
  EXPECT_EQ(d.error, 540);
  EXPECT_EQ(d.message, "errcode E42: during upgrade");
  // The words the device sent are its deployment's log too.
  const LogPage log = *store_->deployment_log(d.id, 10, 0);
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_EQ(log.lines[0].line, "errcode E42: during upgrade");
}

TEST_F(EnosServiceTest, AGetMarksTheDownloadAHeadDoesNot) {
  add_sub_device("dev-1");
  start_campaign(r2_);
  const EnosCheck c = check("dev-1");
  ASSERT_TRUE(enos_->version_file(id_of(c), nullptr, true, now_).ok());
  EXPECT_EQ(deployment_of(c).state, DeploymentState::kPending);
  const EnosIdentity mine = who("dev-1", std::nullopt);
  ASSERT_TRUE(enos_->version_file(id_of(c), &mine, false, now_).ok());
  EXPECT_EQ(deployment_of(c).state, DeploymentState::kDownloading);
  add_sub_device("dev-2");
  const EnosIdentity theirs = who("dev-2", std::nullopt);
  EXPECT_EQ(enos_->version_file(id_of(c), &theirs, false, now_).error().code,
            ErrorCode::kApiNotFound);
}

TEST_F(EnosServiceTest, SettingsAreCheckedNamingTheField) {
  for (const auto& [body, field] : std::vector<std::pair<nlohmann::json, std::string>>{
           {{{"sign_method", "SHA1"}}, "sign_method:"},
           {{{"download_base", "ftp://x"}}, "download_base:"},
           {{{"max_concurrent", 0}}, "max_concurrent:"},
           {{{"upgrade_timeout_seconds", 5}}, "upgrade_timeout_seconds:"},
           {{{"auto_register", true}}, "hardware:"},
           {{{"hardware", "a b"}}, "hardware:"}}) {
    HostResult<EnosSettings> s = enos_settings_from_json(body);
    ASSERT_FALSE(s.ok()) << body.dump();
    EXPECT_EQ(s.error().message.rfind(field, 0), 0u) << s.error().message;
  }
  HostResult<EnosSettings> ok = enos_settings_from_json({{"max_concurrent", 2}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->max_concurrent, 2u);
  EXPECT_EQ(ok->sign_method, "MD5");
}

}  // namespace
}  // namespace updraft::server
