// DeltaCache on an in-memory store and a temporary folder: one build per patch
// however many wait for it, the full image when a patch does not pay, failures,
// restarts and eviction.
#include "server/deltas/delta_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "core/host/file.h"
#include "core/host/hex.h"
#include "crypto/sha256.h"
#include "delta/patch/host/apply.h"
#include "delta/testing/test_images.h"
#include "server/storage/sqlite/sqlite_store.h"

namespace updraft::server {
namespace {

using test_images::Bytes;
using namespace std::chrono_literals;

class DeltaCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("updraft-deltas-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    HostResult<std::unique_ptr<DirectoryArtifactStore>> artifacts =
        DirectoryArtifactStore::open(dir_.string());
    ASSERT_TRUE(artifacts.ok()) << artifacts.error().to_string();
    artifacts_ = std::move(*artifacts);
    HostResult<std::unique_ptr<SqliteStore>> store = SqliteStore::open(":memory:");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    v1_ = test_images::firmware_like(64 * 1024, 1);
    v2_ = test_images::insert_blocks(v1_, 6, 400, 2);
    v3_ = test_images::spread_changes(v2_, 300, 2000, 3);
  }
  void TearDown() override {
    cache_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  DeltaCache::Options options(std::uint64_t max_bytes = std::uint64_t{1} << 30,
                              std::size_t workers = 1) {
    DeltaCache::Options o;
    o.workers = workers;
    o.max_bytes = max_bytes;
    return o;
  }

  DeltaCache& open_cache(std::uint64_t max_bytes = std::uint64_t{1} << 30,
                         std::size_t workers = 1) {
    cache_.reset();
    cache_ = std::make_unique<DeltaCache>(*store_, *artifacts_, options(max_bytes, workers));
    return *cache_;
  }

  std::string put_image(const Bytes& image) {
    const std::string sha = to_hex(Sha256::digest(image));
    EXPECT_TRUE(write_file_atomic((dir_ / "images" / sha).string(), image).ok());
    return sha;
  }

  DeltaCache::Artifact get(const std::string& from, const std::string& to,
                           std::chrono::milliseconds wait = 60s) {
    HostResult<DeltaCache::Artifact> a = cache_->get(from, to, delta::Profile::kMcu, wait);
    EXPECT_TRUE(a.ok()) << a.error().to_string();
    return a.ok() ? *a : DeltaCache::Artifact{};
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<DirectoryArtifactStore> artifacts_;
  std::unique_ptr<DeltaCache> cache_;
  Bytes v1_, v2_, v3_;
};

TEST_F(DeltaCacheTest, ManyWaitersGetOnePatchBuiltOnceThatRebuildsTheImage) {
  DeltaCache& cache = open_cache();
  const std::string from = put_image(v1_), to = put_image(v2_);
  std::vector<DeltaCache::Artifact> got(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&, i] { got[i] = get(from, to); });
  for (std::thread& t : threads) t.join();
  for (const DeltaCache::Artifact& a : got) {
    ASSERT_EQ(a.kind, DeltaCache::Artifact::Kind::kDelta);
    EXPECT_EQ(a.sha256, got[0].sha256);
  }
  EXPECT_EQ(cache.stats().builds.load(), 1u);
  HostResult<std::vector<std::byte>> patch = read_file(got[0].path);
  ASSERT_TRUE(patch.ok());
  EXPECT_EQ(patch->size(), got[0].size);
  EXPECT_EQ(to_hex(Sha256::digest(*patch)), got[0].sha256);
  HostResult<std::vector<std::byte>> rebuilt = delta::apply_patch(v1_, *patch);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(*rebuilt, v2_);
  // A late thread may already have found it ready; asked again, it is a hit.
  const std::uint64_t hits = cache.stats().hits.load();
  EXPECT_EQ(hits + cache.stats().misses.load(), got.size());
  get(from, to);
  EXPECT_EQ(cache.stats().hits.load(), hits + 1);
}

// Two servers on one database and data directory: the patch is built once between
// them, and the one that did not build serves it too.
TEST_F(DeltaCacheTest, TwoServersSharingAStoreBuildEachPatchOnce) {
  DeltaCache& first = open_cache();
  DeltaCache second(*store_, *artifacts_, options());
  const std::string from = put_image(v1_), to = put_image(v2_);
  DeltaCache::Artifact a, b;
  std::thread asks_first([&] { a = *first.get(from, to, delta::Profile::kMcu, 60s); });
  std::thread asks_second([&] { b = *second.get(from, to, delta::Profile::kMcu, 60s); });
  asks_first.join();
  asks_second.join();
  EXPECT_EQ(first.stats().builds.load() + second.stats().builds.load(), 1u);
  ASSERT_EQ(a.kind, DeltaCache::Artifact::Kind::kDelta);
  ASSERT_EQ(b.kind, DeltaCache::Artifact::Kind::kDelta);
  EXPECT_EQ(a.sha256, b.sha256);
  const Bytes patch = read_file(b.path).value();
  EXPECT_EQ(delta::apply_patch(v1_, patch).value(), v2_);
}

// Another server's claim holds while it is fresh; once stale (its builder died),
// this server builds the patch itself.
TEST_F(DeltaCacheTest, AnotherServersBuildIsAwaitedUntilItsClaimGoesStale) {
  const std::string from = put_image(v1_), to = put_image(v2_);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  DeltaRecord foreign;
  foreign.from_sha256 = from;
  foreign.to_sha256 = to;
  foreign.profile = delta::Profile::kMcu;
  foreign.state = DeltaState::kBuilding;
  foreign.created_at = foreign.last_used_at = now;
  ASSERT_TRUE(store_->put_delta(foreign).ok());

  DeltaCache& cache = open_cache();
  EXPECT_EQ(get(from, to, 300ms).kind, DeltaCache::Artifact::Kind::kBuilding);
  EXPECT_EQ(cache.stats().builds.load(), 0u);

  foreign.last_used_at = now - 31;  // no heartbeat for longer than claim_stale_seconds
  ASSERT_TRUE(store_->put_delta(foreign).ok());
  EXPECT_EQ(get(from, to).kind, DeltaCache::Artifact::Kind::kDelta);
  EXPECT_EQ(cache.stats().builds.load(), 1u);
}

TEST_F(DeltaCacheTest, ADeviceAskingDuringTheBuildIsToldItIsBuilding) {
  DeltaCache& cache = open_cache();
  const std::string from = put_image(v1_), to = put_image(v2_);
  const DeltaCache::Artifact now = get(from, to, 0ms);
  // On a very fast machine the build may already be done; otherwise it says so.
  if (now.kind != DeltaCache::Artifact::Kind::kDelta) {
    EXPECT_EQ(now.kind, DeltaCache::Artifact::Kind::kBuilding);
  }
  EXPECT_EQ(get(from, to).kind, DeltaCache::Artifact::Kind::kDelta);
  EXPECT_EQ(cache.stats().builds.load(), 1u);
}

TEST_F(DeltaCacheTest, APatchNoSmallerThanTheImageServesTheImage) {
  open_cache();
  const Bytes noise_a = test_images::random_bytes(8 * 1024, 5);
  const Bytes noise_b = test_images::random_bytes(8 * 1024, 6);
  const std::string from = put_image(noise_a), to = put_image(noise_b);
  const DeltaCache::Artifact a = get(from, to);
  EXPECT_EQ(a.kind, DeltaCache::Artifact::Kind::kFull);
  EXPECT_EQ(a.sha256, to);
  EXPECT_EQ(a.size, noise_b.size());
  EXPECT_EQ(a.path, cache_->image(to)->path);
  EXPECT_EQ(a.path, (dir_ / "images" / to).string());
  EXPECT_EQ(store_->delta(from, to, delta::Profile::kMcu)->state, DeltaState::kNotSmaller);
}

TEST_F(DeltaCacheTest, AFailedBuildServesTheImageAndIsCounted) {
  DeltaCache& cache = open_cache();
  const std::string to = put_image(v2_);
  const std::string missing(64, 'e');  // no such source image on disk
  const DeltaCache::Artifact a = get(missing, to);
  EXPECT_EQ(a.kind, DeltaCache::Artifact::Kind::kFull);
  EXPECT_EQ(a.size, v2_.size());
  EXPECT_EQ(cache.stats().failures.load(), 1u);
  HostResult<DeltaRecord> record = store_->delta(missing, to, delta::Profile::kMcu);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->state, DeltaState::kFailed);
  EXPECT_FALSE(record->error.empty());
}

TEST_F(DeltaCacheTest, AReadyPatchSurvivesARestartWithoutARebuild) {
  open_cache();
  const std::string from = put_image(v1_), to = put_image(v2_);
  const DeltaCache::Artifact before = get(from, to);
  ASSERT_EQ(before.kind, DeltaCache::Artifact::Kind::kDelta);
  DeltaCache& reopened = open_cache();
  const DeltaCache::Artifact after = get(from, to);
  EXPECT_EQ(after.kind, DeltaCache::Artifact::Kind::kDelta);
  EXPECT_EQ(after.sha256, before.sha256);
  EXPECT_EQ(reopened.stats().builds.load(), 0u);
}

TEST_F(DeltaCacheTest, APatchWhoseFileIsGoneIsRebuilt) {
  open_cache();
  const std::string from = put_image(v1_), to = put_image(v2_);
  const DeltaCache::Artifact before = get(from, to);
  std::filesystem::remove(before.path);
  DeltaCache& reopened = open_cache();
  EXPECT_EQ(get(from, to).kind, DeltaCache::Artifact::Kind::kDelta);
  EXPECT_EQ(reopened.stats().builds.load(), 1u);
  EXPECT_TRUE(std::filesystem::exists(before.path));
}

TEST_F(DeltaCacheTest, ListsThePatchesToAnImageAndForgetsThemWithTheirFiles) {
  DeltaCache& cache = open_cache();
  const std::string a = put_image(v1_), b = put_image(v2_), c = put_image(v3_);
  const DeltaCache::Artifact a_to_c = get(a, c), b_to_c = get(b, c), a_to_b = get(a, b);
  for (const auto* p : {&a_to_c, &b_to_c, &a_to_b})
    ASSERT_EQ(p->kind, DeltaCache::Artifact::Kind::kDelta);

  const std::vector<DeltaRecord> to_c = *cache.built_to(c);
  ASSERT_EQ(to_c.size(), 2u);
  for (const DeltaRecord& r : to_c) {
    EXPECT_EQ(r.to_sha256, c);
    EXPECT_EQ(r.state, DeltaState::kReady);
    EXPECT_GT(r.size, 0u);
  }

  cache.forget_target(c);
  EXPECT_TRUE(cache.built_to(c)->empty());
  EXPECT_FALSE(std::filesystem::exists(a_to_c.path));
  EXPECT_FALSE(std::filesystem::exists(b_to_c.path));
  // The patch to another image stays, and is still served without a rebuild.
  EXPECT_TRUE(std::filesystem::exists(a_to_b.path));
  EXPECT_EQ(cache.built_to(b)->size(), 1u);
  EXPECT_EQ(get(a, b).sha256, a_to_b.sha256);
  EXPECT_EQ(cache.stats().builds.load(), 3u);
}

TEST_F(DeltaCacheTest, PastTheBudgetTheLeastRecentlyUsedPatchIsEvicted) {
  const std::string a = put_image(v1_), b = put_image(v2_), c = put_image(v3_);
  open_cache();
  const DeltaCache::Artifact first = get(a, b);
  ASSERT_EQ(first.kind, DeltaCache::Artifact::Kind::kDelta);
  // A budget that holds the first patch and nothing more.
  open_cache(first.size);
  // Make the first patch the older one in the store's eyes.
  HostResult<DeltaRecord> record = store_->delta(a, b, delta::Profile::kMcu);
  ASSERT_TRUE(record.ok());
  record->last_used_at = 1;
  ASSERT_TRUE(store_->put_delta(*record).ok());
  const DeltaCache::Artifact second = get(b, c);
  ASSERT_EQ(second.kind, DeltaCache::Artifact::Kind::kDelta);
  EXPECT_FALSE(std::filesystem::exists(first.path));
  EXPECT_EQ(store_->delta(a, b, delta::Profile::kMcu).error().code, ErrorCode::kStoreNotFound);
  EXPECT_TRUE(std::filesystem::exists(second.path));
}

// Waits (bounded) until the store holds a finished record of the patch.
DeltaState finished_state(Store& store, const std::string& from, const std::string& to) {
  for (int i = 0; i < 400; ++i) {
    HostResult<DeltaRecord> r = store.delta(from, to, delta::Profile::kMcu);
    if (r.ok() && r->state != DeltaState::kQueued && r->state != DeltaState::kBuilding)
      return r->state;
    std::this_thread::sleep_for(50ms);
  }
  return DeltaState::kBuilding;
}

// A build queued by one server (busy, or gone) is built by another whose worker
// is free, without a device asking that one.
TEST_F(DeltaCacheTest, AnIdleServerBuildsWhatAnotherQueued) {
  const std::string from = put_image(v1_), to = put_image(v2_);
  DeltaRecord job;
  job.from_sha256 = from;
  job.to_sha256 = to;
  job.profile = delta::Profile::kMcu;
  job.created_at = job.last_used_at = 1;
  ASSERT_TRUE(store_->queue_delta_build(job).value());
  DeltaCache::Options o = options();
  o.poll = 50ms;
  DeltaCache idle(*store_, *artifacts_, o);
  EXPECT_EQ(finished_state(*store_, from, to), DeltaState::kReady);
  EXPECT_EQ(idle.stats().builds.load(), 1u);

  DeltaCache& asked = open_cache();  // the server that queued it serves the result
  const DeltaCache::Artifact a = get(from, to);
  ASSERT_EQ(a.kind, DeltaCache::Artifact::Kind::kDelta);
  EXPECT_EQ(asked.stats().builds.load(), 0u);
  EXPECT_EQ(delta::apply_patch(v1_, read_file(a.path).value()).value(), v2_);
}

// A server stopping mid-build (SIGTERM) cancels it rather than waiting out a
// rootfs-sized diff, and leaves it queued for another server or its restart.
TEST_F(DeltaCacheTest, AServerStoppingMidBuildCancelsItAndLeavesItQueued) {
  const Bytes big_v1 = test_images::firmware_like(16 * 1024 * 1024, 21);
  const Bytes big_v2 = test_images::spread_changes(big_v1, 2000, 90000, 22);
  const std::string from = put_image(big_v1), to = put_image(big_v2);
  open_cache();
  EXPECT_EQ(get(from, to, 0ms).kind, DeltaCache::Artifact::Kind::kBuilding);
  bool taken = false;
  for (int i = 0; i < 2000 && !taken; ++i) {
    HostResult<DeltaRecord> r = store_->delta(from, to, delta::Profile::kMcu);
    taken = r.ok() && r->state == DeltaState::kBuilding;
    if (!taken) std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(taken) << "the worker never took the build";
  cache_.reset();  // joins the worker: returns once the diff has given up
  HostResult<DeltaRecord> after = store_->delta(from, to, delta::Profile::kMcu);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->state, DeltaState::kQueued);
  EXPECT_FALSE(artifacts_->exists(ArtifactKind::kPatch, from + "-" + to + "-mcu.updp").value());
}

// Three patches queued at once, two servers with a worker each: every patch is
// built exactly once between them.
TEST_F(DeltaCacheTest, TwoServersWorkThroughOneQueueBuildingEachPatchOnce) {
  const std::string a = put_image(v1_), b = put_image(v2_), c = put_image(v3_);
  const std::vector<std::pair<std::string, std::string>> pairs{{a, b}, {b, c}, {a, c}};
  for (const auto& [from, to] : pairs) {
    DeltaRecord job;
    job.from_sha256 = from;
    job.to_sha256 = to;
    job.profile = delta::Profile::kMcu;
    ASSERT_TRUE(store_->queue_delta_build(job).value());
  }
  DeltaCache::Options o = options();
  o.poll = 20ms;
  DeltaCache first(*store_, *artifacts_, o), second(*store_, *artifacts_, o);
  for (const auto& [from, to] : pairs)
    EXPECT_EQ(finished_state(*store_, from, to), DeltaState::kReady);
  EXPECT_EQ(first.stats().builds.load() + second.stats().builds.load(), pairs.size());
}

TEST_F(DeltaCacheTest, PrebuildWarmsTheCache) {
  DeltaCache& cache = open_cache();
  const std::string from = put_image(v1_), to = put_image(v2_);
  cache.prebuild(from, to, delta::Profile::kMcu);
  EXPECT_EQ(get(from, to).kind, DeltaCache::Artifact::Kind::kDelta);
  EXPECT_EQ(cache.stats().builds.load(), 1u);
}

}  // namespace
}  // namespace updraft::server
