// Patches between release images, built on demand and kept in the artifact store
// beside them (server/storage/artifacts/artifact_store.h), indexed in the store
// by (from image, to image, profile).
//
// When a fleet on one version checks in at once, every device asks for the same
// patch: the first request queues one build and all of them wait on it (or come
// back later), so a patch is built once. The queue is in the store
// (Store::queue_delta_build), shared by every server on the database: each
// server's workers take builds from it (Store::take_delta_build), so a patch is
// built once between them, by whichever server has a worker free. A worker
// renews its build's heartbeat every few seconds; a build whose heartbeat goes
// stale (its builder died, or this server restarted mid-build) is taken again.
// An idle worker looks in the queue every `poll`, and at once when its own server
// queues a build. A patch that would not be smaller than the image it rebuilds is
// not kept; those devices get the full image. The oldest patches are evicted past
// a size budget.
// Host only. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/host/error.h"
#include "delta/format/patch_format.h"
#include "server/storage/artifacts/artifact_store.h"
#include "server/storage/store.h"

namespace updraft::server {

class DeltaCache {
 public:
  struct Options {
    std::size_t workers = 1;
    std::uint64_t max_bytes = std::uint64_t{1} << 30;  // patches kept
    std::int64_t claim_stale_seconds = 30;  // a build not renewed for this long is taken again
    std::chrono::milliseconds poll{1000};   // how often an idle worker looks in the queue
  };

  struct Artifact {
    enum class Kind : std::uint8_t { kDelta, kFull, kBuilding };
    Kind kind = Kind::kBuilding;
    std::string path;  // file to serve (kDelta, kFull)
    std::uint64_t size = 0;
    std::string sha256;           // of the file (hex)
    UnixTime building_since = 0;  // kBuilding: when the build was first queued
  };

  // Counters for /metrics.
  struct Stats {
    std::atomic<std::uint64_t> hits{0};    // asked for a patch that was ready
    std::atomic<std::uint64_t> misses{0};  // had to build or wait
    std::atomic<std::uint64_t> builds{0};
    std::atomic<std::uint64_t> failures{0};
  };

  DeltaCache(Store& store, ArtifactStore& artifacts, Options options);
  ~DeltaCache();  // cancels the builds under way, back to the queue for later
  DeltaCache(const DeltaCache&) = delete;
  DeltaCache& operator=(const DeltaCache&) = delete;

  // What to serve a device running image `from` that should get image `to`: the
  // patch once built and smaller, else the full image `to` (also when the build
  // failed or the source image is unknown). While a build runs — started by the
  // first caller, shared by all — waits up to `wait`, then answers kBuilding.
  HostResult<Artifact> get(const std::string& from, const std::string& to, delta::Profile profile,
                           std::chrono::milliseconds wait);

  // Queues the build without waiting (campaign start warms the cache).
  void prebuild(const std::string& from, const std::string& to, delta::Profile profile);

  // The patches built to image `to` (a release page lists them), any state.
  HostResult<std::vector<DeltaRecord>> built_to(const std::string& to);
  // Drops every patch to image `to`, record and file (its release was deleted).
  // One queued or under way is left to finish; eviction removes it later.
  void forget_target(const std::string& to);

  const Stats& stats() const { return stats_; }

  // Where the release image `sha256` is served from; kStoreNotFound if absent.
  HostResult<ArtifactLocation> image(const std::string& sha256) {
    return artifacts_.locate(ArtifactKind::kImage, sha256);
  }

 private:
  using Key = std::tuple<std::string, std::string, delta::Profile>;
  struct Entry {
    DeltaState state = DeltaState::kBuilding;
    std::uint64_t size = 0;
    std::string sha256;
    UnixTime last_used = 0;
    UnixTime queued_at = 0;  // kBuilding: when the build was first queued
    bool elsewhere = false;  // queued, or built by another server: look in the store
  };

  // With mutex_ held: the entry for `key`, loading it from the store or queuing a
  // build when there is none.
  Entry& entry_locked(const Key& key);
  // With mutex_ held: for a build not under way here, what the store now says.
  void follow_locked(const Key& key, Entry& entry);
  // With mutex_ held: sets `entry` from the store's record: a result to serve, a
  // build queued or under way to wait on, or nothing usable (queues a build).
  void adopt_locked(const Key& key, Entry& entry);
  Artifact artifact_locked(const Key& key, const Entry& entry);
  static std::string patch_name(const Key& key);
  void work();
  void build(const DeltaRecord& job);
  void evict_locked(const Key& keep);

  Store& store_;
  ArtifactStore& artifacts_;
  Stats stats_;
  Options options_;
  std::mutex mutex_;
  std::condition_variable changed_;  // an entry changed
  std::condition_variable queued_;   // this server queued a build
  std::uint64_t queued_count_ = 0;
  std::map<Key, Entry> entries_;
  bool stopping_ = false;
  std::atomic<bool> cancel_builds_{false};  // set once, as the cache stops
  std::vector<std::thread> workers_;
};

}  // namespace updraft::server
