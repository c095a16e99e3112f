#include "server/services/testing/service_fixture.h"

#include <unistd.h>

#include <atomic>

#include "core/host/hex.h"
#include "crypto/sha256.h"

namespace updraft::server::testing {

bool RecordingSink::send(std::string_view type, std::string_view data) {
  std::lock_guard lock(mutex_);
  events_.push_back({std::string(type), std::string(data)});
  return true;
}

std::vector<RecordingSink::Event> RecordingSink::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::size_t RecordingSink::count(std::string_view type, std::string_view needle) const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const Event& e : events_) {
    if (e.type == type && e.data.find(needle) != std::string::npos) ++n;
  }
  return n;
}

void ServiceFixture::SetUp() {
  static std::atomic<int> counter{0};
  dir_ = std::filesystem::temp_directory_path() /
         ("updraft-services-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  HostResult<ServerKeys> keys = ServerKeys::load_or_create((dir_ / "keys").string());
  ASSERT_TRUE(keys.ok()) << keys.error().to_string();
  keys_.emplace(std::move(*keys));
  device_tokens_.emplace("0123456789abcdef0123456789abcdef");
  events_.subscribe(recorded_);
  build();
}

void ServiceFixture::TearDown() {
  destroy();
  std::filesystem::remove_all(dir_);
}

void ServiceFixture::destroy() {
  // Users before what they use; the delta cache joins its workers before the store goes.
  enos_.reset();
  ddi_.reset();
  digests_.reset();
  updates_.reset();
  campaigns_.reset();
  releases_.reset();
  statuses_.reset();
  fleet_.reset();
  deltas_.reset();
  store_.reset();
}

void ServiceFixture::build(UpdateSettings settings, DeltaCache::Options delta_options) {
  destroy();
  HostResult<std::unique_ptr<SqliteStore>> store = SqliteStore::open(":memory:");
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  store_ = std::move(*store);
  HostResult<std::unique_ptr<DirectoryArtifactStore>> artifacts =
      DirectoryArtifactStore::open(dir_.string());
  ASSERT_TRUE(artifacts.ok()) << artifacts.error().to_string();
  artifacts_ = std::move(*artifacts);
  deltas_ = std::make_unique<DeltaCache>(*store_, *artifacts_, delta_options);
  fleet_ = std::make_unique<FleetService>(*store_, *device_tokens_);
  releases_ = std::make_unique<ReleaseService>(*store_, *keys_, *artifacts_);
  statuses_ = std::make_unique<StatusQueue>(*store_);
  campaigns_ = std::make_unique<CampaignService>(*store_, *statuses_, events_, *deltas_);
  updates_ = std::make_unique<UpdateService>(*store_, *releases_, *deltas_, *campaigns_, *statuses_,
                                             events_, metrics_, settings);
  digests_ = std::make_unique<ArtifactDigests>(*store_);
  ddi_ = std::make_unique<DdiService>(*store_, *fleet_, *updates_, *deltas_, *digests_, events_);
  enos_ = std::make_unique<EnosService>(*store_, *fleet_, *updates_, *digests_, *device_tokens_);
}

Product ServiceFixture::add_product(const std::string& name, const std::string& profile,
                                    const std::string& provisioning_secret) {
  ProductSpec spec;
  spec.name = name;
  spec.profile = profile;
  spec.provisioning_secret = provisioning_secret;
  HostResult<NewProduct> created = fleet_->create_product(spec, "test", now_);
  EXPECT_TRUE(created.ok()) << created.error().to_string();
  return created.ok() ? created->product : Product{};
}

NewDevice ServiceFixture::add_device(const std::string& id, const std::string& product,
                                     const std::string& hardware, std::vector<std::string> tags) {
  DeviceSpec spec;
  spec.id.value = id;
  spec.product = product;
  spec.hardware = hardware;
  spec.tags = std::move(tags);
  HostResult<NewDevice> created = fleet_->register_device(spec, Registrar::kOperator, "test", now_);
  EXPECT_TRUE(created.ok()) << created.error().to_string();
  return created.ok() ? *created : NewDevice{};
}

Release ServiceFixture::upload(const std::string& product, const std::string& version,
                               std::uint32_t counter, const Bytes& image,
                               std::vector<std::string> hardware, const std::string& enos_version) {
  ReleaseUpload up;
  up.enos_version = enos_version;
  up.product = product;
  up.version = version;
  up.security_counter = counter;
  up.hardware = std::move(hardware);
  HostResult<Release> r = releases_->upload(up, image, "test", now_);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? *r : Release{};
}

Campaign ServiceFixture::start_campaign(const Release& release, Campaign spec) {
  spec.release = release.id;
  if (spec.name.empty()) spec.name = "rollout-" + release.version;
  if (spec.phases.empty()) spec.phases = {PhaseSpec{PhaseSpec::Kind::kPercent, 100}};
  HostResult<CampaignCreated> created = campaigns_->create(spec, "test", now_);
  EXPECT_TRUE(created.ok()) << created.error().to_string();
  if (!created.ok()) return {};
  HostResult<Campaign> started = campaigns_->start(created->campaign.id, "test", now_);
  EXPECT_TRUE(started.ok()) << started.error().to_string();
  return started.ok() ? *started : created->campaign;
}

CheckInAnswer ServiceFixture::check_in(const std::string& device, const std::string& version,
                                       const Bytes& image, UnixTime at) {
  CheckInRequest request;
  request.status.version = version;
  request.status.image_sha256 = sha256_hex(image);
  request.nonce = 42;
  HostResult<CheckInAnswer> answer =
      updates_->check_in(DeviceId{device}, request, at != 0 ? at : now_);
  EXPECT_TRUE(answer.ok()) << answer.error().to_string();
  return answer.ok() ? *answer : CheckInAnswer{};
}

Deployment ServiceFixture::report(const std::string& device, DeploymentId id,
                                  const std::string& phase, int error, int progress) {
  DeviceReport r;
  r.phase = phase;
  r.error = error;
  r.progress = progress;
  HostResult<Deployment> d = updates_->report(DeviceId{device}, id, r, now_);
  EXPECT_TRUE(d.ok()) << d.error().to_string();
  return d.ok() ? *d : Deployment{};
}

Deployment ServiceFixture::deployment(DeploymentId id) {
  HostResult<Deployment> d = campaigns_->deployment(id);
  EXPECT_TRUE(d.ok()) << d.error().to_string();
  return d.ok() ? *d : Deployment{};
}

std::string ServiceFixture::sha256_hex(const Bytes& bytes) { return to_hex(Sha256::digest(bytes)); }

}  // namespace updraft::server::testing
