// UpdateService on an in-memory store: every check-in decision (nothing to do,
// delta or full, phase, window, concurrency cap, deferral) and the reports that
// move a deployment. No process, no socket.
#include "server/services/update_service.h"

#include <gtest/gtest.h>

#include <ctime>
#include <thread>

#include "crypto/host/openssl_verifier.h"
#include "manifest/manifest.h"
#include "manifest/root_metadata.h"
#include "manifest/verifier.h"
#include "server/services/testing/service_fixture.h"

namespace updraft::server {
namespace {

using testing::Bytes;
using testing::ServiceFixture;

class UpdateServiceTest : public ServiceFixture {
 protected:
  void SetUp() override {
    ServiceFixture::SetUp();
    UpdateSettings settings;
    settings.delta_wait = std::chrono::seconds(30);  // the first check-in waits for its build
    build(settings);
    v1_ = test_images::firmware_like(64 * 1024, 1);
    v2_ = test_images::spread_changes(test_images::insert_blocks(v1_, 4, 300, 2), 500, 3000, 3);
    add_product("meter");
    r1_ = upload("meter", "1.0.0", 1, v1_);
    r2_ = upload("meter", "2.0.0", 2, v2_);
  }

  Bytes v1_, v2_;
  Release r1_, r2_;
};

TEST_F(UpdateServiceTest, WithoutACampaignThereIsNothingToDo) {
  add_device("dev-1", "meter");
  const CheckInAnswer a = check_in("dev-1", "1.0.0", v1_);
  EXPECT_FALSE(a.update);
  EXPECT_EQ(a.reason, "no update");
  EXPECT_EQ(a.poll_seconds, updates_->settings().poll_seconds);
  EXPECT_EQ(metrics_.check_ins.load(), 1u);
}

TEST_F(UpdateServiceTest, AnUnregisteredDeviceIsRefused) {
  CheckInRequest request;
  HostResult<CheckInAnswer> a = updates_->check_in(DeviceId{"ghost"}, request, now_);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, ErrorCode::kApiUnauthorized);
}

TEST_F(UpdateServiceTest, AKnownImageGetsADeltaAndAnUnknownOneTheFullImage) {
  add_device("dev-1", "meter");
  add_device("dev-2", "meter");
  start_campaign(r2_);
  const CheckInAnswer delta = check_in("dev-1", "1.0.0", v1_);
  ASSERT_TRUE(delta.update) << delta.reason;
  EXPECT_EQ(delta.kind, "delta");
  EXPECT_EQ(delta.version, "2.0.0");
  EXPECT_LT(delta.artifact_size, v2_.size() / 4);
  EXPECT_EQ(delta.poll_seconds, updates_->settings().active_poll_seconds);

  const CheckInAnswer full = check_in("dev-2", "0.9.0", test_images::random_bytes(1000, 9));
  ASSERT_TRUE(full.update);
  EXPECT_EQ(full.kind, "full");
  EXPECT_EQ(full.artifact_size, v2_.size());
  EXPECT_EQ(full.artifact_sha256, r2_.sha256);
  EXPECT_EQ(metrics_.offers_delta.load(), 1u);
  EXPECT_EQ(metrics_.offers_full.load(), 1u);

  // The file served is the one offered, for this device only.
  HostResult<DeltaCache::Artifact> file = updates_->artifact(DeviceId{"dev-1"}, delta.deployment);
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  EXPECT_EQ(file->kind, DeltaCache::Artifact::Kind::kDelta);
  EXPECT_EQ(file->sha256, delta.artifact_sha256);
  EXPECT_EQ(updates_->artifact(DeviceId{"dev-2"}, delta.deployment).error().code,
            ErrorCode::kApiNotFound);
}

TEST_F(UpdateServiceTest, TheAnswerIsASignedManifestTheDeviceAccepts) {
  add_device("dev-1", "meter");
  start_campaign(r2_);
  const CheckInAnswer a = check_in("dev-1", "1.0.0", v1_);
  ASSERT_TRUE(a.update);
  manifest::Manifest m;
  ASSERT_TRUE(manifest::parse_manifest(a.manifest, m).ok());
  manifest::RootMetadata root;
  ASSERT_TRUE(manifest::parse_root(keys_->root_metadata(), root).ok());
  OpenSslVerifier verifier;
  manifest::DeviceState device;
  device.product = "meter";
  device.hardware = "board-a";
  device.security_counter = 1;
  device.installed_version = manifest::parse_semver("1.0.0").value();
  device.running_image_hash = Sha256::digest(v1_);
  const manifest::CheckIn check_in{static_cast<std::uint64_t>(now_), 42};
  EXPECT_TRUE(manifest::verify_manifest(m, root, verifier, device, check_in).ok());
  EXPECT_TRUE(m.is_delta);
  // Another nonce is another check-in: the answer does not replay.
  EXPECT_EQ(manifest::verify_manifest(m, root, verifier, device, {check_in.now, 43}).error(),
            ErrorCode::kManifestNonceMismatch);
}

TEST_F(UpdateServiceTest, ADeviceWaitsForItsPhase) {
  for (int i = 0; i < 4; ++i) add_device("dev-" + std::to_string(i), "meter");
  Campaign spec;
  spec.phases = {{PhaseSpec::Kind::kCount, 1}, {PhaseSpec::Kind::kPercent, 100}};
  start_campaign(r2_, spec);
  std::size_t offered = 0, waiting = 0;
  for (int i = 0; i < 4; ++i) {
    const CheckInAnswer a = check_in("dev-" + std::to_string(i), "1.0.0", v1_);
    offered += a.update;
    waiting += a.reason == "waiting for its phase";
  }
  EXPECT_EQ(offered, 1u);
  EXPECT_EQ(waiting, 3u);
}

TEST_F(UpdateServiceTest, OutsideTheWindowTheDeviceIsToldWhenItOpens) {
  add_device("dev-1", "meter");
  Campaign spec;
  spec.window = {2 * 60, 4 * 60, "UTC"};  // 02:00-04:00
  now_ = kStart - 5 * 3600;               // 03:00: the start releases the first phase
  start_campaign(r2_, spec);
  now_ = kStart;  // 08:00
  const CheckInAnswer closed = check_in("dev-1", "1.0.0", v1_);
  EXPECT_FALSE(closed.update);
  EXPECT_EQ(closed.reason, "outside the maintenance window");
  EXPECT_EQ(closed.poll_seconds, 18 * 3600);
  const CheckInAnswer open = check_in("dev-1", "1.0.0", v1_, now_ + 18 * 3600 + 60);
  EXPECT_TRUE(open.update) << open.reason;
}

TEST_F(UpdateServiceTest, TheConcurrencyCapHoldsBackNewDownloadsButNotAResume) {
  for (int i = 0; i < 3; ++i) add_device("dev-" + std::to_string(i), "meter");
  Campaign spec;
  spec.max_concurrent_downloads = 2;
  start_campaign(r2_, spec);
  for (int i = 0; i < 2; ++i) {
    const CheckInAnswer a = check_in("dev-" + std::to_string(i), "1.0.0", v1_);
    ASSERT_TRUE(a.update) << a.reason;
    report("dev-" + std::to_string(i), a.deployment, "downloading", 0, 10);
  }
  const CheckInAnswer third = check_in("dev-2", "1.0.0", v1_);
  EXPECT_FALSE(third.update);
  EXPECT_EQ(third.reason, "too many devices downloading");
  EXPECT_GT(third.poll_seconds, 0);
  // A device already downloading is resuming: it never waits for itself.
  EXPECT_TRUE(check_in("dev-0", "1.0.0", v1_).update);
}

TEST_F(UpdateServiceTest, ADeferredDeviceIsOfferedAgainAtItsNextCheckIn) {
  add_device("dev-1", "meter");
  start_campaign(r2_);
  const CheckInAnswer first = check_in("dev-1", "1.0.0", v1_);
  ASSERT_TRUE(first.update);
  EXPECT_EQ(report("dev-1", first.deployment, "deferred", 530).state, DeploymentState::kDeferred);
  const CheckInAnswer again = check_in("dev-1", "1.0.0", v1_);
  ASSERT_TRUE(again.update);
  EXPECT_EQ(again.deployment, first.deployment);
  EXPECT_EQ(deployment(first.deployment).attempts, 2);
}

TEST_F(UpdateServiceTest, ReportPhasesMapOntoDeploymentStates) {
  add_device("dev-1", "meter");
  start_campaign(r2_);
  const DeploymentId id = check_in("dev-1", "1.0.0", v1_).deployment;
  EXPECT_EQ(report("dev-1", id, "downloading", 0, 150).progress, 100);  // clamped
  EXPECT_EQ(report("dev-1", id, "downloading", 0, -1).progress, 100);   // unknown: kept
  // A broken link is not the end: the agent resumes by itself.
  EXPECT_EQ(report("dev-1", id, "failure", 403).state, DeploymentState::kDownloading);
  EXPECT_EQ(report("dev-1", id, "failure", 531).state, DeploymentState::kDeferred);
  EXPECT_EQ(report("dev-1", id, "verifying").state, DeploymentState::kInstalling);
  EXPECT_EQ(report("dev-1", id, "rebooting").state, DeploymentState::kRebooting);
  const Deployment failed = report("dev-1", id, "failure", 108);
  EXPECT_EQ(failed.state, DeploymentState::kFailed);
  EXPECT_EQ(failed.error, 108);
  EXPECT_EQ(failed.finished_at, now_);

  DeviceReport late;
  late.phase = "success";
  HostResult<Deployment> gone = updates_->report(DeviceId{"dev-1"}, id, late, now_);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kApiGone);
  late.phase = "dancing";
  EXPECT_FALSE(updates_->report(DeviceId{"dev-1"}, id, late, now_).ok());
}

// Log lines ride on reports: kept per deployment, bounded per report and per
// line, and a long line or message is cut between characters, never inside one
// (a cut character would be stored invalid and break every answer that shows it).
TEST_F(UpdateServiceTest, ReportsCarryLogLinesKeptBoundedAndWholeCharacters) {
  add_device("dev-1", "meter");
  start_campaign(r2_);
  const DeploymentId id = check_in("dev-1", "1.0.0", v1_).deployment;
  DeviceReport r;
  r.phase = "downloading";
  r.log = {"connected", std::string(kMaxLogLineBytes - 1, 'x') + "\xC3\xA9"};
  r.message = std::string(499, 'm') + "\xC3\xA9";
  const Deployment after = updates_->report(DeviceId{"dev-1"}, id, r, now_).value();
  EXPECT_EQ(after.message, std::string(499, 'm')) << "the e-acute would straddle byte 500";
  for (std::size_t i = 0; i < kMaxReportLogLines + 5; ++i)
    r.log.push_back("line " + std::to_string(i));
  r.phase = "verifying";
  ASSERT_TRUE(updates_->report(DeviceId{"dev-1"}, id, r, now_ + 1).ok());

  const LogPage log = store_->deployment_log(id, 1000, 0).value();
  ASSERT_EQ(log.total, 2 + kMaxReportLogLines);
  EXPECT_EQ(log.lines[0].line, "connected");
  EXPECT_EQ(log.lines[0].at, now_);
  EXPECT_EQ(log.lines[1].line, std::string(kMaxLogLineBytes - 1, 'x'));
  EXPECT_EQ(log.lines[2].at, now_ + 1);
  EXPECT_EQ(log.lines.back().line, "line " + std::to_string(kMaxReportLogLines - 3));
  EXPECT_EQ(store_->device_history(DeviceId{"dev-1"}, 10, 0).value().entries.front().state,
            DeploymentState::kInstalling);
}

TEST_F(UpdateServiceTest, ADeviceCannotReportOnAnothersDeployment) {
  add_device("dev-1", "meter");
  add_device("dev-2", "meter");
  start_campaign(r2_);
  const DeploymentId id = check_in("dev-1", "1.0.0", v1_).deployment;
  DeviceReport r;
  r.phase = "success";
  EXPECT_EQ(updates_->report(DeviceId{"dev-2"}, id, r, now_).error().code, ErrorCode::kApiNotFound);
  EXPECT_EQ(deployment(id).state, DeploymentState::kPending);
}

TEST_F(UpdateServiceTest, SuccessSetsTheDevicesVersionWithoutAnotherCheckIn) {
  add_device("dev-1", "meter");
  start_campaign(r2_);
  const DeploymentId id = check_in("dev-1", "1.0.0", v1_).deployment;
  ASSERT_TRUE(statuses_->flush().ok());
  EXPECT_EQ(fleet_->device(DeviceId{"dev-1"})->status.version, "1.0.0");
  EXPECT_EQ(report("dev-1", id, "success").state, DeploymentState::kSucceeded);
  ASSERT_TRUE(statuses_->flush().ok());
  const Device d = *fleet_->device(DeviceId{"dev-1"});
  EXPECT_EQ(d.status.version, "2.0.0");
  EXPECT_EQ(d.status.image_sha256, r2_.sha256);
  EXPECT_EQ(recorded_->count("deployment", "\"state\":\"succeeded\""), 1u);
}

TEST_F(UpdateServiceTest, ACheckInWithTheNewImageCountsAsSuccessWhenTheReportWasLost) {
  add_device("dev-1", "meter");
  start_campaign(r2_);
  const DeploymentId id = check_in("dev-1", "1.0.0", v1_).deployment;
  const CheckInAnswer after = check_in("dev-1", "2.0.0", v2_);
  EXPECT_FALSE(after.update);
  EXPECT_EQ(after.reason, "up to date");
  EXPECT_EQ(deployment(id).state, DeploymentState::kSucceeded);
}

TEST_F(UpdateServiceTest, ACampaignTargetsByTheVersionDevicesJustReported) {
  add_device("dev-1", "meter");
  add_device("dev-2", "meter");
  check_in("dev-1", "1.0.0", v1_);  // queued, not yet written
  check_in("dev-2", "0.9.0", test_images::random_bytes(100, 1));
  Campaign spec;
  spec.target.versions = {"1.0.0"};
  const Campaign c = start_campaign(r2_, spec);
  HostResult<CampaignProgress> progress = campaigns_->progress(c.id);
  ASSERT_TRUE(progress.ok());
  EXPECT_EQ(progress->total, 1u);
  EXPECT_TRUE(check_in("dev-1", "1.0.0", v1_).update);
  EXPECT_FALSE(check_in("dev-2", "0.9.0", test_images::random_bytes(100, 1)).update);
}

TEST_F(UpdateServiceTest, ADeviceIdleBeforeACampaignStartsIsOfferedOnceItDoes) {
  add_device("dev-1", "meter");
  EXPECT_FALSE(check_in("dev-1", "1.0.0", v1_).update);
  EXPECT_FALSE(check_in("dev-1", "1.0.0", v1_).update);  // from the idle cache
  start_campaign(r2_);
  EXPECT_TRUE(check_in("dev-1", "1.0.0", v1_).update);
}

TEST_F(UpdateServiceTest, WhileTheDeltaBuildsTheDeviceIsToldToComeBackSoon) {
  UpdateSettings settings;
  settings.delta_wait = std::chrono::milliseconds(0);
  build(settings);
  add_product("meter");
  upload("meter", "1.0.0", 1, v1_);
  const Release r2 = upload("meter", "2.0.0", 2, v2_);
  add_device("dev-1", "meter");
  Campaign spec;
  spec.release = r2.id;
  spec.name = "no-warm-up";
  spec.phases = {PhaseSpec{}};
  HostResult<CampaignCreated> created = campaigns_->create(spec, "test", now_);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(campaigns_->start(created->campaign.id, "test", now_).ok());
  CheckInAnswer a = check_in("dev-1", "1.0.0", v1_);
  // The start warms the cache; on a slow machine the build is still running.
  for (int i = 0; i < 600 && !a.update; ++i) {
    EXPECT_EQ(a.reason, "preparing the delta");
    EXPECT_EQ(a.poll_seconds, 5);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    a = check_in("dev-1", "1.0.0", v1_);
  }
  ASSERT_TRUE(a.update);
  EXPECT_EQ(a.kind, "delta");
}

// Another server holds the build of the delta (a fresh claim in the shared
// store): a product that says so takes the full image meanwhile; the default
// tells the device to come back.
TEST_F(UpdateServiceTest, WhileTheDeltaBuildsElsewhereTheProductsPolicyDecides) {
  UpdateSettings settings;
  settings.delta_wait = std::chrono::milliseconds(0);
  build(settings);
  DeltaRecord claim;  // both products' releases are the same images: one patch
  claim.from_sha256 = sha256_hex(v1_);
  claim.to_sha256 = sha256_hex(v2_);
  claim.profile = delta::Profile::kMcuTiny;
  claim.state = DeltaState::kBuilding;  // its heartbeat fresh: no worker here takes it
  claim.created_at = claim.last_used_at = static_cast<UnixTime>(std::time(nullptr));
  ASSERT_TRUE(store_->put_delta(claim).ok());
  for (const char* policy : {"full-image", "retry"}) {
    SCOPED_TRACE(policy);
    const std::string product = std::string("meter-") + policy;
    ProductSpec spec;
    spec.name = product;
    spec.while_delta_builds = policy;
    ASSERT_TRUE(fleet_->create_product(spec, "test", now_).ok());
    upload(product, "1.0.0", 1, v1_);
    const Release r2 = upload(product, "2.0.0", 2, v2_);
    const std::string device = std::string("dev-") + policy;
    add_device(device, product);
    Campaign campaign;
    campaign.name = std::string("rollout-") + policy;
    start_campaign(r2, campaign);
    const CheckInAnswer a = check_in(device, "1.0.0", v1_);
    if (std::string(policy) == "full-image") {
      ASSERT_TRUE(a.update) << a.reason;
      EXPECT_EQ(a.kind, "full");
    } else {
      EXPECT_FALSE(a.update);
      EXPECT_EQ(a.reason, "preparing the delta");
    }
  }
  ProductSpec bad;
  bad.name = "meter-bad";
  bad.while_delta_builds = "later";
  EXPECT_EQ(fleet_->create_product(bad, "test", now_).error().code, ErrorCode::kApiBadRequest);
}

// A rootfs-sized delta can take minutes to build. A product's budget bounds how
// long its devices wait: until then they come back (never later than the budget
// runs out), past it they take the full image while the build goes on.
TEST_F(UpdateServiceTest, PastTheProductsBudgetADeltaStillBuildingGivesWayToTheFullImage) {
  UpdateSettings settings;
  settings.delta_wait = std::chrono::milliseconds(0);
  build(settings);
  DeltaRecord claim;  // a build under way elsewhere for 30 s, its heartbeat fresh
  claim.from_sha256 = sha256_hex(v1_);
  claim.to_sha256 = sha256_hex(v2_);
  claim.profile = delta::Profile::kMcuTiny;
  claim.state = DeltaState::kBuilding;
  claim.created_at = now_ - 30;
  claim.last_used_at = static_cast<UnixTime>(std::time(nullptr));
  ASSERT_TRUE(store_->put_delta(claim).ok());
  struct Case {
    std::uint32_t budget;
    bool full;
    std::int64_t poll;
  };
  for (const Case c : {Case{0, false, 5}, Case{60, false, 5}, Case{32, false, 2}, Case{30, true, 0},
                       Case{10, true, 0}}) {
    SCOPED_TRACE(c.budget);
    const std::string product = "meter-" + std::to_string(c.budget);
    ProductSpec spec;
    spec.name = product;
    spec.delta_budget_seconds = c.budget;
    ASSERT_TRUE(fleet_->create_product(spec, "test", now_).ok());
    upload(product, "1.0.0", 1, v1_);
    const Release r2 = upload(product, "2.0.0", 2, v2_);
    const std::string device = "dev-" + std::to_string(c.budget);
    add_device(device, product);
    Campaign campaign;
    campaign.name = "rollout-" + std::to_string(c.budget);
    start_campaign(r2, campaign);
    const CheckInAnswer a = check_in(device, "1.0.0", v1_);
    if (c.full) {
      ASSERT_TRUE(a.update) << a.reason;
      EXPECT_EQ(a.kind, "full");
    } else {
      EXPECT_FALSE(a.update);
      EXPECT_EQ(a.reason, "preparing the delta");
      EXPECT_EQ(a.poll_seconds, c.poll);
    }
  }
  // The build was left alone: still under way, for the devices after these.
  EXPECT_EQ(store_->delta(claim.from_sha256, claim.to_sha256, claim.profile)->state,
            DeltaState::kBuilding);
}

TEST_F(UpdateServiceTest, OfferNamesTheReleaseOfTheDevicesOwnDeployment) {
  add_device("dev-1", "meter");
  add_device("dev-2", "meter");
  start_campaign(r2_);
  const DeploymentId id = check_in("dev-1", "1.0.0", v1_).deployment;
  HostResult<UpdateService::Offer> offer = updates_->offer(DeviceId{"dev-1"}, id);
  ASSERT_TRUE(offer.ok());
  EXPECT_EQ(offer->release.version, "2.0.0");
  EXPECT_EQ(updates_->offer(DeviceId{"dev-2"}, id).error().code, ErrorCode::kApiNotFound);
}

// Found from outside (issue 15): a device on 2.5.0 was offered 2.0.0. The
// campaign targeted it before it said what it runs; the check-in must not offer it.
TEST_F(UpdateServiceTest, ALowerVersionIsNotOfferedAndTheDeploymentSaysWhy) {
  add_device("dev-1", "meter");
  start_campaign(r2_);
  const CheckInAnswer a = check_in("dev-1", "2.5.0", test_images::random_bytes(100, 7));
  EXPECT_FALSE(a.update);
  EXPECT_NE(a.reason.find("older than the running 2.5.0"), std::string::npos) << a.reason;
  DeploymentFilter filter;
  filter.device = DeviceId{"dev-1"};
  const std::vector<Deployment> deps = *campaigns_->deployments(filter);
  ASSERT_EQ(deps.size(), 1u);
  EXPECT_EQ(deps[0].state, DeploymentState::kCanceled);  // never ran: not a failure
  EXPECT_EQ(deps[0].error, static_cast<int>(ErrorCode::kManifestDowngrade));
  EXPECT_FALSE(check_in("dev-1", "2.5.0", test_images::random_bytes(100, 7)).update);
}

TEST_F(UpdateServiceTest, ADowngradeIsOfferedWhenCampaignAndReleaseBothAllowIt) {
  const Bytes v3 = test_images::random_bytes(4096, 9);
  const Release r3 = upload("meter", "3.0.0", 2, v3);
  add_device("dev-1", "meter");
  Campaign spec;
  spec.allow_downgrade = true;
  start_campaign(r2_, spec);
  // r2 was uploaded without allow_downgrade in its manifest: still refused.
  EXPECT_FALSE(check_in("dev-1", r3.version, v3).update);

  ReleaseUpload up;
  up.product = "meter";
  up.version = "2.1.0";
  up.security_counter = 2;
  up.hardware = {"board-a"};
  up.allow_downgrade = true;
  const Bytes v21 = test_images::random_bytes(4096, 10);
  HostResult<Release> r21 = releases_->upload(up, v21, "test", now_);
  ASSERT_TRUE(r21.ok()) << r21.error().to_string();
  add_device("dev-2", "meter");
  start_campaign(*r21, spec);
  EXPECT_TRUE(check_in("dev-2", r3.version, v3).update);
}

TEST_F(UpdateServiceTest, AReleaseBelowTheRunningSecurityCounterIsNeverOffered) {
  ReleaseUpload up;
  up.product = "meter";
  up.version = "0.9.0";
  up.security_counter = 1;
  up.hardware = {"board-a"};
  up.allow_downgrade = true;
  HostResult<Release> old =
      releases_->upload(up, test_images::random_bytes(4096, 11), "test", now_);
  ASSERT_TRUE(old.ok()) << old.error().to_string();
  add_device("dev-1", "meter");
  Campaign spec;
  spec.allow_downgrade = true;
  start_campaign(*old, spec);
  const CheckInAnswer a = check_in("dev-1", "2.0.0", v2_);  // r2_: counter 2
  EXPECT_FALSE(a.update);
  EXPECT_NE(a.reason.find("security counter 1"), std::string::npos) << a.reason;
}

}  // namespace
}  // namespace updraft::server
