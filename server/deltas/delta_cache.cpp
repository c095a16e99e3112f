#include "server/deltas/delta_cache.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "core/host/file.h"
#include "core/host/hex.h"
#include "crypto/sha256.h"
#include "delta/diff/diff.h"

namespace updraft::server {
namespace {

UnixTime wall_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

HostResult<std::string> artifact_sha256(ArtifactStore& artifacts, const std::string& name) {
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> bytes, artifacts.read(ArtifactKind::kPatch, name));
  return to_hex(Sha256::digest(bytes));
}

// Release image `sha256`, mapped from where the store serves it.
HostResult<MappedFile> map_image(ArtifactStore& artifacts, const std::string& sha256) {
  UPDRAFT_TRY_ASSIGN(const ArtifactLocation location,
                     artifacts.locate(ArtifactKind::kImage, sha256));
  return MappedFile::open(location.path);
}

}  // namespace

DeltaCache::DeltaCache(Store& store, ArtifactStore& artifacts, Options options)
    : store_(store), artifacts_(artifacts), options_(std::move(options)) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.workers); ++i)
    workers_.emplace_back([this] { work(); });
}

DeltaCache::~DeltaCache() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cancel_builds_ = true;  // a rootfs-sized build would hold shutdown for minutes
  changed_.notify_all();
  queued_.notify_all();
  for (std::thread& t : workers_) t.join();
}

std::string DeltaCache::patch_name(const Key& key) {
  return std::get<0>(key) + "-" + std::get<1>(key) + "-" +
         std::string(delta::profile_info(std::get<2>(key)).name) + ".updp";
}

DeltaCache::Entry& DeltaCache::entry_locked(const Key& key) {
  auto it = entries_.find(key);
  if (it != entries_.end()) return it->second;
  Entry& entry = entries_[key];
  adopt_locked(key, entry);
  return entry;
}

void DeltaCache::follow_locked(const Key& key, Entry& entry) {
  if (entry.elsewhere) adopt_locked(key, entry);
}

void DeltaCache::adopt_locked(const Key& key, Entry& entry) {
  const auto& [from, to, profile] = key;
  HostResult<DeltaRecord> stored = store_.delta(from, to, profile);
  const bool in_queue = stored.ok() && (stored->state == DeltaState::kQueued ||
                                        stored->state == DeltaState::kBuilding);
  if (stored.ok() && !in_queue) {
    HostResult<bool> has_patch = true;
    if (stored->state == DeltaState::kReady)
      has_patch = artifacts_.exists(ArtifactKind::kPatch, patch_name(key));
    if (has_patch.ok() && *has_patch) {
      entry.state = stored->state;
      entry.size = stored->size;
      entry.last_used = stored->last_used_at;
      entry.elsewhere = false;
      changed_.notify_all();
      return;
    }
    (void)store_.delete_delta(from, to, profile);  // its file is gone: build it again
  }
  // Queued or under way (a dead builder's build is taken again from the queue),
  // or to be queued now; a worker here or on another server builds it.
  entry.state = DeltaState::kBuilding;
  entry.elsewhere = true;
  entry.queued_at = in_queue ? stored->created_at : wall_now();
  if (in_queue) return;
  DeltaRecord job;
  job.from_sha256 = from;
  job.to_sha256 = to;
  job.profile = profile;
  job.state = DeltaState::kQueued;
  job.created_at = job.last_used_at = wall_now();
  // False when another server queued it first; an error is retried by the next
  // request that looks (follow_locked).
  HostResult<bool> queued = store_.queue_delta_build(job);
  if (queued.ok() && *queued) {
    ++queued_count_;
    queued_.notify_one();
  }
}

DeltaCache::Artifact DeltaCache::artifact_locked(const Key& key, const Entry& entry) {
  Artifact a;
  const std::string& to = std::get<1>(key);
  switch (entry.state) {
    case DeltaState::kQueued:
    case DeltaState::kBuilding:
      a.kind = Artifact::Kind::kBuilding;
      a.building_since = entry.queued_at;
      return a;
    case DeltaState::kReady: {
      a.kind = Artifact::Kind::kDelta;
      HostResult<ArtifactLocation> patch = artifacts_.locate(ArtifactKind::kPatch, patch_name(key));
      if (patch.ok())
        a.path = patch->path;  // else a path that fails to open: 500, and a rebuild later
      a.size = entry.size;
      a.sha256 = entry.sha256;
      return a;
    }
    case DeltaState::kNotSmaller:
    case DeltaState::kFailed:
      break;
  }
  a.kind = Artifact::Kind::kFull;
  a.sha256 = to;
  HostResult<ArtifactLocation> image = artifacts_.locate(ArtifactKind::kImage, to);
  if (image.ok()) {
    a.path = image->path;
    a.size = image->size;
  }
  return a;
}

HostResult<DeltaCache::Artifact> DeltaCache::get(const std::string& from, const std::string& to,
                                                 delta::Profile profile,
                                                 std::chrono::milliseconds wait) {
  const Key key{from, to, profile};
  std::unique_lock lock(mutex_);
  Entry* entry = &entry_locked(key);
  follow_locked(key, *entry);
  if (entry->state == DeltaState::kReady) {
    stats_.hits.fetch_add(1, std::memory_order_relaxed);
  } else {
    stats_.misses.fetch_add(1, std::memory_order_relaxed);
    // A local build wakes the waiters; another server's is looked up in the store
    // every 200 ms.
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      const auto slice =
          std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
      changed_.wait_until(lock, slice, [&] {
        const auto it = entries_.find(key);
        return it == entries_.end() || it->second.state != DeltaState::kBuilding || stopping_;
      });
      entry = &entry_locked(key);  // eviction may have replaced it while we waited
      follow_locked(key, *entry);
      if (entry->state != DeltaState::kBuilding || stopping_ ||
          std::chrono::steady_clock::now() >= deadline) {
        break;
      }
    }
  }
  if (entry->state == DeltaState::kReady) {
    if (entry->sha256.empty()) {
      // Known from the store after a restart: hash the file once.
      HostResult<std::string> sha = artifact_sha256(artifacts_, patch_name(key));
      if (!sha.ok()) return sha.error();
      entry->sha256 = *sha;
    }
    const UnixTime now = wall_now();
    if (now - entry->last_used >= 60) {
      entry->last_used = now;
      HostResult<DeltaRecord> record = store_.delta(from, to, profile);
      if (record.ok()) {
        record->last_used_at = now;
        (void)store_.put_delta(*record);  // best effort: only orders eviction
      }
    }
  }
  return artifact_locked(key, *entry);
}

void DeltaCache::prebuild(const std::string& from, const std::string& to, delta::Profile profile) {
  std::lock_guard lock(mutex_);
  (void)entry_locked(Key{from, to, profile});
}

void DeltaCache::work() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const std::uint64_t seen = queued_count_;
    lock.unlock();
    const UnixTime now = wall_now();
    HostResult<std::optional<DeltaRecord>> job =
        store_.take_delta_build(now, now - options_.claim_stale_seconds);
    lock.lock();
    if (job.ok() && job->has_value()) {
      if (stopping_) {
        // Taken as this server stops: back to the queue for another server.
        DeltaRecord back = **job;
        back.state = DeltaState::kQueued;
        (void)store_.put_delta(back);
        return;
      }
      const Key key{(*job)->from_sha256, (*job)->to_sha256, (*job)->profile};
      if (auto it = entries_.find(key); it != entries_.end())
        it->second.elsewhere = false;  // built here: waiters are woken, need not poll
      lock.unlock();
      build(**job);
      lock.lock();
      continue;
    }
    // Nothing to take (or the store failed): wait for a build queued here, or
    // look again after `poll` for one queued elsewhere.
    queued_.wait_for(lock, options_.poll, [&] { return stopping_ || queued_count_ != seen; });
  }
}

void DeltaCache::build(const DeltaRecord& job) {
  const Key key{job.from_sha256, job.to_sha256, job.profile};
  const auto& [from, to, profile] = key;
  DeltaRecord record = job;  // state building, last_used_at the heartbeat
  std::string patch_sha;

  // Renews the heartbeat every few seconds while this build runs, from a thread of its
  // own (a large image spends long stretches inside one library call).
  std::mutex beat_mutex;
  std::condition_variable beat_stop;
  bool built = false;
  std::thread heartbeat([&, beat = record]() mutable {
    std::unique_lock beat_lock(beat_mutex);
    while (!beat_stop.wait_for(beat_lock, std::chrono::seconds(5), [&] { return built; })) {
      beat.last_used_at = wall_now();
      (void)store_.put_delta(beat);
    }
  });
  const auto stop_heartbeat = [&] {
    {
      std::lock_guard beat_lock(beat_mutex);
      built = true;
    }
    beat_stop.notify_all();
    heartbeat.join();
  };

  const auto build_started = std::chrono::steady_clock::now();
  // Mapped, not read: a rootfs build then holds the old image and a window of
  // the new one, whose pages the diff hands back as it passes them.
  HostResult<MappedFile> old_image = map_image(artifacts_, from);
  HostResult<MappedFile> new_image = map_image(artifacts_, to);
  if (!old_image.ok() || !new_image.ok()) {
    record.state = DeltaState::kFailed;
    record.error = (!old_image.ok() ? old_image.error() : new_image.error()).to_string();
  } else {
    delta::DiffOptions options;
    options.profile = profile;
    options.cancel = &cancel_builds_;
    options.release_new = [&](ByteView range) { new_image->release(range); };
    HostResult<std::vector<std::byte>> patch =
        delta::make_patch(old_image->bytes(), new_image->bytes(), options);
    if (!patch.ok() && patch.error().code == ErrorCode::kCanceled) {
      // This server is stopping: the build goes back to the queue, for another
      // server now or this one after its restart.
      stop_heartbeat();
      record.state = DeltaState::kQueued;
      (void)store_.put_delta(record);
      std::fprintf(stderr, "updraftd: delta %.12s -> %.12s canceled: the server is stopping\n",
                   from.c_str(), to.c_str());
      return;
    }
    if (!patch.ok()) {
      record.state = DeltaState::kFailed;
      record.error = patch.error().to_string();
    } else if (patch->size() >= new_image->bytes().size()) {
      record.state = DeltaState::kNotSmaller;
      record.size = patch->size();
    } else if (HostResult<void> written =
                   artifacts_.put_bytes(ArtifactKind::kPatch, patch_name(key), *patch);
               !written.ok()) {
      record.state = DeltaState::kFailed;
      record.error = written.error().to_string();
    } else {
      record.state = DeltaState::kReady;
      record.size = patch->size();
      patch_sha = to_hex(Sha256::digest(*patch));
    }
  }
  record.build_ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - build_started)
                                     .count());
  if (record.state == DeltaState::kFailed) {
    stats_.failures.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "updraftd: delta %s -> %s failed: %s\n", from.c_str(), to.c_str(),
                 record.error.c_str());
  } else {
    // One line per finished build: an operator (and the cluster test) counts them.
    std::fprintf(stderr, "updraftd: delta %.12s -> %.12s built: %llu bytes in %llu ms%s\n",
                 from.c_str(), to.c_str(), static_cast<unsigned long long>(record.size),
                 static_cast<unsigned long long>(record.build_ms),
                 record.state == DeltaState::kNotSmaller ? " (not smaller than the image)" : "");
  }
  stats_.builds.fetch_add(1, std::memory_order_relaxed);
  stop_heartbeat();  // before the result, which no late heartbeat may overwrite
  (void)store_.put_delta(record);

  std::lock_guard lock(mutex_);
  Entry& entry = entries_[key];
  // Served now even when the index write failed: the file is forgotten at the
  // next restart, and rebuilt then.
  entry.state = record.state;
  entry.size = record.size;
  entry.sha256 = patch_sha;
  entry.last_used = record.last_used_at;
  entry.elsewhere = false;
  if (record.state == DeltaState::kReady) evict_locked(key);
  changed_.notify_all();
}

HostResult<std::vector<DeltaRecord>> DeltaCache::built_to(const std::string& to) {
  UPDRAFT_TRY_ASSIGN(std::vector<DeltaRecord> all, store_.deltas());
  std::erase_if(all, [&](const DeltaRecord& r) { return r.to_sha256 != to; });
  return all;
}

void DeltaCache::forget_target(const std::string& to) {
  HostResult<std::vector<DeltaRecord>> records = built_to(to);
  if (!records.ok()) return;
  std::lock_guard lock(mutex_);
  for (const DeltaRecord& r : *records) {
    // Waiters hold a building entry: it stays, and eviction takes it once ready.
    if (r.state == DeltaState::kBuilding || r.state == DeltaState::kQueued) continue;
    const Key key{r.from_sha256, r.to_sha256, r.profile};
    if (!store_.delete_delta(r.from_sha256, r.to_sha256, r.profile).ok()) continue;
    (void)artifacts_.remove(ArtifactKind::kPatch, patch_name(key));
    entries_.erase(key);
  }
}

void DeltaCache::evict_locked(const Key& keep) {
  HostResult<std::vector<DeltaRecord>> all = store_.deltas();
  if (!all.ok()) return;
  std::vector<DeltaRecord> ready;
  std::uint64_t total = 0;
  for (const DeltaRecord& r : *all) {
    if (r.state != DeltaState::kReady) continue;
    total += r.size;
    ready.push_back(r);
  }
  std::sort(ready.begin(), ready.end(), [](const DeltaRecord& a, const DeltaRecord& b) {
    return a.last_used_at < b.last_used_at;
  });
  for (const DeltaRecord& r : ready) {
    if (total <= options_.max_bytes) break;
    const Key key{r.from_sha256, r.to_sha256, r.profile};
    if (key == keep) continue;
    if (!store_.delete_delta(r.from_sha256, r.to_sha256, r.profile).ok()) continue;
    (void)artifacts_.remove(ArtifactKind::kPatch, patch_name(key));
    entries_.erase(key);
    total -= r.size;
  }
}

}  // namespace updraft::server
