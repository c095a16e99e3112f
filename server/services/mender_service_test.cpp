// MenderService's rules (docs/api/mender.md) on the whole service layer, with the
// test's clock: signed authentication requests from RSA, ECDSA and Ed25519 keys,
// the pending / accepted / rejected / preauthorized life of a set, JWT expiry,
// deployments/next and the status mapping, logs, and download links.
#include "server/services/mender_service.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <fstream>
#include <memory>

#include "crypto/host/base64.h"
#include "server/services/testing/service_fixture.h"

namespace updraft::server {
namespace {

using nlohmann::json;

// A device's key pair, made with OpenSSL as a client makes its own.
class DeviceKey {
 public:
  explicit DeviceKey(const char* kind) {
    if (std::string(kind) == "rsa") {
      key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
    } else if (std::string(kind) == "ecdsa") {
      key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    } else {
      key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    }
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key_.get());
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    pem_.assign(data, static_cast<std::size_t>(size));
    BIO_free(bio);
  }
  const std::string& pem() const { return pem_; }
  // base64 of the signature over `message`, as X-MEN-Signature carries it.
  std::string sign(const std::string& message) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    const EVP_MD* md = EVP_PKEY_base_id(key_.get()) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
    EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key_.get());
    std::size_t size = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(message.data());
    EVP_DigestSign(ctx.get(), nullptr, &size, in, message.size());
    std::vector<std::byte> out(size);
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &size, in,
                   message.size());
    out.resize(size);
    return base64_encode(out);
  }

 private:
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_{nullptr, EVP_PKEY_free};
  std::string pem_;
};

std::string auth_body(const std::string& mac, const DeviceKey& key) {
  return json{{"id_data", json{{"mac", mac}}.dump()}, {"pubkey", key.pem()}, {"tenant_token", ""}}
      .dump();
}

class MenderServiceTest : public testing::ServiceFixture {
 protected:
  void SetUp() override {
    ServiceFixture::SetUp();
    mender_ = std::make_unique<MenderService>(*store_, *fleet_, *updates_, *device_tokens_);
    add_product("gw-test", "linux");
  }
  void TearDown() override {
    mender_.reset();
    ServiceFixture::TearDown();
  }
  // Asks, is accepted by the operator, asks again: the device and its token.
  std::pair<Device, std::string> admitted(const std::string& mac, const DeviceKey& key) {
    const std::string body = auth_body(mac, key);
    EXPECT_EQ(mender_->authenticate(body, key.sign(body), now_).error().code,
              ErrorCode::kApiUnauthorized);
    const Page<MenderAuthSet> pending = *mender_->auth_sets(AuthSetStatus::kPending, 10, 0);
    EXPECT_EQ(pending.total, 1u);
    const MenderAuthSet set = *mender_->accept(pending.items.at(0).id, "gw-test", "", "op", now_);
    const std::string token = *mender_->authenticate(body, key.sign(body), now_);
    return {*mender_->device_of("Bearer " + token, now_), token};
  }
  // A release made as a .mender upload makes it (the artifact's name kept).
  Release mender_release(const std::string& version, const std::string& name) {
    ReleaseUpload up;
    up.product = "gw-test";
    up.version = version;
    up.hardware = {"gw-test"};
    up.mender_artifact_name = name;
    const std::string bytes = "artifact " + name;
    HostResult<Release> r =
        releases_->upload(up, as_bytes_view(bytes.data(), bytes.size()), "test", now_);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return *r;
  }

  std::vector<Deployment> deployments_of(CampaignId campaign) {
    DeploymentFilter filter;
    filter.campaign = campaign;
    return *store_->deployments(filter);
  }

  std::unique_ptr<MenderService> mender_;
};

TEST_F(MenderServiceTest, EveryKeyKindAuthenticatesOnceAccepted) {
  for (const char* kind : {"rsa", "ecdsa", "ed25519"}) {
    SCOPED_TRACE(kind);
    const DeviceKey key(kind);
    const auto [device, token] = admitted(std::string("02:00:00:00:00:") + kind[0] + kind[1], key);
    EXPECT_EQ(device.product, store_->product_by_name("gw-test")->id);
    EXPECT_EQ(device.hardware, "gw-test");
    EXPECT_EQ(device.id.value.rfind("mender-", 0), 0u);
    // The token is a JWT: three parts, HS256.
    EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  }
}

TEST_F(MenderServiceTest, ABadSignatureOrBodyIsRefusedAndMakesNoSet) {
  const DeviceKey key("rsa"), other("rsa");
  const std::string body = auth_body("02:00:00:00:00:01", key);
  EXPECT_EQ(mender_->authenticate(body, other.sign(body), now_).error().code,
            ErrorCode::kApiUnauthorized);
  EXPECT_EQ(mender_->authenticate(body, key.sign(body + " "), now_).error().code,
            ErrorCode::kApiUnauthorized);
  EXPECT_EQ(mender_->authenticate(body, "", now_).error().code, ErrorCode::kApiUnauthorized);
  EXPECT_EQ(mender_->authenticate(body, "not base64!", now_).error().code,
            ErrorCode::kApiUnauthorized);
  EXPECT_EQ(mender_->auth_sets(std::nullopt, 10, 0)->total, 0u);
  for (const std::string& bad :
       {std::string("{"), json{{"pubkey", key.pem()}}.dump(),
        json{{"id_data", "[]"}, {"pubkey", key.pem()}}.dump(),
        json{{"id_data", R"({"mac":"x"})"}, {"pubkey", "not a key"}}.dump(),
        json{{"id_data", 7}, {"pubkey", key.pem()}}.dump()}) {
    EXPECT_EQ(mender_->authenticate(bad, key.sign(bad), now_).error().code,
              ErrorCode::kApiBadRequest)
        << bad;
  }
}

TEST_F(MenderServiceTest, TokensExpireAndEndWhenTheSetIsRejectedOrTheDeviceDecommissioned) {
  const DeviceKey key("ecdsa");
  auto [device, token] = admitted("02:00:00:00:00:02", key);
  EXPECT_TRUE(mender_->device_of("Bearer " + token, now_ + kMenderTokenSeconds - 1).ok());
  EXPECT_EQ(mender_->device_of("Bearer " + token, now_ + kMenderTokenSeconds).error().code,
            ErrorCode::kApiUnauthorized);
  // A token changed by one character, or none at all.
  std::string forged = token;
  forged[forged.size() / 2] = forged[forged.size() / 2] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(mender_->device_of("Bearer " + forged, now_).ok());
  EXPECT_FALSE(mender_->device_of("", now_).ok());
  EXPECT_FALSE(mender_->device_of("Bearer a.b", now_).ok());

  const MenderAuthSet set = mender_->auth_sets(std::nullopt, 1, 0)->items.at(0);
  ASSERT_TRUE(mender_->reject(set.id, "op", now_).ok());
  EXPECT_EQ(mender_->device_of("Bearer " + token, now_).error().code, ErrorCode::kApiUnauthorized);
  const std::string body = auth_body("02:00:00:00:00:02", key);
  EXPECT_EQ(mender_->authenticate(body, key.sign(body), now_).error().message,
            "the device is rejected");
  // Accepted again, then decommissioned.
  ASSERT_TRUE(mender_->accept(set.id, "", "", "op", now_).ok());
  token = *mender_->authenticate(body, key.sign(body), now_);
  ASSERT_TRUE(fleet_->decommission_device(device.id, "op", now_).ok());
  EXPECT_FALSE(mender_->device_of("Bearer " + token, now_).ok());
  EXPECT_FALSE(mender_->authenticate(body, key.sign(body), now_).ok());
}

TEST_F(MenderServiceTest, APreauthorizedDeviceIsAcceptedOnItsFirstRequest) {
  const DeviceKey key("ed25519");
  // Key order and spacing do not make another identity, nor a key file's lost
  // last newline another key.
  std::string pasted = key.pem();
  pasted.pop_back();
  const HostResult<MenderAuthSet> set =
      mender_->preauthorize(R"({ "serial": "s-1",  "mac": "02:00:00:00:00:03" })", pasted,
                            "gw-test", "rev-b", "op", now_);
  ASSERT_TRUE(set.ok()) << set.error().to_string();
  EXPECT_EQ(set->status, AuthSetStatus::kPreauthorized);
  EXPECT_EQ(fleet_->device(set->device)->hardware, "rev-b");
  EXPECT_EQ(mender_
                ->preauthorize(R"({"mac":"02:00:00:00:00:03","serial":"s-1"})", key.pem(),
                               "gw-test", "", "op", now_)
                .error()
                .code,
            ErrorCode::kApiConflict);
  const std::string body = json{
      {"id_data", R"({"mac":"02:00:00:00:00:03","serial":"s-1"})"},
      {"pubkey", key.pem()}}.dump();
  const HostResult<std::string> token = mender_->authenticate(body, key.sign(body), now_);
  ASSERT_TRUE(token.ok()) << token.error().to_string();
  EXPECT_EQ(mender_->device_of("Bearer " + *token, now_)->id, set->device);
  EXPECT_EQ(store_->auth_set(set->id)->status, AuthSetStatus::kAccepted);
}

TEST_F(MenderServiceTest, InventoryMergesOnPatchAndReplacesOnPut) {
  const auto [device, token] = admitted("02:00:00:00:00:04", DeviceKey("rsa"));
  ASSERT_TRUE(mender_
                  ->put_inventory(device, json::parse(R"([{"name":"device_type","value":"gw-test"},
                                                  {"name":"ipv4","value":["10.0.0.2/24"]}])"),
                                  false, now_)
                  .ok());
  ASSERT_TRUE(
      mender_
          ->put_inventory(device, json::parse(R"([{"name":"kernel","value":"6.1"}])"), false, now_)
          .ok());
  EXPECT_EQ(mender_->inventory(device.id)->size(), 3u);
  ASSERT_TRUE(
      mender_
          ->put_inventory(device, json::parse(R"([{"name":"kernel","value":"6.2"}])"), true, now_)
          .ok());
  const std::vector<InventoryAttribute> now_has = *mender_->inventory(device.id);
  ASSERT_EQ(now_has.size(), 1u);
  EXPECT_EQ(now_has[0].value, R"("6.2")");
  for (const char* bad : {R"({"name":"a"})", R"([{"value":1}])", R"([{"name":"","value":1}])"}) {
    EXPECT_EQ(mender_->put_inventory(device, json::parse(bad), false, now_).error().code,
              ErrorCode::kApiBadRequest)
        << bad;
  }
}

TEST_F(MenderServiceTest, ACampaignTargetedByAnInventoryAttributeReachesOnlyDevicesReportingIt) {
  const auto [old_kernel, token1] = admitted("02:00:00:00:00:0e", DeviceKey("rsa"));
  const auto [new_kernel, token2] = admitted("02:00:00:00:00:0f", DeviceKey("rsa"));
  (void)token1;
  (void)token2;
  ASSERT_TRUE(mender_
                  ->put_inventory(old_kernel, json::parse(R"([{"name":"kernel","value":"6.1"}])"),
                                  false, now_)
                  .ok());
  ASSERT_TRUE(mender_
                  ->put_inventory(new_kernel, json::parse(R"([{"name":"kernel","value":"6.2"}])"),
                                  false, now_)
                  .ok());
  Campaign spec;
  spec.target.inventory = {{"kernel", R"("6.1")"}};
  const Campaign campaign = start_campaign(mender_release("2.0.0", "release-2"), spec);
  const std::vector<Deployment> deployments = deployments_of(campaign.id);
  ASSERT_EQ(deployments.size(), 1u);
  EXPECT_EQ(deployments[0].device, old_kernel.id);
  EXPECT_TRUE(mender_->next(old_kernel, "release-1", "gw-test", now_)->has_value());
  EXPECT_FALSE(mender_->next(new_kernel, "release-1", "gw-test", now_)->has_value());
}

TEST_F(MenderServiceTest, NextOffersTheArtifactAndStatusesMoveTheDeployment) {
  const auto [device, token] = admitted("02:00:00:00:00:05", DeviceKey("rsa"));
  mender_release("1.0.0", "release-1");
  const Release target = mender_release("2.0.0", "release-2");
  EXPECT_FALSE(mender_->next(device, "release-1", "gw-test", now_)->has_value());
  const Campaign campaign = start_campaign(target);
  const HostResult<std::optional<MenderOffer>> offer =
      mender_->next(device, "release-1", "gw-test", now_);
  ASSERT_TRUE(offer.ok()) << offer.error().to_string();
  ASSERT_TRUE(offer->has_value());
  const MenderOffer& o = **offer;
  EXPECT_EQ(o.release.id, target.id);
  EXPECT_EQ(o.expires_at, now_ + kMenderDownloadSeconds);
  EXPECT_NE(o.download_path.find(mender_deployment_id(o.deployment.id)), std::string::npos);
  EXPECT_EQ(o.deployment.campaign, campaign.id);

  const DeploymentId id = o.deployment.id;
  ASSERT_TRUE(mender_->status(device, id, "downloading", now_).ok());
  EXPECT_EQ(deployment(id).state, DeploymentState::kDownloading);
  ASSERT_TRUE(mender_->status(device, id, "pause_before_installing", now_).ok());
  EXPECT_EQ(deployment(id).state, DeploymentState::kDownloading);
  ASSERT_TRUE(mender_->status(device, id, "installing", now_).ok());
  EXPECT_EQ(deployment(id).state, DeploymentState::kInstalling);
  EXPECT_EQ(mender_->status(device, id, "dancing", now_).error().code, ErrorCode::kApiBadRequest);
  ASSERT_TRUE(mender_->status(device, id, "success", now_).ok());
  EXPECT_EQ(deployment(id).state, DeploymentState::kSucceeded);
  EXPECT_TRUE(mender_->status(device, id, "success", now_).ok()) << "a retried final status";
  EXPECT_EQ(mender_->status(device, id, "installing", now_).error().code, ErrorCode::kApiConflict);
  // Running the target: nothing more to do.
  EXPECT_FALSE(mender_->next(device, "release-2", "gw-test", now_)->has_value());
}

TEST_F(MenderServiceTest, AFailureKeepsTheClientsLogAndItsErrorsAsTheMessage) {
  const auto [device, token] = admitted("02:00:00:00:00:06", DeviceKey("rsa"));
  start_campaign(mender_release("2.0.0", "release-2"));
  const MenderOffer offer = **mender_->next(device, "release-1", "gw-test", now_);
  ASSERT_TRUE(mender_->status(device, offer.deployment.id, "failure", now_).ok());
  ASSERT_TRUE(mender_
                  ->log(device, offer.deployment.id,
                        {{"2026-12-03T10:00:00Z", "info", "Running Mender client"},
                         {"2026-12-03T10:00:01Z", "error", "invalid checksum"}},
                        now_)
                  .ok());
  const Deployment failed = deployment(offer.deployment.id);
  EXPECT_EQ(failed.state, DeploymentState::kFailed);
  EXPECT_EQ(failed.error, error_number(ErrorCode::kAgentClientReportedFailure));
  EXPECT_EQ(failed.message, "invalid checksum");
  const LogPage log = *store_->deployment_log(offer.deployment.id, 10, 0);
  ASSERT_EQ(log.total, 2u);
  EXPECT_EQ(log.lines[1].line, "2026-12-03T10:00:01Z error invalid checksum");
}

TEST_F(MenderServiceTest, AWrongDeviceTypeOrAnUpdraftImageEndsTheDeploymentWithWhy) {
  const auto [device, token] = admitted("02:00:00:00:00:07", DeviceKey("rsa"));
  const Campaign campaign = start_campaign(mender_release("2.0.0", "release-2"));
  EXPECT_FALSE(mender_->next(device, "release-1", "other-type", now_)->has_value());
  Deployment dep = deployments_of(campaign.id).at(0);
  EXPECT_EQ(dep.state, DeploymentState::kFailed);
  EXPECT_EQ(dep.message, "the artifact is not for device type other-type");

  const auto [second, token2] = admitted("02:00:00:00:00:08", DeviceKey("rsa"));
  (void)token2;
  Campaign spec;
  spec.target.devices = {second.id};
  const Campaign image_campaign = start_campaign(
      upload("gw-test", "3.0.0", 0, testing::Bytes(100, std::byte{7}), {"gw-test"}), spec);
  EXPECT_FALSE(mender_->next(second, "release-1", "gw-test", now_)->has_value());
  dep = deployments_of(image_campaign.id).at(0);
  EXPECT_EQ(dep.state, DeploymentState::kFailed);
  EXPECT_EQ(dep.message, "release 3.0.0 is not a Mender artifact");
}

TEST_F(MenderServiceTest, ADownloadLinkHoldsUntilItExpiresAndOnlyWithItsMac) {
  const auto [device, token] = admitted("02:00:00:00:00:09", DeviceKey("rsa"));
  start_campaign(mender_release("2.0.0", "release-2"));
  const MenderOffer offer = **mender_->next(device, "release-1", "gw-test", now_);
  const std::string& path = offer.download_path;
  const std::string mac = path.substr(path.find("signature=") + 10);
  const HostResult<DeltaCache::Artifact> file =
      mender_->download(offer.deployment.id, offer.expires_at, mac, now_);
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  EXPECT_EQ(file->sha256, offer.release.sha256);
  EXPECT_EQ(
      mender_->download(offer.deployment.id, offer.expires_at, mac, offer.expires_at).error().code,
      ErrorCode::kApiGone);
  EXPECT_EQ(mender_->download(offer.deployment.id, offer.expires_at + 1, mac, now_).error().code,
            ErrorCode::kApiForbidden);
  EXPECT_EQ(
      mender_->download(DeploymentId{offer.deployment.id.value + 1}, offer.expires_at, mac, now_)
          .error()
          .code,
      ErrorCode::kApiForbidden);
}

TEST(MenderDeploymentIdTest, RoundTripsAndRefusesOtherText) {
  for (std::int64_t id : {1LL, 42LL, 0xffffffffffLL}) {
    const std::string text = mender_deployment_id(DeploymentId{id});
    EXPECT_EQ(text.size(), 36u);
    EXPECT_EQ(parse_mender_deployment_id(text)->value, id);
  }
  EXPECT_EQ(parse_mender_deployment_id("17")->value, 17);
  EXPECT_EQ(parse_mender_deployment_id("281474976710655")->value, kMaxMenderDeploymentId);
  // The fuzzer's find: a decimal id past 48 bits had no Mender form to go back to.
  for (const char* bad :
       {"", "0", "-1", "x", "281474976710656", "4444444444444444444",
        "00000000-0000-4000-8000-00000000002g", "00000000-0000-4000-8000-0000000002a"}) {
    EXPECT_FALSE(parse_mender_deployment_id(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace updraft::server
