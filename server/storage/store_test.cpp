// The Store contract, run against every implementation: a new store adds its
// factory to INSTANTIATE_TEST_SUITE_P below. PostgreSQL runs on a private server
// the test starts (TempPostgres), and is skipped, never passed, when it is not
// installed. SqliteStoreTest adds what only the SQLite store has: its schema
// version, its file and surviving kill -9; PostgresStoreTest, its schema version.
#include "server/storage/store.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "server/model/names.h"
#include "server/storage/migrations/migrations.h"
#include "server/storage/postgres/postgres_store.h"
#include "server/storage/postgres/testing/temp_postgres.h"
#include "server/storage/sqlite/database.h"
#include "server/storage/sqlite/sqlite_store.h"

namespace updraft::server {

// Field-by-field equality for the model's plain values. The structured bindings
// stop compiling when a field is added, so no new field escapes the round trips.
auto fields(const Product& v) {
  const auto& [a, b, c, d, e, f, g, h, i] = v;
  return std::tie(a, b, c, d, e, f, g, h, i);
}
auto fields(const DeviceStatusReport& v) {
  const auto& [a, b, c, d, e, f] = v;
  return std::tie(a, b, c, d, e, f);
}
auto fields(const Device& v) {
  const auto& [a, b, c, d, e, f, g, h, i, j] = v;
  return std::tie(a, b, c, d, e, f, g, h, i, j);
}
auto fields(const Release& v) {
  const auto& [a, b, c, d, e, f, g, h, i, j, k, l] = v;
  return std::tie(a, b, c, d, e, f, g, h, i, j, k, l);
}
auto fields(const MenderAuthSet& v) {
  const auto& [a, b, c, d, e, f, g] = v;
  return std::tie(a, b, c, d, e, f, g);
}
auto fields(const InventoryAttribute& v) {
  const auto& [a, b, c] = v;
  return std::tie(a, b, c);
}
auto fields(const DeltaRecord& v) {
  const auto& [a, b, c, d, e, f, g, h, i, j] = v;
  return std::tie(a, b, c, d, e, f, g, h, i, j);
}
auto fields(const TargetSelector& v) {
  const auto& [a, b, c, d, e] = v;
  return std::tie(a, b, c, d, e);
}
auto fields(const PhaseSpec& v) {
  const auto& [a, b] = v;
  return std::tie(a, b);
}
auto fields(const MaintenanceWindow& v) {
  const auto& [a, b, c] = v;
  return std::tie(a, b, c);
}
auto fields(const Campaign& v) {
  const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u, w] = v;
  return std::tie(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u, w);
}
auto fields(const Deployment& v) {
  const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q] = v;
  return std::tie(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q);
}
auto fields(const DeploymentHistoryEntry& v) {
  const auto& [a, b, c, d, e, f, g, h] = v;
  return std::tie(a, b, c, d, e, f, g, h);
}
auto fields(const DeploymentLogLine& v) {
  const auto& [a, b] = v;
  return std::tie(a, b);
}
auto fields(const AuditEvent& v) {
  const auto& [a, b, c, d, e, f] = v;
  return std::tie(a, b, c, d, e, f);
}
auto fields(const ApiToken& v) {
  const auto& [a, b, c, d, e, f, g, h] = v;
  return std::tie(a, b, c, d, e, f, g, h);
}

template <typename T>
requires requires(const T& v) { fields(v); }
bool operator==(const T& a, const T& b) { return fields(a) == fields(b); }

namespace {

// Passes, or fails with the error's code and message.
template <typename R>
testing::AssertionResult ok(const R& result) {
  if (result.ok()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << result.error().to_string();
}

// The value, or ends the test (gtest reports the exception with its message).
template <typename T>
T must(HostResult<T> result) {
  if (!result.ok()) throw std::runtime_error(result.error().to_string());
  return std::move(result).value();
}
void must(HostResult<void> result) {
  if (!result.ok()) throw std::runtime_error(result.error().to_string());
}

template <typename R>
ErrorCode code_of(const R& result) {
  return result.ok() ? ErrorCode::kOk : result.error().code;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = testing::TempDir() + "store_test_XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Sample records: every field differs from its default, so a dropped column shows.

Product sample_product(const std::string& name) {
  Product product;
  product.name = name;
  product.profile = delta::Profile::kMcu;
  product.slot_size = 512 * 1024;
  product.sector_size = 8192;
  product.provisioning_secret_hash = "5e" + name;
  product.created_at = 1'700'000'001;
  return product;
}

Device sample_device(ProductId product, const std::string& id) {
  Device device;
  device.id = DeviceId{id};
  device.product = product;
  device.hardware = "board-rev-b";
  device.serial = "1234-5678-" + id;
  device.tags = {"beta", "lab"};
  device.secret_hash = "ab" + id;
  device.status.version = "1.0.0";
  device.status.image_sha256 = "11aa";
  device.status.slot = 1;
  device.status.battery_percent = 77;
  device.status.network = "wifi";
  device.status.last_seen = 1'700'000'002;
  device.registered_at = 1'700'000'003;
  device.token_generation = 4;
  device.decommissioned_at = 1'700'000'015;
  return device;
}

Release sample_release(ProductId product, const std::string& version) {
  Release release;
  release.product = product;
  release.version = version;
  release.security_counter = 7;
  release.hardware = {"board-rev-a", "board-rev-b"};
  release.allow_downgrade = true;
  release.size = (std::uint64_t{1} << 40) + 3;
  release.sha256 = "22bb" + version;
  release.notes = "fixes \"quotes\" and 'apostrophes'";
  release.enos_version = "v" + version + ".1";
  release.mender_artifact_name = "release-" + version;
  release.created_at = 1'700'000'004;
  return release;
}

Campaign sample_campaign(ProductId product, ReleaseId release, CampaignState state) {
  Campaign campaign;
  campaign.name = "spring rollout";
  campaign.product = product;
  campaign.release = release;
  campaign.target = {{"board-rev-b"},
                     {"1.0.0", "1.1.0"},
                     {"beta"},
                     {DeviceId{"d-1"}},
                     {{"device_type", R"("gw-test")"}, {"kernel", R"("6.1")"}}};
  campaign.phases = {{PhaseSpec::Kind::kCount, 10}, {PhaseSpec::Kind::kPercent, 100}};
  campaign.success_threshold = 0.95;
  campaign.failure_threshold = 0.125;
  campaign.window = {22 * 60, 5 * 60, "Europe/Berlin"};
  campaign.max_concurrent_downloads = 50;
  campaign.force = true;
  campaign.allow_downgrade = true;
  campaign.deployment_timeout_seconds = 3600;
  campaign.start_at = 1'700'000'004;
  campaign.dynamic = true;
  campaign.state = state;
  campaign.current_phase = 1;
  campaign.pause_reason = "operator";
  campaign.created_by = "alice";
  campaign.created_at = 1'700'000'005;
  campaign.started_at = 1'700'000'006;
  campaign.finished_at = 1'700'000'007;
  return campaign;
}

Deployment sample_deployment(CampaignId campaign, const DeviceId& device, DeploymentState state) {
  Deployment deployment;
  deployment.campaign = campaign;
  deployment.device = device;
  deployment.phase = 1;
  deployment.state = state;
  deployment.progress = 42;
  deployment.error = 101;
  deployment.attempts = 2;
  deployment.artifact_kind = "delta";
  deployment.from_sha256 = "11aa";
  deployment.message = "resumed at frame 12";
  deployment.channel = "enos";
  deployment.ignore_window = true;
  deployment.not_before = 1'700'000'011;
  deployment.created_at = 1'700'000'008;
  deployment.updated_at = 1'700'000'009;
  deployment.finished_at = 1'700'000'010;
  return deployment;
}

DeltaRecord sample_delta(const std::string& from, const std::string& to) {
  DeltaRecord delta;
  delta.from_sha256 = from;
  delta.to_sha256 = to;
  delta.profile = delta::Profile::kLinux;
  delta.state = DeltaState::kReady;
  delta.size = 12345;
  delta.error = "none";
  delta.hits = 3;
  delta.created_at = 1'700'000'011;
  delta.last_used_at = 1'700'000'012;
  delta.build_ms = 4321;
  return delta;
}

std::vector<std::string> ids_of(const std::vector<Device>& devices) {
  std::vector<std::string> ids;
  for (const Device& device : devices) ids.push_back(device.id.value);
  return ids;
}

std::vector<std::int64_t> ids_of(const std::vector<Deployment>& deployments) {
  std::vector<std::int64_t> ids;
  for (const Deployment& deployment : deployments) ids.push_back(deployment.id.value);
  return ids;
}

// Filters spelled out (GCC 12 warns on designated initializers that omit fields).
DeviceFilter device_filter(std::optional<ProductId> product, const std::string& hardware,
                           const std::string& version, const std::string& tag) {
  DeviceFilter filter;
  filter.product = product;
  filter.hardware = hardware;
  filter.version = version;
  filter.tag = tag;
  return filter;
}

DeploymentFilter deployment_filter(std::optional<CampaignId> campaign,
                                   std::optional<DeviceId> device,
                                   std::optional<DeploymentState> state) {
  DeploymentFilter filter;
  filter.campaign = campaign;
  filter.device = std::move(device);
  filter.state = state;
  return filter;
}

template <typename Filter>
Filter paged(Filter filter, std::size_t limit, std::size_t offset) {
  filter.limit = limit;
  filter.offset = offset;
  return filter;
}

constexpr DeploymentState kDeploymentStates[] = {
    DeploymentState::kScheduled,  DeploymentState::kPending,    DeploymentState::kDownloading,
    DeploymentState::kInstalling, DeploymentState::kRebooting,  DeploymentState::kSucceeded,
    DeploymentState::kFailed,     DeploymentState::kRolledBack, DeploymentState::kCanceled,
    DeploymentState::kDeferred};
constexpr CampaignState kCampaignStates[] = {CampaignState::kDraft, CampaignState::kRunning,
                                             CampaignState::kPaused, CampaignState::kCompleted,
                                             CampaignState::kAborted};

// How a test opens the store kept in a directory, the same one again on reopen.
struct StoreFactory {
  std::string name;
  std::function<HostResult<std::unique_ptr<Store>>(const std::string& dir)> open;
  std::function<bool()> available = [] { return true; };
};

void PrintTo(const StoreFactory& factory, std::ostream* out) { *out << factory.name; }

HostResult<std::unique_ptr<Store>> open_sqlite(const std::string& dir) {
  UPDRAFT_TRY_ASSIGN(auto store, SqliteStore::open(dir + "/updraft.db"));
  return std::unique_ptr<Store>(std::move(store));
}

// One PostgreSQL server for the whole test process, and one database per
// directory, so a reopened store finds its data again.
postgres::TempPostgres& test_postgres() { return *must(postgres::TempPostgres::shared()); }

HostResult<std::unique_ptr<Store>> open_postgres(const std::string& dir) {
  static std::map<std::string, std::string> uris;
  auto found = uris.find(dir);
  if (found == uris.end()) {
    const std::string name = std::filesystem::path(dir).filename().string();
    UPDRAFT_TRY_ASSIGN(std::string uri, test_postgres().create_database(name));
    found = uris.emplace(dir, std::move(uri)).first;
  }
  UPDRAFT_TRY_ASSIGN(auto store, PostgresStore::open(found->second));
  return std::unique_ptr<Store>(std::move(store));
}

class StoreTest : public testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    if (!GetParam().available()) {
      GTEST_SKIP() << GetParam().name << " is not installed (scripts/setup.sh installs it)";
    }
    reopen();
  }

  void reopen() {
    store_.reset();
    store_ = must(GetParam().open(dir_.path()));
  }

  Store& store() { return *store_; }

  // One product, release and device; a campaign in `state` with a pending deployment.
  struct World {
    Product product;
    Release release;
    Device device;
    Campaign campaign;
    Deployment deployment;
  };
  World populate(CampaignState state = CampaignState::kRunning) {
    World world;
    world.product = must(store().create_product(sample_product("thermostat")));
    world.release = must(store().create_release(sample_release(world.product.id, "2.0.0")));
    world.device = sample_device(world.product.id, "d-1");
    must(store().create_device(world.device));
    world.campaign =
        must(store().create_campaign(sample_campaign(world.product.id, world.release.id, state)));
    std::vector<Deployment> batch = {
        sample_deployment(world.campaign.id, world.device.id, DeploymentState::kPending)};
    must(store().create_deployments(batch));
    world.deployment = batch[0];
    return world;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(
    Stores, StoreTest,
    testing::Values(StoreFactory{"sqlite", open_sqlite},
                    StoreFactory{"postgres", open_postgres, postgres::TempPostgres::available}),
    [](const testing::TestParamInfo<StoreFactory>& factory) { return factory.param.name; });

TEST_P(StoreTest, ProductRoundTripsEveryField) {
  Product expected = sample_product("thermostat");
  const Product created = must(store().create_product(expected));
  EXPECT_NE(created.id.value, 0);
  expected.id = created.id;
  EXPECT_EQ(created, expected);
  EXPECT_EQ(must(store().product(created.id)), expected);
  EXPECT_EQ(must(store().product_by_name("thermostat")), expected);

  expected.name = "thermostat-2";
  expected.profile = delta::Profile::kLinux;
  expected.slot_size = 1;
  expected.sector_size = 2;
  expected.provisioning_secret_hash = "";
  expected.created_at = 3;
  expected.while_delta_builds = WhileDeltaBuilds::kFullImage;
  expected.delta_budget_seconds = 600;
  ASSERT_TRUE(ok(store().update_product(expected)));
  EXPECT_EQ(must(store().product(created.id)), expected);
  EXPECT_EQ(must(store().products()), std::vector<Product>{expected});
}

TEST_P(StoreTest, RejectsDuplicateProductName) {
  must(store().create_product(sample_product("thermostat")));
  const auto duplicate = store().create_product(sample_product("thermostat"));
  EXPECT_EQ(code_of(duplicate), ErrorCode::kStoreConflict);
  EXPECT_NE(duplicate.error().message.find("thermostat"), std::string::npos)
      << duplicate.error().message;

  Product other = must(store().create_product(sample_product("doorbell")));
  other.name = "thermostat";
  EXPECT_EQ(code_of(store().update_product(other)), ErrorCode::kStoreConflict);
  EXPECT_EQ(must(store().product(other.id)).name, "doorbell");
}

TEST_P(StoreTest, DeviceRoundTripsEveryField) {
  const ProductId product = must(store().create_product(sample_product("thermostat"))).id;
  Device expected = sample_device(product, "d-1");
  ASSERT_TRUE(ok(store().create_device(expected)));
  EXPECT_EQ(must(store().device(expected.id)), expected);

  expected.tags = {"field", "night-shift"};
  ASSERT_TRUE(ok(store().set_device_tags(expected.id, expected.tags)));
  expected.secret_hash = "cd";
  ASSERT_TRUE(ok(store().set_device_secret(expected.id, expected.secret_hash)));
  ++expected.token_generation;  // the tokens issued before end with the old secret
  expected.serial = "SN-0002";
  ASSERT_TRUE(ok(store().set_device_serial(expected.id, expected.serial)));
  expected.status = {"1.1.0", "33cc", 0, -1, "", 1'700'000'100};
  ASSERT_TRUE(ok(store().record_status(expected.id, expected.status)));
  EXPECT_EQ(must(store().device(expected.id)), expected);
  EXPECT_EQ(must(store().devices({})), std::vector<Device>{expected});

  ASSERT_TRUE(ok(store().set_device_tags(expected.id, {})));
  EXPECT_TRUE(must(store().device(expected.id)).tags.empty());
}

TEST_P(StoreTest, RejectsDuplicateDeviceId) {
  const ProductId product = must(store().create_product(sample_product("thermostat"))).id;
  ASSERT_TRUE(ok(store().create_device(sample_device(product, "d-1"))));
  Device again = sample_device(product, "d-1");
  again.hardware = "other";
  const auto duplicate = store().create_device(again);
  EXPECT_EQ(code_of(duplicate), ErrorCode::kStoreConflict);
  EXPECT_NE(duplicate.error().message.find("d-1"), std::string::npos) << duplicate.error().message;
  EXPECT_EQ(must(store().device(DeviceId{"d-1"})).hardware, "board-rev-b");
}

TEST_P(StoreTest, ASerialNumberNamesOneDevice) {
  const ProductId product = must(store().create_product(sample_product("thermostat"))).id;
  Device first = sample_device(product, "d-1");
  first.serial = "SN-1";
  must(store().create_device(first));
  Device second = sample_device(product, "d-2");
  second.serial = "SN-1";
  EXPECT_EQ(code_of(store().create_device(second)), ErrorCode::kStoreConflict);
  second.serial = "SN-2";
  must(store().create_device(second));
  EXPECT_EQ(code_of(store().set_device_serial(second.id, "SN-1")), ErrorCode::kStoreConflict);
  // Devices without a serial do not collide.
  ASSERT_TRUE(ok(store().set_device_serial(first.id, "")));
  ASSERT_TRUE(ok(store().set_device_serial(second.id, "")));
  EXPECT_EQ(must(store().device(second.id)).serial, "");
}

TEST_P(StoreTest, ReleaseRoundTripsEveryField) {
  const ProductId product = must(store().create_product(sample_product("thermostat"))).id;
  const ProductId other = must(store().create_product(sample_product("doorbell"))).id;
  Release expected = sample_release(product, "2.0.0");
  const Release created = must(store().create_release(expected));
  EXPECT_NE(created.id.value, 0);
  expected.id = created.id;
  EXPECT_EQ(created, expected);
  const Release other_release = must(store().create_release(sample_release(other, "9.0.0")));

  EXPECT_EQ(must(store().release(created.id)), expected);
  EXPECT_EQ(must(store().release_by_version(product, "2.0.0")), expected);
  EXPECT_EQ(must(store().release_by_image(product, expected.sha256)), expected);
  EXPECT_EQ(must(store().releases(product)), std::vector<Release>{expected});
  EXPECT_EQ(must(store().releases(std::nullopt)), (std::vector<Release>{expected, other_release}));
}

TEST_P(StoreTest, RejectsDuplicateReleaseVersionOfOneProduct) {
  const ProductId product = must(store().create_product(sample_product("thermostat"))).id;
  const ProductId other = must(store().create_product(sample_product("doorbell"))).id;
  must(store().create_release(sample_release(product, "2.0.0")));
  const auto duplicate = store().create_release(sample_release(product, "2.0.0"));
  EXPECT_EQ(code_of(duplicate), ErrorCode::kStoreConflict);
  EXPECT_NE(duplicate.error().message.find("2.0.0"), std::string::npos)
      << duplicate.error().message;
  EXPECT_TRUE(ok(store().create_release(sample_release(other, "2.0.0"))));
}

TEST_P(StoreTest, DeltaIndexInsertsReplacesAndDeletes) {
  DeltaRecord first = sample_delta("aa", "bb");
  DeltaRecord other_profile = sample_delta("aa", "bb");
  other_profile.profile = delta::Profile::kMcuTiny;
  ASSERT_TRUE(ok(store().put_delta(first)));
  ASSERT_TRUE(ok(store().put_delta(other_profile)));
  EXPECT_EQ(must(store().delta("aa", "bb", delta::Profile::kLinux)), first);

  first.state = DeltaState::kFailed;
  first.size = 0;
  first.error = "out of memory";
  first.hits = 4;
  first.last_used_at = 1'700'000'999;
  first.build_ms = 77;
  ASSERT_TRUE(ok(store().put_delta(first)));
  EXPECT_EQ(must(store().delta("aa", "bb", delta::Profile::kLinux)), first);
  EXPECT_EQ(must(store().deltas()).size(), 2u);

  ASSERT_TRUE(ok(store().delete_delta("aa", "bb", delta::Profile::kLinux)));
  EXPECT_EQ(code_of(store().delta("aa", "bb", delta::Profile::kLinux)), ErrorCode::kStoreNotFound);
  EXPECT_EQ(must(store().deltas()), std::vector<DeltaRecord>{other_profile});
}

TEST_P(StoreTest, TheDeltaBuildQueueHandsEachBuildOutOnceUntilItsHeartbeatGoesStale) {
  DeltaRecord job = sample_delta("aa", "bb");
  job.created_at = job.last_used_at = 1000;
  DeltaRecord later = sample_delta("cc", "dd");
  later.created_at = later.last_used_at = 1001;
  EXPECT_TRUE(must(store().queue_delta_build(later)));
  EXPECT_TRUE(must(store().queue_delta_build(job)));
  EXPECT_FALSE(must(store().queue_delta_build(job))) << "queued once";
  EXPECT_EQ(must(store().delta("aa", "bb", job.profile)).state, DeltaState::kQueued);

  // Oldest first; each taken once.
  const std::optional<DeltaRecord> first = must(store().take_delta_build(1100, 1000));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->from_sha256, "aa");
  EXPECT_EQ(first->state, DeltaState::kBuilding);
  EXPECT_EQ(first->last_used_at, 1100);
  EXPECT_EQ(must(store().delta("aa", "bb", job.profile)), *first);
  const std::optional<DeltaRecord> second = must(store().take_delta_build(1100, 1000));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->from_sha256, "cc");
  EXPECT_FALSE(must(store().take_delta_build(1101, 1000)).has_value()) << "both builds are fresh";

  // A builder that stops renewing its heartbeat loses the build to the next taker.
  DeltaRecord beat = *first;
  beat.last_used_at = 1200;
  ASSERT_TRUE(ok(store().put_delta(beat)));
  const std::optional<DeltaRecord> taken_over = must(store().take_delta_build(1300, 1150));
  ASSERT_TRUE(taken_over.has_value());
  EXPECT_EQ(taken_over->from_sha256, "cc") << "its heartbeat is 1100, before 1150";
  EXPECT_EQ(taken_over->last_used_at, 1300);

  // A finished build is never handed out, nor queued again.
  DeltaRecord done = beat;
  done.state = DeltaState::kReady;
  done.size = 1234;
  ASSERT_TRUE(ok(store().put_delta(done)));
  const std::optional<DeltaRecord> stale = must(store().take_delta_build(5000, 4000));
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(stale->from_sha256, "cc") << "the ready patch is not handed out";
  EXPECT_FALSE(must(store().take_delta_build(5000, 4000)).has_value());
  EXPECT_FALSE(must(store().queue_delta_build(job)));
  EXPECT_EQ(must(store().delta("aa", "bb", job.profile)), done);
}

// Four servers on one database take from the queue at once: every build is
// handed out exactly once (on PostgreSQL, SKIP LOCKED under real concurrency).
TEST_P(StoreTest, ServersTakingFromTheQueueAtOnceGetEachBuildOnce) {
  constexpr int kJobs = 40;
  for (int i = 0; i < kJobs; ++i) {
    DeltaRecord job = sample_delta("from" + std::to_string(i), "to");
    job.created_at = job.last_used_at = 1000 + i;
    ASSERT_TRUE(must(store().queue_delta_build(job)));
  }
  std::vector<std::unique_ptr<Store>> servers;
  for (int i = 0; i < 4; ++i) servers.push_back(must(GetParam().open(dir_.path())));
  std::vector<std::vector<std::string>> taken(servers.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int attempt = 0; attempt < 2 * kJobs; ++attempt) {
        HostResult<std::optional<DeltaRecord>> job = servers[i]->take_delta_build(2000, 1500);
        ASSERT_TRUE(job.ok()) << job.error().to_string();
        if (!job->has_value()) return;
        taken[i].push_back((*job)->from_sha256);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<std::string> all;
  for (const auto& some : taken) all.insert(all.end(), some.begin(), some.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a build handed out twice";
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kJobs));
}

TEST_P(StoreTest, CampaignRoundTripsEveryField) {
  const ProductId product = must(store().create_product(sample_product("thermostat"))).id;
  const ReleaseId release = must(store().create_release(sample_release(product, "2.0.0"))).id;
  const ReleaseId next = must(store().create_release(sample_release(product, "2.1.0"))).id;
  Campaign expected = sample_campaign(product, release, CampaignState::kDraft);
  const Campaign created = must(store().create_campaign(expected));
  EXPECT_NE(created.id.value, 0);
  expected.id = created.id;
  EXPECT_EQ(created, expected);
  EXPECT_EQ(must(store().campaign(created.id)), expected);

  expected.name = "autumn";
  expected.release = next;
  expected.target = {{}, {}, {"lab", "field"}, {DeviceId{"d-2"}, DeviceId{"d-3"}}, {}};
  expected.phases = {{PhaseSpec::Kind::kPercent, 5}};
  expected.success_threshold = 0.5;
  expected.failure_threshold = 0.0625;
  expected.window = {0, 0, "UTC"};
  expected.max_concurrent_downloads = 0;
  expected.force = false;
  expected.deployment_timeout_seconds = 0;
  expected.start_at = 0;
  expected.dynamic = false;
  expected.state = CampaignState::kPaused;
  expected.current_phase = 0;
  expected.pause_reason = "failure share 0.3 over 0.2";
  expected.created_by = "bob";
  expected.created_at = 1;
  expected.started_at = 2;
  expected.finished_at = 3;
  ASSERT_TRUE(ok(store().update_campaign(expected)));
  EXPECT_EQ(must(store().campaign(created.id)), expected);
  EXPECT_EQ(must(store().campaigns()), std::vector<Campaign>{expected});
}

TEST_P(StoreTest, DeletesACampaignWithItsDeploymentsThenItsReleaseAndProduct) {
  World world = populate(CampaignState::kDraft);
  ASSERT_EQ(must(store().append_deployment_log(world.deployment.id, 5, {"a line"}, 10)), 1u);
  const Release kept = must(store().create_release(sample_release(world.product.id, "3.0.0")));

  // The schema refuses what is still referred to, whatever the services check.
  EXPECT_NE(code_of(store().delete_release(world.release.id)), ErrorCode::kOk);
  EXPECT_TRUE(ok(store().release(world.release.id)));

  ASSERT_TRUE(ok(store().delete_campaign(world.campaign.id)));
  EXPECT_EQ(code_of(store().campaign(world.campaign.id)), ErrorCode::kStoreNotFound);
  EXPECT_EQ(code_of(store().deployment(world.deployment.id)), ErrorCode::kStoreNotFound);
  EXPECT_EQ(must(store().device_history(world.device.id, 10, 0)).total, 0u);
  EXPECT_EQ(code_of(store().deployment_log(world.deployment.id, 10, 0)), ErrorCode::kStoreNotFound);
  EXPECT_EQ(code_of(store().delete_campaign(world.campaign.id)), ErrorCode::kStoreNotFound);

  ASSERT_TRUE(ok(store().delete_release(world.release.id)));
  EXPECT_EQ(code_of(store().release(world.release.id)), ErrorCode::kStoreNotFound);
  EXPECT_EQ(must(store().releases(std::nullopt)), std::vector<Release>{kept});
  EXPECT_EQ(code_of(store().delete_release(world.release.id)), ErrorCode::kStoreNotFound);

  EXPECT_NE(code_of(store().delete_product(world.product.id)), ErrorCode::kOk) << "it has a device";
  EXPECT_TRUE(ok(store().device(world.device.id)));
  EXPECT_TRUE(ok(store().release(kept.id)));
  const Product empty = must(store().create_product(sample_product("empty")));
  ASSERT_TRUE(ok(store().delete_product(empty.id)));
  EXPECT_EQ(code_of(store().product(empty.id)), ErrorCode::kStoreNotFound);
  EXPECT_EQ(must(store().products()).size(), 1u);
}

// Found while building deletes: SQLite hands a deleted newest row's id to the next
// row, so the audit log and links would name another record.
TEST_P(StoreTest, TheIdOfADeletedRecordIsNeverGivenAgain) {
  const World world = populate(CampaignState::kDraft);
  ASSERT_TRUE(ok(store().delete_campaign(world.campaign.id)));
  const Campaign next = must(store().create_campaign(
      sample_campaign(world.product.id, world.release.id, CampaignState::kDraft)));
  EXPECT_GT(next.id.value, world.campaign.id.value);

  const Release newest = must(store().create_release(sample_release(world.product.id, "9.0.0")));
  ASSERT_TRUE(ok(store().delete_release(newest.id)));
  EXPECT_GT(must(store().create_release(sample_release(world.product.id, "9.0.1"))).id.value,
            newest.id.value);

  const Product gone = must(store().create_product(sample_product("gone")));
  ASSERT_TRUE(ok(store().delete_product(gone.id)));
  reopen();  // across a restart too
  EXPECT_GT(must(store().create_product(sample_product("next"))).id.value, gone.id.value);
}

TEST_P(StoreTest, PagesReleasesAndCampaignsNewestFirstWithTheirTotal) {
  const ProductId a = must(store().create_product(sample_product("a"))).id;
  const ProductId b = must(store().create_product(sample_product("b"))).id;
  std::vector<ReleaseId> of_a;
  for (int i = 0; i < 5; ++i) {
    of_a.push_back(must(store().create_release(sample_release(a, "1.0." + std::to_string(i)))).id);
    must(store().create_release(sample_release(b, "2.0." + std::to_string(i))));
  }
  const Page<Release> page = must(store().release_page(a, 2, 1));
  EXPECT_EQ(page.total, 5u);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].id, of_a[3]);
  EXPECT_EQ(page.items[1].id, of_a[2]);
  EXPECT_EQ(must(store().release_page(std::nullopt, 100, 0)).total, 10u);
  EXPECT_EQ(must(store().release_page(std::nullopt, 100, 8)).items.size(), 2u);
  EXPECT_TRUE(must(store().release_page(a, 10, 5)).items.empty());

  std::vector<CampaignId> campaigns;
  for (int i = 0; i < 3; ++i) {
    campaigns.push_back(
        must(store().create_campaign(sample_campaign(a, of_a[0], CampaignState::kDraft))).id);
  }
  const Page<Campaign> newest = must(store().campaign_page(2, 0));
  EXPECT_EQ(newest.total, 3u);
  ASSERT_EQ(newest.items.size(), 2u);
  EXPECT_EQ(newest.items[0].id, campaigns[2]);
  EXPECT_EQ(newest.items[1].id, campaigns[1]);
  EXPECT_EQ(must(store().campaign_page(2, 2)).items.at(0).id, campaigns[0]);
}

TEST_P(StoreTest, DeploymentRoundTripsEveryField) {
  const World world = populate();
  EXPECT_NE(world.deployment.id.value, 0);
  EXPECT_EQ(must(store().deployment(world.deployment.id)), world.deployment);

  Deployment expected = world.deployment;
  expected.phase = 0;
  expected.state = DeploymentState::kFailed;
  expected.progress = 100;
  expected.error = 202;
  expected.attempts = 3;
  expected.artifact_kind = "full";
  expected.from_sha256 = "44dd";
  expected.message = "hash mismatch";
  expected.channel = "ddi";
  expected.created_at = 1;
  expected.updated_at = 2;
  expected.finished_at = 3;
  ASSERT_TRUE(ok(store().update_deployment(expected)));
  EXPECT_EQ(must(store().deployment(expected.id)), expected);
  EXPECT_EQ(must(store().deployments({})), std::vector<Deployment>{expected});
}

TEST_P(StoreTest, ReportsMissingRecordsAsNotFound) {
  const World world = populate();
  const DeviceId ghost{"ghost"};
  constexpr ErrorCode kNotFound = ErrorCode::kStoreNotFound;
  EXPECT_EQ(code_of(store().product(ProductId{999})), kNotFound);
  EXPECT_EQ(code_of(store().product_by_name("ghost")), kNotFound);
  Product product = world.product;
  product.id = ProductId{999};
  EXPECT_EQ(code_of(store().update_product(product)), kNotFound);

  const auto device = store().device(ghost);
  EXPECT_EQ(code_of(device), kNotFound);
  EXPECT_NE(device.error().message.find("ghost"), std::string::npos) << device.error().message;
  EXPECT_EQ(code_of(store().set_device_tags(ghost, {})), kNotFound);
  EXPECT_EQ(code_of(store().set_device_tags(ghost, {"lab"})), kNotFound);
  EXPECT_EQ(code_of(store().set_device_secret(ghost, "ab")), kNotFound);
  EXPECT_EQ(code_of(store().decommission_device(ghost, 1)), kNotFound);
  EXPECT_EQ(code_of(store().set_device_serial(ghost, "SN")), kNotFound);
  EXPECT_EQ(code_of(store().record_status(ghost, {})), kNotFound);

  EXPECT_EQ(code_of(store().release(ReleaseId{999})), kNotFound);
  EXPECT_EQ(code_of(store().release_by_version(world.product.id, "9.9.9")), kNotFound);
  EXPECT_EQ(code_of(store().release_by_image(world.product.id, "ffff")), kNotFound);
  EXPECT_EQ(code_of(store().delta("aa", "bb", delta::Profile::kMcu)), kNotFound);
  EXPECT_EQ(code_of(store().delete_delta("aa", "bb", delta::Profile::kMcu)), kNotFound);

  Campaign campaign = world.campaign;
  campaign.id = CampaignId{999};
  EXPECT_EQ(code_of(store().campaign(campaign.id)), kNotFound);
  EXPECT_EQ(code_of(store().update_campaign(campaign)), kNotFound);
  Deployment deployment = world.deployment;
  deployment.id = DeploymentId{999};
  EXPECT_EQ(code_of(store().deployment(deployment.id)), kNotFound);
  EXPECT_EQ(code_of(store().update_deployment(deployment)), kNotFound);
  EXPECT_EQ(code_of(store().open_deployment(ghost)), kNotFound);

  EXPECT_EQ(code_of(store().setting("ghost")), kNotFound);
  EXPECT_EQ(code_of(store().token_by_hash("ffff")), kNotFound);
  EXPECT_EQ(code_of(store().token(TokenId{999})), kNotFound);
  EXPECT_EQ(code_of(store().revoke_token(TokenId{999}, 1)), kNotFound);
  EXPECT_EQ(code_of(store().set_token_last_used(TokenId{999}, 1)), kNotFound);
}

TEST_P(StoreTest, RefusesRecordsThatReferToMissingOnes) {
  const World world = populate();
  EXPECT_EQ(code_of(store().create_device(sample_device(ProductId{999}, "d-2"))),
            ErrorCode::kStoreNotFound);
  EXPECT_EQ(code_of(store().create_release(sample_release(ProductId{999}, "1.0.0"))),
            ErrorCode::kStoreNotFound);
  std::vector<Deployment> batch = {
      sample_deployment(world.campaign.id, DeviceId{"ghost"}, DeploymentState::kPending)};
  EXPECT_EQ(code_of(store().create_deployments(batch)), ErrorCode::kStoreNotFound);
}

TEST_P(StoreTest, FiltersAndPagesDevicesInIdOrder) {
  const ProductId p1 = must(store().create_product(sample_product("thermostat"))).id;
  const ProductId p2 = must(store().create_product(sample_product("doorbell"))).id;
  const auto add = [&](ProductId product, const std::string& id, const std::string& hardware,
                       const std::string& version, std::vector<std::string> tags) {
    Device device = sample_device(product, id);
    device.hardware = hardware;
    device.status.version = version;
    device.tags = std::move(tags);
    must(store().create_device(device));
  };
  // Created out of id order: listing is by id, not by insertion.
  add(p2, "b1", "rev-b", "1.0", {"beta"});
  add(p1, "a3", "rev-b", "2.0", {});
  add(p1, "a1", "rev-a", "1.0", {"lab"});
  add(p1, "a2", "rev-b", "1.0", {"beta", "lab"});

  using Ids = std::vector<std::string>;
  const auto expect_devices = [&](const DeviceFilter& filter, const Ids& expected) {
    EXPECT_EQ(ids_of(must(store().devices(filter))), expected);
    DeviceFilter unpaged = filter;
    unpaged.limit = 1;
    unpaged.offset = 1;
    EXPECT_EQ(must(store().count_devices(unpaged)), expected.size()) << "counts ignore paging";
  };
  expect_devices({}, Ids{"a1", "a2", "a3", "b1"});
  expect_devices(device_filter(p1, "", "", ""), Ids{"a1", "a2", "a3"});
  expect_devices(device_filter({}, "rev-b", "", ""), Ids{"a2", "a3", "b1"});
  expect_devices(device_filter({}, "", "1.0", ""), Ids{"a1", "a2", "b1"});
  expect_devices(device_filter({}, "", "", "beta"), Ids{"a2", "b1"});
  expect_devices(device_filter({}, "", "", "none"), Ids{});
  expect_devices(device_filter(p1, "rev-b", "1.0", "lab"), Ids{"a2"});
  DeviceFilter by_serial;
  by_serial.serial = "1234-5678-a3";
  expect_devices(by_serial, Ids{"a3"});

  EXPECT_EQ(ids_of(must(store().devices(paged(DeviceFilter{}, 2, 0)))), (Ids{"a1", "a2"}));
  EXPECT_EQ(ids_of(must(store().devices(paged(DeviceFilter{}, 2, 2)))), (Ids{"a3", "b1"}));
  EXPECT_EQ(ids_of(must(store().devices(paged(device_filter(p1, "", "", ""), 2, 1)))),
            (Ids{"a2", "a3"}));
  EXPECT_TRUE(must(store().devices(paged(DeviceFilter{}, 1000, 4))).empty());
}

// The console's search: by id prefix, by the state of the latest deployment and
// by when a device was last seen, each counted as it is listed.
TEST_P(StoreTest, FiltersDevicesByIdPrefixLatestStateAndLastSeen) {
  World world = populate();  // d-1, its deployment pending
  for (const char* id : {"d-10", "d-2", "e-1", "d"}) {
    Device device = sample_device(world.product.id, id);
    device.status.last_seen = 1000 + static_cast<UnixTime>(std::string(id).size());
    must(store().create_device(device));
  }
  using Ids = std::vector<std::string>;
  const auto expect_devices = [&](const DeviceFilter& filter, const Ids& expected) {
    EXPECT_EQ(ids_of(must(store().devices(filter))), expected);
    EXPECT_EQ(must(store().count_devices(paged(filter, 1, 1))), expected.size());
  };
  DeviceFilter prefix;
  prefix.id_prefix = "d-1";
  expect_devices(prefix, Ids{"d-1", "d-10"});
  prefix.id_prefix = "d";
  expect_devices(prefix, Ids{"d", "d-1", "d-10", "d-2"});
  prefix.id_prefix = "z";
  expect_devices(prefix, Ids{});

  // A device's latest deployment decides, not an older one.
  Campaign second = sample_campaign(world.product.id, world.release.id, CampaignState::kRunning);
  second.name = "second";
  second = must(store().create_campaign(second));
  std::vector<Deployment> batch = {
      sample_deployment(second.id, DeviceId{"d-2"}, DeploymentState::kFailed),
      sample_deployment(second.id, DeviceId{"e-1"}, DeploymentState::kSucceeded)};
  must(store().create_deployments(batch));
  std::vector<Deployment> newer = {
      sample_deployment(world.campaign.id, DeviceId{"e-1"}, DeploymentState::kFailed)};
  must(store().create_deployments(newer));
  DeviceFilter state;
  state.state = DeploymentState::kFailed;
  expect_devices(state, Ids{"d-2", "e-1"});
  state.state = DeploymentState::kSucceeded;
  expect_devices(state, Ids{});
  state.state = DeploymentState::kPending;
  expect_devices(state, Ids{"d-1"});
  state.id_prefix = "e";
  expect_devices(state, Ids{});

  DeviceFilter seen;
  seen.seen_after = 1003;
  expect_devices(seen, Ids{"d-1", "d-10", "d-2", "e-1"});
  seen.seen_before = 1004;
  expect_devices(seen, Ids{"d-2", "e-1"});
}

// Every change of a deployment's state, error, message or attempt is kept, by
// whichever writer makes it; progress alone is not a step.
TEST_P(StoreTest, KeepsEveryStepOfADevicesDeploymentsNewestFirst) {
  World world = populate();
  Deployment dep = world.deployment;
  const auto step = [&](DeploymentState state, int progress, int error, const std::string& message,
                        UnixTime at) {
    dep.state = state;
    dep.progress = progress;
    dep.error = error;
    dep.message = message;
    dep.updated_at = at;
    ASSERT_TRUE(ok(store().update_deployment(dep)));
  };
  step(DeploymentState::kDownloading, 0, 0, "", 2000);
  step(DeploymentState::kDownloading, 50, 0, "", 2001);  // progress only: no step
  step(DeploymentState::kFailed, 50, 210, "hash mismatch", 2002);
  dep.attempts += 1;  // retried: a new offer
  step(DeploymentState::kPending, 0, 0, "", 2003);
  step(DeploymentState::kSucceeded, 100, 0, "", 2004);

  const HistoryPage all = must(store().device_history(world.device.id, 100, 0));
  ASSERT_EQ(all.total, 5u);
  ASSERT_EQ(all.entries.size(), 5u);
  const std::vector<DeploymentState> states = {
      DeploymentState::kSucceeded, DeploymentState::kPending, DeploymentState::kFailed,
      DeploymentState::kDownloading, DeploymentState::kPending};
  for (std::size_t i = 0; i < states.size(); ++i) {
    EXPECT_EQ(all.entries[i].state, states[i]) << i;
    EXPECT_EQ(all.entries[i].deployment, dep.id);
    EXPECT_EQ(all.entries[i].campaign, world.campaign.id);
  }
  const DeploymentHistoryEntry& failed = all.entries[2];
  EXPECT_EQ(failed.at, 2002);
  EXPECT_EQ(failed.progress, 50);
  EXPECT_EQ(failed.error, 210);
  EXPECT_EQ(failed.message, "hash mismatch");
  EXPECT_EQ(failed.attempt, world.deployment.attempts);
  EXPECT_EQ(all.entries[1].attempt, world.deployment.attempts + 1);
  EXPECT_EQ(all.entries[4].at, world.deployment.created_at) << "its creation";

  const HistoryPage page = must(store().device_history(world.device.id, 2, 2));
  EXPECT_EQ(page.total, 5u);
  EXPECT_EQ(page.entries, (std::vector<DeploymentHistoryEntry>{all.entries[2], all.entries[3]}));
  EXPECT_EQ(must(store().device_history(DeviceId{"nobody"}, 10, 0)).total, 0u);
}

TEST_P(StoreTest, KeepsADeploymentsLogUpToItsBoundAndCountsWhatItDropped) {
  World world = populate();
  const DeploymentId id = world.deployment.id;
  EXPECT_EQ(must(store().append_deployment_log(id, 10, {"a", "b", "c"}, 5)), 3u);
  EXPECT_EQ(must(store().append_deployment_log(id, 11, {"d", "e", "f", "g"}, 5)), 2u);
  EXPECT_EQ(must(store().append_deployment_log(id, 12, {"h"}, 5)), 0u);
  const LogPage log = must(store().deployment_log(id, 100, 0));
  EXPECT_EQ(log.total, 5u);
  EXPECT_EQ(log.dropped, 3u);
  EXPECT_EQ(log.lines, (std::vector<DeploymentLogLine>{
                           {10, "a"}, {10, "b"}, {10, "c"}, {11, "d"}, {11, "e"}}));
  EXPECT_EQ(must(store().deployment_log(id, 2, 3)).lines,
            (std::vector<DeploymentLogLine>{{11, "d"}, {11, "e"}}));
  EXPECT_EQ(must(store().deployment(id)), world.deployment) << "the deployment is untouched";
  EXPECT_EQ(must(store().device_history(world.device.id, 10, 0)).total, 1u) << "no history step";

  EXPECT_EQ(code_of(store().append_deployment_log(DeploymentId{999}, 1, {"x"}, 5)),
            ErrorCode::kStoreNotFound);
  EXPECT_EQ(code_of(store().deployment_log(DeploymentId{999}, 1, 0)), ErrorCode::kStoreNotFound);
}

TEST_P(StoreTest, FiltersAndPagesDeploymentsInIdOrder) {
  const World world = populate();
  const CampaignId c1 = world.campaign.id;
  const CampaignId c2 = must(store().create_campaign(world.campaign)).id;
  must(store().create_device(sample_device(world.product.id, "d-2")));
  const DeviceId d1 = world.device.id;
  const DeviceId d2{"d-2"};
  std::vector<Deployment> batch = {
      sample_deployment(c1, d2, DeploymentState::kFailed),
      sample_deployment(c2, d1, DeploymentState::kSucceeded),  // d1 is pending in c1 already
      sample_deployment(c2, d2, DeploymentState::kPending),
  };
  must(store().create_deployments(batch));
  const std::int64_t first = world.deployment.id.value;
  ASSERT_EQ(ids_of(batch), (std::vector<std::int64_t>{first + 1, first + 2, first + 3}));

  using Ids = std::vector<std::int64_t>;
  const auto ids = [&](const DeploymentFilter& filter) {
    return ids_of(must(store().deployments(filter)));
  };
  EXPECT_EQ(ids({}), (Ids{first, first + 1, first + 2, first + 3}));
  EXPECT_EQ(ids(deployment_filter(c1, {}, {})), (Ids{first, first + 1}));
  EXPECT_EQ(ids(deployment_filter({}, d2, {})), (Ids{first + 1, first + 3}));
  EXPECT_EQ(ids(deployment_filter({}, {}, DeploymentState::kPending)), (Ids{first, first + 3}));
  EXPECT_EQ(ids(deployment_filter(c2, d2, DeploymentState::kPending)), (Ids{first + 3}));
  EXPECT_EQ(ids(deployment_filter(c1, {}, DeploymentState::kSucceeded)), Ids{});
  EXPECT_EQ(ids(paged(DeploymentFilter{}, 2, 1)), (Ids{first + 1, first + 2}));
  EXPECT_EQ(ids(paged(deployment_filter({}, {}, DeploymentState::kPending), 1, 1)),
            (Ids{first + 3}));
}

TEST_P(StoreTest, CountsDeploymentsPerStateOfOneCampaignOrAll) {
  const World world = populate();  // c1: one pending
  const CampaignId c1 = world.campaign.id;
  const CampaignId c2 = must(store().create_campaign(world.campaign)).id;
  for (const char* id : {"d-2", "d-3", "d-4"}) {
    must(store().create_device(sample_device(world.product.id, id)));
  }
  std::vector<Deployment> batch = {
      sample_deployment(c1, DeviceId{"d-2"}, DeploymentState::kPending),
      sample_deployment(c1, DeviceId{"d-3"}, DeploymentState::kSucceeded),
      sample_deployment(c1, DeviceId{"d-4"}, DeploymentState::kFailed),
      sample_deployment(c2, DeviceId{"d-3"}, DeploymentState::kPending),  // d-3's first ended
  };
  must(store().create_deployments(batch));

  // Compared as maps: neither the order nor zero counts are part of the contract.
  using Counts = std::map<DeploymentState, std::size_t>;
  const auto counts = [&](std::optional<CampaignId> campaign) {
    Counts result;
    for (const auto& [state, n] : must(store().count_deployments(campaign))) {
      if (n != 0) result[state] = n;
    }
    return result;
  };
  EXPECT_EQ(counts(c1), (Counts{{DeploymentState::kPending, 2},
                                {DeploymentState::kSucceeded, 1},
                                {DeploymentState::kFailed, 1}}));
  EXPECT_EQ(counts(c2), (Counts{{DeploymentState::kPending, 1}}));
  EXPECT_EQ(counts(std::nullopt), (Counts{{DeploymentState::kPending, 3},
                                          {DeploymentState::kSucceeded, 1},
                                          {DeploymentState::kFailed, 1}}));
  EXPECT_EQ(counts(CampaignId{999}), Counts{});

  EXPECT_EQ(must(store().count_deployments_in_state(c1, DeploymentState::kPending)), 2u);
  EXPECT_EQ(must(store().count_deployments_in_state(c1, DeploymentState::kFailed)), 1u);
  EXPECT_EQ(must(store().count_deployments_in_state(c2, DeploymentState::kSucceeded)), 0u);
  EXPECT_EQ(must(store().count_deployments_in_state(CampaignId{999}, DeploymentState::kPending)),
            0u);
}

TEST_P(StoreTest, ADeviceHasAtMostOneUnfinishedDeployment) {
  const World world = populate(CampaignState::kDraft);  // d-1: pending in a draft
  const CampaignId other = must(store().create_campaign(world.campaign)).id;
  for (DeploymentState state : {DeploymentState::kScheduled, DeploymentState::kPending,
                                DeploymentState::kDownloading, DeploymentState::kDeferred}) {
    std::vector<Deployment> again = {sample_deployment(other, world.device.id, state)};
    EXPECT_EQ(code_of(store().create_deployments(again)), ErrorCode::kStoreConflict)
        << name_of(state);
  }
  // Finished ones do not count: a device collects history.
  std::vector<Deployment> history = {
      sample_deployment(other, world.device.id, DeploymentState::kSucceeded),
      sample_deployment(other, world.device.id, DeploymentState::kFailed)};
  EXPECT_TRUE(ok(store().create_deployments(history)));
  // Once the open one ends, a new one may open.
  Deployment done = world.deployment;
  done.state = DeploymentState::kCanceled;
  ASSERT_TRUE(ok(store().update_deployment(done)));
  std::vector<Deployment> next = {
      sample_deployment(other, world.device.id, DeploymentState::kScheduled)};
  EXPECT_TRUE(ok(store().create_deployments(next)));
  // And an update cannot reopen the old one beside it.
  done.state = DeploymentState::kPending;
  EXPECT_EQ(code_of(store().update_deployment(done)), ErrorCode::kStoreConflict);
}

TEST_P(StoreTest, CountsDeploymentsInFlightPerProductChannelAndAge) {
  const World world = populate();  // d-1: pending, offered ("delta"), channel enos
  const CampaignId c1 = world.campaign.id;
  for (const char* id : {"d-2", "d-3", "d-4", "d-5", "d-6"}) {
    must(store().create_device(sample_device(world.product.id, id)));
  }
  std::vector<Deployment> batch = {
      sample_deployment(c1, DeviceId{"d-2"}, DeploymentState::kInstalling),
      sample_deployment(c1, DeviceId{"d-3"}, DeploymentState::kSucceeded),  // final
      sample_deployment(c1, DeviceId{"d-4"}, DeploymentState::kDownloading),
      sample_deployment(c1, DeviceId{"d-5"}, DeploymentState::kPending),
      sample_deployment(c1, DeviceId{"d-6"}, DeploymentState::kRebooting),
  };
  batch[2].channel = "";                // native: not counted for enos
  batch[3].artifact_kind = "";          // released, not offered yet
  batch[4].updated_at = 1'600'000'000;  // stale
  must(store().create_deployments(batch));
  const ProductId product = world.product.id;
  EXPECT_EQ(must(store().count_in_flight(product, "enos", 1'700'000'000)), 2u);  // d-1, d-2
  EXPECT_EQ(must(store().count_in_flight(product, "enos", 0)), 3u);              // and d-6
  EXPECT_EQ(must(store().count_in_flight(product, "", 0)), 1u);                  // d-4
  EXPECT_EQ(must(store().count_in_flight(ProductId{999}, "enos", 0)), 0u);
}

TEST_P(StoreTest, OpenDeploymentIgnoresFinalDeploymentsAndInactiveCampaigns) {
  const World world = populate();
  // Every deployment state in a campaign of every state, one device each.
  std::vector<Deployment> batch;
  for (const CampaignState campaign_state : kCampaignStates) {
    const CampaignId campaign = must(store().create_campaign(sample_campaign(
                                         world.product.id, world.release.id, campaign_state)))
                                    .id;
    for (const DeploymentState state : kDeploymentStates) {
      // Appended piecewise: GCC 12 at -O3 takes "c" + std::to_string() for an overlapping copy.
      DeviceId device{"c"};
      device.value += std::to_string(static_cast<int>(campaign_state));
      device.value += "-d";
      device.value += std::to_string(static_cast<int>(state));
      must(store().create_device(sample_device(world.product.id, device.value)));
      batch.push_back(sample_deployment(campaign, device, state));
    }
  }
  must(store().create_deployments(batch));
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const CampaignState campaign_state = kCampaignStates[i / std::size(kDeploymentStates)];
    const bool open = !is_final(batch[i].state) && (campaign_state == CampaignState::kRunning ||
                                                    campaign_state == CampaignState::kPaused);
    const auto found = store().open_deployment(batch[i].device);
    if (open) {
      ASSERT_TRUE(ok(found)) << batch[i].device.value;
      EXPECT_EQ(*found, batch[i]);
    } else {
      EXPECT_EQ(code_of(found), ErrorCode::kStoreNotFound) << batch[i].device.value;
    }
  }

  // A device that finished an earlier campaign and sits in a later one.
  Deployment done = world.deployment;
  done.state = DeploymentState::kSucceeded;
  ASSERT_TRUE(ok(store().update_deployment(done)));
  const CampaignId later = must(store().create_campaign(world.campaign)).id;
  std::vector<Deployment> next = {
      sample_deployment(later, world.device.id, DeploymentState::kDownloading)};
  must(store().create_deployments(next));
  EXPECT_EQ(must(store().open_deployment(world.device.id)), next[0]);
}

TEST_P(StoreTest, AuditListsNewestFirstAndPagesBeforeAnId) {
  std::vector<AuditEvent> appended;
  for (int i = 1; i <= 5; ++i) {
    AuditEvent event{0,
                     1'700'000'000 + i,
                     "alice",
                     "campaign.start",
                     "campaign/" + std::to_string(i),
                     R"({"phase":1})"};
    const AuditEvent stored = must(store().append_audit(event));
    EXPECT_NE(stored.id, 0);
    event.id = stored.id;
    EXPECT_EQ(stored, event);
    appended.push_back(event);
  }
  const std::vector<AuditEvent> newest_first(appended.rbegin(), appended.rend());
  EXPECT_EQ(must(store().audit(10, 0)), newest_first);
  EXPECT_EQ(must(store().audit(2, 0)), (std::vector<AuditEvent>{appended[4], appended[3]}));
  EXPECT_EQ(must(store().audit(2, appended[3].id)),
            (std::vector<AuditEvent>{appended[2], appended[1]}));
  EXPECT_TRUE(must(store().audit(10, appended[0].id)).empty());
}

TEST_P(StoreTest, SettingsAreSetAndReplaced) {
  EXPECT_EQ(code_of(store().setting("token_secret")), ErrorCode::kStoreNotFound);
  ASSERT_TRUE(ok(store().set_setting("token_secret", "one")));
  EXPECT_EQ(must(store().setting("token_secret")), "one");
  ASSERT_TRUE(ok(store().set_setting("token_secret", "")));
  EXPECT_EQ(must(store().setting("token_secret")), "");
}

TEST_P(StoreTest, SettingOrSetGivesEveryRacingServerTheFirstValue) {
  // Two connections to one database, as two servers have, each from four threads.
  std::unique_ptr<Store> other = must(GetParam().open(dir_.path()));
  std::vector<std::string> seen(8);
  std::vector<std::thread> racers;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    racers.emplace_back([&, i] {
      Store& store_i = i % 2 == 0 ? store() : *other;
      seen[i] = must(store_i.setting_or_set("device_token_key", "key-" + std::to_string(i)));
    });
  }
  for (std::thread& racer : racers) racer.join();
  const std::string stored = must(store().setting("device_token_key"));
  for (const std::string& value : seen) EXPECT_EQ(value, stored);
  EXPECT_EQ(must(other->setting_or_set("device_token_key", "later")), stored);
}

TEST_P(StoreTest, AuthSetsRoundTripAreFoundByKeyAndPagedByStatus) {
  MenderAuthSet pending{0,
                        R"({"mac":"02:00:00:00:00:01"})",
                        "-----BEGIN PUBLIC KEY-----\nAA\n",
                        AuthSetStatus::kPending,
                        DeviceId{},
                        1'700'000'001,
                        1'700'000'002};
  pending = must(store().create_auth_set(pending));
  EXPECT_NE(pending.id, 0);
  MenderAuthSet other = pending;
  other.pubkey = "-----BEGIN PUBLIC KEY-----\nBB\n";  // the same identity, a new key
  other.status = AuthSetStatus::kPreauthorized;
  other = must(store().create_auth_set(other));
  EXPECT_EQ(code_of(store().create_auth_set(other)), ErrorCode::kStoreConflict);

  EXPECT_EQ(must(store().auth_set(pending.id)), pending);
  EXPECT_EQ(must(store().auth_set_by_key(other.id_data, other.pubkey)), other);
  EXPECT_EQ(code_of(store().auth_set_by_key(other.id_data, "other key")),
            ErrorCode::kStoreNotFound);

  const Page<MenderAuthSet> all = must(store().auth_sets(std::nullopt, 10, 0));
  EXPECT_EQ(all.total, 2u);
  EXPECT_EQ(all.items, (std::vector<MenderAuthSet>{other, pending}));  // newest first
  const Page<MenderAuthSet> waiting = must(store().auth_sets(AuthSetStatus::kPending, 10, 0));
  EXPECT_EQ(waiting.total, 1u);
  EXPECT_EQ(waiting.items, std::vector<MenderAuthSet>{pending});
  EXPECT_EQ(must(store().auth_sets(std::nullopt, 1, 1)).items, std::vector<MenderAuthSet>{pending});

  const World world = populate();
  pending.status = AuthSetStatus::kAccepted;
  pending.device = world.device.id;
  pending.updated_at = 1'700'000'009;
  must(store().update_auth_set(pending));
  EXPECT_EQ(must(store().auth_set(pending.id)), pending);
  MenderAuthSet missing = pending;
  missing.id = 999;
  EXPECT_EQ(code_of(store().update_auth_set(missing)), ErrorCode::kStoreNotFound);
}

TEST_P(StoreTest, InventoryMergesOrReplacesAttributesByName) {
  const World world = populate();
  const DeviceId& d = world.device.id;
  EXPECT_TRUE(must(store().inventory(d)).empty());
  must(store().put_inventory(d, {{"device_type", R"("gw-test")", 10}, {"kernel", R"("6.1")", 10}},
                             false));
  must(store().put_inventory(d, {{"kernel", R"("6.2")", 11}, {"ips", R"(["10.0.0.2"])", 11}},
                             false));
  EXPECT_EQ(must(store().inventory(d)),
            (std::vector<InventoryAttribute>{{"device_type", R"("gw-test")", 10},
                                             {"ips", R"(["10.0.0.2"])", 11},
                                             {"kernel", R"("6.2")", 11}}));
  must(store().put_inventory(d, {{"kernel", R"("6.3")", 12}}, true));
  EXPECT_EQ(must(store().inventory(d)),
            (std::vector<InventoryAttribute>{{"kernel", R"("6.3")", 12}}));
  // An unknown device has no row to hang attributes on.
  EXPECT_FALSE(store().put_inventory(DeviceId{"nobody"}, {{"a", "1", 1}}, false).ok());
}

ApiToken sample_token(const std::string& name, Role role, const std::string& hash) {
  ApiToken token;
  token.name = name;
  token.role = role;
  token.token_sha256 = hash;
  token.created_at = 1'700'000'013;
  token.expires_at = 1'800'000'000;
  token.last_used_at = 1'700'000'014;
  token.revoked_at = 1'700'000'016;
  return token;
}

TEST_P(StoreTest, TokensRoundTripAndAreFoundByIdAndHash) {
  ApiToken admin = sample_token("ci", Role::kAdmin, "aa11");
  ApiToken viewer = sample_token("dashboard", Role::kViewer, "bb22");
  viewer.expires_at = viewer.last_used_at = viewer.revoked_at = 0;
  admin.id = must(store().create_token(admin)).id;
  viewer.id = must(store().create_token(viewer)).id;
  EXPECT_NE(admin.id.value, 0);
  EXPECT_EQ(must(store().token_by_hash("bb22")), viewer);
  EXPECT_EQ(must(store().token(admin.id)), admin);
  EXPECT_EQ(must(store().tokens()), (std::vector<ApiToken>{admin, viewer}));
}

TEST_P(StoreTest, TokensRecordTheirLastUseAndRevocation) {
  ApiToken token = sample_token("ci", Role::kOperator, "aa11");
  token.last_used_at = token.revoked_at = 0;
  token.id = must(store().create_token(token)).id;
  token.last_used_at = 1'700'000'100;
  ASSERT_TRUE(ok(store().set_token_last_used(token.id, token.last_used_at)));
  EXPECT_EQ(must(store().token_by_hash("aa11")), token);
  token.revoked_at = 1'700'000'200;
  ASSERT_TRUE(ok(store().revoke_token(token.id, token.revoked_at)));
  EXPECT_EQ(must(store().token(token.id)), token);
  reopen();
  EXPECT_EQ(must(store().tokens()), std::vector<ApiToken>{token});
}

TEST_P(StoreTest, DecommissionKeepsTheRecordAndEndsItsCredentials) {
  const ProductId product = must(store().create_product(sample_product("thermostat"))).id;
  Device in_service = sample_device(product, "d-1");
  in_service.token_generation = 0;
  in_service.decommissioned_at = 0;
  Device rotated = in_service;
  rotated.id = DeviceId{"d-2"};
  rotated.serial = "SN-2";
  Device retired = in_service;
  retired.id = DeviceId{"d-3"};
  retired.serial = "SN-3";
  for (const Device& d : {in_service, rotated, retired}) must(store().create_device(d));
  EXPECT_TRUE(must(store().ended_device_tokens()).empty()) << "none ended yet";

  must(store().set_device_secret(rotated.id, "ef"));
  ASSERT_TRUE(ok(store().decommission_device(retired.id, 1'700'000'300)));
  retired.secret_hash = "";
  retired.token_generation = 1;
  retired.decommissioned_at = 1'700'000'300;
  EXPECT_EQ(must(store().device(retired.id)), retired);

  std::vector<DeviceTokenState> ended = must(store().ended_device_tokens());
  std::sort(ended.begin(), ended.end(),
            [](const auto& a, const auto& b) { return a.device < b.device; });
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[0].device, rotated.id);
  EXPECT_EQ(ended[0].generation, 1u);
  EXPECT_FALSE(ended[0].decommissioned);
  EXPECT_EQ(ended[1].device, retired.id);
  EXPECT_EQ(ended[1].generation, 1u);
  EXPECT_TRUE(ended[1].decommissioned);
}

TEST_P(StoreTest, TransactionRollsBackEveryWriteWhenWorkFails) {
  const World world = populate();
  const auto result = store().transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY(store().create_product(sample_product("doorbell")));
    UPDRAFT_TRY(store().create_device(sample_device(world.product.id, "d-2")));
    UPDRAFT_TRY(store().set_setting("key", "value"));
    Deployment changed = world.deployment;
    changed.state = DeploymentState::kSucceeded;
    UPDRAFT_TRY(store().update_deployment(changed));
    return Error(ErrorCode::kApiBadRequest, "changed my mind");
  });
  EXPECT_EQ(code_of(result), ErrorCode::kApiBadRequest) << "the work's own error comes back";
  EXPECT_EQ(code_of(store().product_by_name("doorbell")), ErrorCode::kStoreNotFound);
  EXPECT_EQ(code_of(store().device(DeviceId{"d-2"})), ErrorCode::kStoreNotFound);
  EXPECT_EQ(code_of(store().setting("key")), ErrorCode::kStoreNotFound);
  EXPECT_EQ(must(store().deployment(world.deployment.id)), world.deployment);
  EXPECT_TRUE(ok(store().create_product(sample_product("doorbell")))) << "the store still works";
}

TEST_P(StoreTest, NestedTransactionsCommitOrRollBackWithTheOuterOne) {
  const auto nested = [&](const std::string& name, bool outer_fails) {
    const auto inner = [&]() -> HostResult<void> {
      UPDRAFT_TRY(store().create_product(sample_product(name + "-inner")));
      return {};
    };
    return store().transaction([&]() -> HostResult<void> {
      UPDRAFT_TRY(store().create_product(sample_product(name + "-outer")));
      UPDRAFT_TRY(store().transaction(inner));
      if (outer_fails) return Error(ErrorCode::kApiConflict, "outer fails");
      return {};
    });
  };
  EXPECT_EQ(code_of(nested("a", true)), ErrorCode::kApiConflict);
  EXPECT_EQ(code_of(store().product_by_name("a-inner")), ErrorCode::kStoreNotFound);
  EXPECT_EQ(code_of(store().product_by_name("a-outer")), ErrorCode::kStoreNotFound);

  ASSERT_TRUE(ok(nested("b", false)));
  EXPECT_TRUE(ok(store().product_by_name("b-inner")));
  EXPECT_TRUE(ok(store().product_by_name("b-outer")));
}

TEST_P(StoreTest, FailedNestedTransactionUndoesOnlyItsOwnWrites) {
  ASSERT_TRUE(ok(store().transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY(store().create_product(sample_product("before")));
    const auto inner = store().transaction([&]() -> HostResult<void> {
      UPDRAFT_TRY(store().create_product(sample_product("inner")));
      return Error(ErrorCode::kApiConflict, "inner fails");
    });
    EXPECT_EQ(code_of(inner), ErrorCode::kApiConflict);
    UPDRAFT_TRY(store().create_product(sample_product("after")));
    return {};
  })));
  EXPECT_TRUE(ok(store().product_by_name("before")));
  EXPECT_EQ(code_of(store().product_by_name("inner")), ErrorCode::kStoreNotFound);
  EXPECT_TRUE(ok(store().product_by_name("after")));
}

TEST_P(StoreTest, FailedBatchOfDeploymentsCreatesNone) {
  const World world = populate();
  must(store().create_device(sample_device(world.product.id, "d-2")));
  std::vector<Deployment> batch = {
      sample_deployment(world.campaign.id, DeviceId{"d-2"}, DeploymentState::kScheduled),
      sample_deployment(world.campaign.id, DeviceId{"ghost"}, DeploymentState::kScheduled),
  };
  const auto created = store().create_deployments(batch);
  EXPECT_EQ(code_of(created), ErrorCode::kStoreNotFound);
  EXPECT_NE(created.error().message.find("ghost"), std::string::npos) << created.error().message;
  EXPECT_EQ(ids_of(batch), (std::vector<std::int64_t>{0, 0})) << "ids only on success";
  EXPECT_EQ(must(store().deployments({})), std::vector<Deployment>{world.deployment});
}

TEST_P(StoreTest, ReopenedStoreKeepsEverything) {
  const World world = populate();
  ASSERT_TRUE(ok(store().put_delta(sample_delta("aa", "bb"))));
  const AuditEvent event =
      must(store().append_audit({0, 1, "server", "release.upload", "r/1", "{}"}));
  ASSERT_TRUE(ok(store().set_setting("key", "value")));
  const ApiToken token = must(store().create_token(sample_token("ci", Role::kOperator, "aa11")));

  reopen();
  EXPECT_EQ(must(store().products()), std::vector<Product>{world.product});
  EXPECT_EQ(must(store().releases(std::nullopt)), std::vector<Release>{world.release});
  EXPECT_EQ(must(store().devices({})), std::vector<Device>{world.device});
  EXPECT_EQ(must(store().campaigns()), std::vector<Campaign>{world.campaign});
  EXPECT_EQ(must(store().deployments({})), std::vector<Deployment>{world.deployment});
  EXPECT_EQ(must(store().deltas()), std::vector<DeltaRecord>{sample_delta("aa", "bb")});
  EXPECT_EQ(must(store().audit(10, 0)), std::vector<AuditEvent>{event});
  EXPECT_EQ(must(store().setting("key")), "value");
  EXPECT_EQ(must(store().tokens()), std::vector<ApiToken>{token});
}

TEST_P(StoreTest, SerializesConcurrentCheckInsFromFourThreads) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 500;
  const World world = populate();
  std::vector<Deployment> deployments;
  for (int t = 0; t < kThreads; ++t) {
    const std::string id = "t-" + std::to_string(t);
    must(store().create_device(sample_device(world.product.id, id)));
    deployments.push_back(
        sample_deployment(world.campaign.id, DeviceId{id}, DeploymentState::kDownloading));
  }
  must(store().create_deployments(deployments));

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Deployment deployment = deployments[static_cast<std::size_t>(t)];
      DeviceStatusReport status = sample_device(world.product.id, "").status;
      for (int round = 1; round <= kRounds; ++round) {
        status.last_seen = round;
        deployment.progress = round % 101;
        deployment.updated_at = round;
        const auto check_in = [&]() -> HostResult<void> {
          UPDRAFT_TRY(store().record_status(deployment.device, status));
          UPDRAFT_TRY(store().update_deployment(deployment));
          UPDRAFT_TRY(store().open_deployment(deployment.device));
          return {};
        };
        // Some rounds inside a transaction, so those interleave with plain calls.
        const auto result = round % 10 == 0 ? store().transaction(check_in) : check_in();
        if (!result.ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(failures.load(), 0);
  for (const Deployment& deployment : deployments) {
    EXPECT_EQ(must(store().device(deployment.device)).status.last_seen, kRounds);
    const Deployment stored = must(store().deployment(deployment.id));
    EXPECT_EQ(stored.updated_at, kRounds);
    EXPECT_EQ(stored.progress, kRounds % 101);
  }
}

// SQLite only.

std::int64_t user_version(const std::string& path) {
  auto db = must(sqlite::Database::open(path));
  auto statement = must(db.prepare("PRAGMA user_version"));
  must(statement.step());
  return statement.column<std::int64_t>(0);
}

TEST(SqliteStoreTest, NewDatabaseHasTheLatestSchemaVersion) {
  const TempDir dir;
  const std::string path = dir.path() + "/updraft.db";
  must(SqliteStore::open(path));
  EXPECT_EQ(user_version(path), static_cast<std::int64_t>(sqlite_migrations().size()));
  must(SqliteStore::open(path));
  EXPECT_EQ(user_version(path), static_cast<std::int64_t>(sqlite_migrations().size()))
      << "reopening applies nothing again";
}

// A database written before ids were kept from reuse (schema 8), with a fleet in it.
std::string schema_8_database(const TempDir& dir, bool orphan_device) {
  const std::string path = dir.path() + "/updraft.db";
  auto db = must(sqlite::Database::open(path));
  for (std::size_t i = 0; i < 8; ++i) must(db.exec(std::string(sqlite_migrations()[i].sql)));
  must(db.exec(
      "INSERT INTO products (id, name, profile, slot_size, sector_size, provisioning_secret_hash, "
      "created_at) VALUES (1, 'meter', 1, 0, 0, '', 1);"
      "INSERT INTO releases (id, product_id, version, security_counter, hardware, allow_downgrade, "
      "size, sha256, notes, created_at) VALUES (5, 1, '2.0.0', 2, '[]', 0, 10, 'aa', '', 1);"
      "INSERT INTO devices (id, product_id, hardware, secret_hash, version, image_sha256, slot, "
      "battery_percent, network, last_seen, registered_at) VALUES ('d-1', 1, 'h', '', '', '', 0, "
      "0, '', 0, 0);"
      "INSERT INTO campaigns (id, name, product_id, release_id, target, phases, success_threshold, "
      "failure_threshold, maintenance_window, max_concurrent_downloads, force, state, "
      "current_phase, pause_reason, created_by, created_at, started_at, finished_at) VALUES (7, "
      "'c', 1, 5, '{\"hardware\":[],\"versions\":[],\"tags\":[],\"devices\":[]}', "
      "'[{\"kind\":1,\"amount\":100}]', 1, 1, "
      "'{\"start_minute\":0,\"end_minute\":0,\"timezone\":\"UTC\"}', 0, 0, 1, 0, '', "
      "'alice', 0, 0, 0);"
      "INSERT INTO deployments (campaign_id, device_id, phase, state, progress, error, attempts, "
      "artifact_kind, from_sha256, message, created_at, updated_at, finished_at) VALUES (7, "
      "'d-1', 0, 1, 0, 0, 0, '', '', '', 0, 0, 0);"
      "PRAGMA user_version = 8;"));
  if (orphan_device) {
    must(
        db.exec("INSERT INTO devices (id, product_id, hardware, secret_hash, version, "
                "image_sha256, slot, battery_percent, network, last_seen, registered_at) "
                "VALUES ('stray', 42, 'h', '', '', '', 0, 0, '', 0, 0);"));
  }
  return path;
}

TEST(SqliteStoreTest, MigratingAnOlderDatabaseKeepsItsRecordsTheirIdsAndTheirReferences) {
  const TempDir dir;
  auto store = must(SqliteStore::open(schema_8_database(dir, false)));
  EXPECT_EQ(must(store->campaign(CampaignId{7})).name, "c");
  EXPECT_EQ(must(store->release(ReleaseId{5})).version, "2.0.0");
  EXPECT_EQ(must(store->deployments({})).size(), 1u);
  // Foreign keys hold again after the migration.
  EXPECT_NE(code_of(store->delete_release(ReleaseId{5})), ErrorCode::kOk);
  ASSERT_TRUE(ok(store->delete_campaign(CampaignId{7})));
  Campaign next;
  next.name = "next";
  next.product = ProductId{1};
  next.release = ReleaseId{5};
  next.phases = {PhaseSpec{}};
  EXPECT_EQ(must(store->create_campaign(next)).id.value, 8);
}

TEST(SqliteStoreTest, AMigrationThatWouldLeaveARowWithoutItsParentIsRefused) {
  const TempDir dir;
  const std::string path = schema_8_database(dir, true);
  const auto refused = SqliteStore::open(path);
  EXPECT_EQ(code_of(refused), ErrorCode::kStoreMigration);
  EXPECT_NE(refused.error().message.find("a row of devices without its products"),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ(user_version(path), 8) << "nothing of the migration kept";
}

TEST(SqliteStoreTest, RefusesDatabaseWithNewerSchema) {
  const TempDir dir;
  const std::string path = dir.path() + "/updraft.db";
  must(SqliteStore::open(path));
  const auto newer = std::to_string(sqlite_migrations().size() + 1);
  ASSERT_TRUE(ok(must(sqlite::Database::open(path)).exec("PRAGMA user_version = " + newer)));
  const auto refused = SqliteStore::open(path);
  EXPECT_EQ(code_of(refused), ErrorCode::kStoreMigration);
  EXPECT_NE(refused.error().message.find(newer), std::string::npos) << refused.error().message;
}

TEST(SqliteStoreTest, RefusesFileThatIsNotADatabase) {
  const TempDir dir;
  const std::string path = dir.path() + "/updraft.db";
  {
    std::ofstream file(path);
    file << std::string(8192, 'x');
  }
  EXPECT_EQ(code_of(SqliteStore::open(path)), ErrorCode::kStoreCorrupt);
}

TEST(SqliteStoreTest, ReportsStoredJsonThatDoesNotDecodeAsCorrupt) {
  const TempDir dir;
  const std::string path = dir.path() + "/updraft.db";
  CampaignId id;
  {
    auto store = must(SqliteStore::open(path));
    const ProductId product = must(store->create_product(sample_product("p"))).id;
    const ReleaseId release = must(store->create_release(sample_release(product, "1.0.0"))).id;
    id = must(store->create_campaign(sample_campaign(product, release, CampaignState::kDraft))).id;
  }
  ASSERT_TRUE(ok(must(sqlite::Database::open(path)).exec("UPDATE campaigns SET phases = '[{'")));
  auto store = must(SqliteStore::open(path));
  EXPECT_EQ(code_of(store->campaign(id)), ErrorCode::kStoreCorrupt);
}

TEST(SqliteStoreTest, KeepsEveryAcknowledgedWriteAfterKill9) {
  constexpr std::size_t kKillAfter = 200;
  constexpr std::int64_t kMaxWrites = 1'000'000;  // far more than the child gets through
  constexpr int kReadTimeoutMs = 20'000;
  const TempDir dir;
  const std::string path = dir.path() + "/updraft.db";
  const ProductId product =
      must(must(SqliteStore::open(path))->create_product(sample_product("p"))).id;

  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Commits devices one by one and acknowledges each id only once it returned ok.
    close(pipe_fds[0]);
    auto store = SqliteStore::open(path);
    if (!store.ok()) _exit(1);
    for (std::int64_t i = 0; i < kMaxWrites; ++i) {
      if (!store.value()->create_device(sample_device(product, "k-" + std::to_string(i))).ok()) {
        _exit(2);
      }
      if (write(pipe_fds[1], &i, sizeof i) != sizeof i) _exit(3);
    }
    _exit(0);
  }
  close(pipe_fds[1]);

  std::vector<std::int64_t> acknowledged;
  const auto read_ack = [&](int timeout_ms) {
    pollfd poll_fd{pipe_fds[0], POLLIN, 0};
    if (poll(&poll_fd, 1, timeout_ms) <= 0) return false;
    std::int64_t id = 0;
    if (read(pipe_fds[0], &id, sizeof id) != sizeof id) return false;
    acknowledged.push_back(id);
    return true;
  };
  while (acknowledged.size() < kKillAfter && read_ack(kReadTimeoutMs)) {
  }
  kill(child, SIGKILL);
  // Acknowledgements already in the pipe count too; after the kill it ends at EOF.
  while (read_ack(kReadTimeoutMs)) {
  }
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child stopped by itself with status " << status;
  ASSERT_GE(acknowledged.size(), kKillAfter);

  auto store = must(SqliteStore::open(path));
  for (const std::int64_t i : acknowledged) {
    const Device expected = sample_device(product, "k-" + std::to_string(i));
    const auto found = store->device(expected.id);
    ASSERT_TRUE(ok(found)) << "acknowledged device " << i << " of " << acknowledged.size();
    EXPECT_EQ(*found, expected) << "device " << i << " with its tags";
  }
  // At most one more: committed, then killed before its acknowledgement.
  const std::size_t stored = must(store->count_devices({}));
  EXPECT_GE(stored, acknowledged.size());
  EXPECT_LE(stored, acknowledged.size() + 1);
}

// PostgreSQL only.

std::int64_t schema_version(const std::string& uri) {
  auto db = must(postgres::Connection::open(uri));
  auto statement = must(db.prepare("SELECT version FROM schema_version"));
  must(statement.step());
  return statement.column<std::int64_t>(0);
}

class PostgresStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!postgres::TempPostgres::available()) GTEST_SKIP() << "PostgreSQL is not installed";
  }
};

TEST_F(PostgresStoreTest, NodesOpeningANewDatabaseTogetherMigrateItOnce) {
  const std::string uri = must(test_postgres().create_database("migrate_together"));
  std::vector<std::optional<HostResult<std::unique_ptr<PostgresStore>>>> opened(4);
  std::vector<std::thread> nodes;
  for (auto& result : opened) {
    nodes.emplace_back([&result, &uri] { result.emplace(PostgresStore::open(uri)); });
  }
  for (std::thread& node : nodes) node.join();
  for (const auto& result : opened) ASSERT_TRUE(ok(*result));
  EXPECT_EQ(schema_version(uri), static_cast<std::int64_t>(postgres_migrations().size()));
  // Each sees the others' writes: one database.
  const Product product = must((**opened[0])->create_product(sample_product("shared")));
  EXPECT_EQ(must((**opened[3])->product(product.id)), product);
}

TEST_F(PostgresStoreTest, RefusesDatabaseWithNewerSchema) {
  const std::string uri = must(test_postgres().create_database("newer_schema"));
  must(PostgresStore::open(uri));
  auto db = must(postgres::Connection::open(uri));
  must(db.exec("UPDATE schema_version SET version = " +
               std::to_string(postgres_migrations().size() + 1)));
  const auto reopened = PostgresStore::open(uri);
  EXPECT_EQ(code_of(reopened), ErrorCode::kStoreMigration);
  EXPECT_NE(reopened.error().message.find("newer"), std::string::npos) << reopened.error().message;
}

TEST_F(PostgresStoreTest, AnUnreachableServerIsAnIoErrorThatHidesThePassword) {
  const auto opened =
      PostgresStore::open("postgresql://updraft:s3cret@127.0.0.1:1/fleet?connect_timeout=2");
  EXPECT_EQ(code_of(opened), ErrorCode::kStoreIo);
  EXPECT_EQ(opened.error().message.find("s3cret"), std::string::npos) << opened.error().message;
  EXPECT_NE(opened.error().message.find("updraft:***@127.0.0.1:1/fleet"), std::string::npos)
      << opened.error().message;
}

}  // namespace
}  // namespace updraft::server
