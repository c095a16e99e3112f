#include "agent/agent.h"

#include <algorithm>
#include <cstring>

#include "agent/slot_io.h"
#include "crypto/constant_time.h"
#include "delta/patch/patcher.h"

namespace updraft::agent {
namespace {

void copy_text(std::array<char, kMaxText>& out, const std::array<char, kMaxText>& in) { out = in; }

// Truncates to fit and always NUL-terminates (strncpy does neither reliably).
void copy_text(std::array<char, kMaxText>& out, const char* in) {
  out.fill('\0');
  std::memcpy(out.data(), in, std::min(std::strlen(in), out.size() - 1));
}

bool same_hash(const Sha256Digest& a, const Sha256Digest& b) { return constant_time_equal(a, b); }

ErrorCode deferral_code(UpdatePolicy::Verdict verdict) {
  switch (verdict) {
    case UpdatePolicy::Verdict::kLowBattery:
      return ErrorCode::kAgentDeferredLowBattery;
    case UpdatePolicy::Verdict::kNetworkNotAllowed:
      return ErrorCode::kAgentDeferredNetwork;
    case UpdatePolicy::Verdict::kOutsideWindow:
      return ErrorCode::kAgentDeferredWindow;
    case UpdatePolicy::Verdict::kNeedsUser:
      return ErrorCode::kAgentDeferredUser;
    case UpdatePolicy::Verdict::kGo:
      break;
  }
  return ErrorCode::kOk;
}

}  // namespace

Agent::Agent(const Ports& ports, const FlashLayout& layout, const AgentConfig& config,
             MutableByteView workspace)
    : ports_(ports),
      layout_(layout),
      config_(config),
      workspace_(workspace),
      boot_(ports.flash, layout),
      journal_store_(ports.flash, layout.journal_offset, kRecordSlotSize) {}

Result<void> Agent::load_state() {
  UPDRAFT_TRY_ASSIGN(state_, boot_.load());
  return {};
}

Result<bool> Agent::load_journal(DownloadJournal& journal) {
  std::byte bytes[kJournalBytes];
  Result<std::uint32_t> n = journal_store_.load(bytes);
  if (!n.ok()) {
    if (n.error() == ErrorCode::kJournalEmpty) return false;
    return n.error();
  }
  Result<DownloadJournal> decoded = decode_journal(ByteView(bytes, *n));
  if (!decoded.ok()) return false;  // an unreadable journal only costs a fresh download
  journal = *decoded;
  return journal.phase != DownloadJournal::Phase::kIdle;
}

Result<void> Agent::save_journal(const DownloadJournal& journal) {
  std::byte bytes[kJournalBytes];
  encode_journal(journal, bytes);
  return journal_store_.store(bytes);
}

void Agent::report(Phase phase, ErrorCode error, std::uint8_t percent, const char* target_version) {
  Report r;
  r.phase = phase;
  r.error = error_number(error);
  r.progress_percent = percent;
  copy_text(r.running, state_.slots[running_slot_].version);
  r.running_slot = running_slot_;
  if (target_version != nullptr) copy_text(r.target, target_version);
  // Reports are best effort: the next check-in states the device's version anyway.
  (void)ports_.transport.report(r);
}

CycleResult Agent::fail(ErrorCode error, const char* target_version, std::uint32_t sleep) {
  // With the power gone nothing can be reported; the next boot resumes.
  if (error != ErrorCode::kFlashPowerLost) report(Phase::kFailure, error, 0, target_version);
  return CycleResult{CycleResult::Next::kSleep, sleep, error, false};
}

CycleResult Agent::on_boot(const BootDecision& decision) {
  running_slot_ = decision.slot;
  if (auto loaded = load_state(); !loaded.ok()) return fail(loaded.error(), nullptr, 0);
  DownloadJournal journal;
  Result<bool> has_journal = load_journal(journal);
  if (!has_journal.ok()) return fail(has_journal.error(), nullptr, 0);
  const bool awaiting = *has_journal && journal.phase == DownloadJournal::Phase::kAwaitingTrial;
  const char* target_version = awaiting ? journal.installed.version.data() : nullptr;
  DownloadJournal idle;
  idle.phase = DownloadJournal::Phase::kIdle;

  if (decision.trial) {
    if (!ports_.boot_control.healthy()) {
      // Not confirming is the rollback: the boot logic reverts at the next reset.
      // Say so now with the reason; the report after the revert only repeats it.
      report(Phase::kRolledBack, ErrorCode::kAgentHealthCheckFailed, 100, target_version);
      ports_.boot_control.reboot();
      return CycleResult{CycleResult::Next::kReboot, 0, ErrorCode::kAgentHealthCheckFailed, false};
    }
    if (auto r = boot_.confirm(); !r.ok()) return fail(r.error(), target_version, 0);
    if (auto r = load_state(); !r.ok()) return fail(r.error(), target_version, 0);
    if (auto r = save_journal(idle); !r.ok()) return fail(r.error(), target_version, 0);
    report(Phase::kSuccess, ErrorCode::kOk, 100, target_version);
    return CycleResult{};
  }
  if (!awaiting) return CycleResult{};

  const SlotInfo& slot = state_.slots[journal.target];
  if (state_.active == journal.target && slot.valid &&
      same_hash(slot.hash, journal.installed.hash)) {
    // Confirmed before a power cut kept the journal from saying so.
    if (auto r = save_journal(idle); !r.ok()) return fail(r.error(), target_version, 0);
    report(Phase::kSuccess, ErrorCode::kOk, 100, target_version);
    return CycleResult{};
  }
  if (same_hash(slot.hash, journal.installed.hash) && state_.trial == kNoSlot) {
    // The trial ran and did not confirm; the boot logic reverted it.
    if (auto r = save_journal(idle); !r.ok()) return fail(r.error(), target_version, 0);
    report(Phase::kRolledBack, ErrorCode::kAgentTrialFailed, 100, target_version);
    return CycleResult{CycleResult::Next::kSleep, 0, ErrorCode::kAgentTrialFailed, false};
  }
  // Installed and journaled, but the trial was never scheduled: finish that step.
  Result<Sha256Digest> digest =
      hash_region(ports_.flash, layout_.slot_offset[journal.target], journal.installed.size);
  if (!digest.ok()) return fail(digest.error(), target_version, 0);
  if (!same_hash(*digest, journal.installed.hash)) {
    (void)save_journal(idle);
    return fail(ErrorCode::kHashMismatch, target_version, 0);
  }
  if (auto r = boot_.schedule_trial(journal.target, journal.installed); !r.ok()) {
    return fail(r.error(), target_version, 0);
  }
  report(Phase::kRebooting, ErrorCode::kOk, 100, target_version);
  ports_.boot_control.reboot();
  return CycleResult{CycleResult::Next::kReboot, 0, ErrorCode::kOk, true};
}

CycleResult Agent::run_cycle() {
  if (auto r = load_state(); !r.ok()) return fail(r.error(), nullptr, config_.backoff_seconds);
  const SlotInfo& running = state_.slots[running_slot_];
  DeviceStatus status;
  copy_text(status.version, running.version);
  status.image_hash = running.hash;
  status.slot = running_slot_;
  status.battery_percent = battery_percent_;
  status.network = network_;
  CheckContext context;
  context.local = config_.local_install;
  context.running = &running;
  context.stored_counter = running.security_counter;
  // An answer that fails its checks is asked for once more, with a fresh nonce:
  // a datagram damaged in transit fails the signature as a forgery would, so
  // only a second failure in a row is reported. A forger gains nothing by it.
  // An answer that brings the next root is asked for again under that root, up
  // to kMaxRootSteps roots a cycle (the next cycle walks on).
  constexpr int kMaxRootSteps = 8;
  Result<UpdateTarget> checked = ErrorCode::kManifestMalformed;
  std::uint32_t poll = 0;
  for (int ask = 0, root_steps = 0; ask < 2 && !checked.ok();) {
    status.nonce = ports_.random.next();
    // Reset in place: `answer_ = CheckInAnswer{}` builds a 1.2 KB temporary on the
    // stack, more than a small device can spare. A transport that succeeds fills
    // the whole answer anyway.
    answer_.update_available = false;
    answer_.manifest_size = 0;
    answer_.root_size = 0;
    if (roots_ != nullptr) {
      status.root_version = roots_->root_version();
      answer_.root = roots_->root_buffer();
    }
    if (auto r = ports_.transport.check_in(status, answer_); !r.ok()) {
      return CycleResult{CycleResult::Next::kSleep, config_.backoff_seconds, r.error(), false};
    }
    poll = answer_.poll_seconds;
    if (roots_ != nullptr && answer_.root_size != 0 && root_steps < kMaxRootSteps) {
      const Result<void> installed =
          answer_.root_size > answer_.root.size()
              ? Result<void>(ErrorCode::kManifestMalformed)
              : roots_->install_root(answer_.root.first(answer_.root_size));
      if (installed.ok()) {
        ++root_steps;
        continue;  // ask again, under the new root
      }
      checked = installed.error();
      ++ask;
      continue;
    }
    ++ask;
    if (!answer_.update_available)
      return CycleResult{CycleResult::Next::kSleep, poll, ErrorCode::kOk, false};
    if (answer_.manifest_size > answer_.manifest.size()) {
      checked = ErrorCode::kManifestMalformed;
      continue;
    }
    context.now = ports_.clock.unix_seconds();
    context.nonce = status.nonce;
    checked = ports_.checker.check(ByteView(answer_.manifest.data(), answer_.manifest_size),
                                   answer_.kind, context);
  }
  if (!checked.ok()) return fail(checked.error(), nullptr, poll);
  const UpdateTarget& target = *checked;
  if (target.image_size > layout_.slot_size)
    return fail(ErrorCode::kAgentImageTooLarge, target.version.data(), poll);

  const UpdatePolicy::Verdict verdict =
      config_.policy.evaluate(status, context.now, answer_.force, user_confirmed_);
  if (verdict != UpdatePolicy::Verdict::kGo) {
    report(Phase::kDeferred, deferral_code(verdict), 0, target.version.data());
    return CycleResult{CycleResult::Next::kSleep, poll, deferral_code(verdict), false};
  }

  DownloadJournal journal;
  Result<bool> has_journal = load_journal(journal);
  if (!has_journal.ok()) return fail(has_journal.error(), target.version.data(), poll);
  const auto target_slot = static_cast<SlotIndex>(1 - running_slot_);

  Result<bool> already_there = slot_holds(target_slot, target);
  if (!already_there.ok()) return fail(already_there.error(), target.version.data(), poll);
  const bool in_progress = journal.phase == DownloadJournal::Phase::kDownloading ||
                           journal.phase == DownloadJournal::Phase::kApplying;
  const bool resumable = !*already_there && *has_journal && in_progress &&
                         journal.kind == answer_.kind && journal.target == target_slot &&
                         same_hash(journal.update_id, target.update_id);
  if (!resumable) {
    journal = DownloadJournal{};
    journal.kind = answer_.kind;
    journal.target = target_slot;
    journal.update_id = target.update_id;
  }
  // A trial that a power cut reverted before it could confirm left the image
  // intact: install it again without downloading a byte.
  if (*already_there) return finish_install(target, journal, poll);
  if (!resumable) {
    // The slot is about to be overwritten: stop the boot logic from trusting it.
    if (state_.slots[target_slot].valid) {
      BootState changed = state_;
      changed.slots[target_slot].valid = false;
      if (auto r = boot_.save(changed); !r.ok())
        return fail(r.error(), target.version.data(), poll);
      state_ = changed;
    }
  }

  last_percent_ = 0;
  report(Phase::kDownloading, ErrorCode::kOk, 0, target.version.data());
  if (auto r = download(target, journal); !r.ok()) {
    const ErrorCode error = r.error();
    const bool retry_later = error == ErrorCode::kTransportRetriesExhausted ||
                             error == ErrorCode::kFlashPowerLost ||
                             (error == ErrorCode::kHashMismatch && journal.staged);
    if (!retry_later) {
      // The artifact itself is bad: start from zero next time (the server may offer a full image).
      DownloadJournal idle;
      idle.phase = DownloadJournal::Phase::kIdle;
      (void)save_journal(idle);
    }
    return fail(error, target.version.data(), retry_later ? config_.backoff_seconds : poll);
  }
  return finish_install(target, journal, poll);
}

CycleResult Agent::finish_install(const UpdateTarget& target, DownloadJournal& journal,
                                  std::uint32_t poll) {
  report(Phase::kVerifying, ErrorCode::kOk, 100, target.version.data());
  if (auto r = install(target, journal); !r.ok())
    return fail(r.error(), target.version.data(), poll);
  report(Phase::kRebooting, ErrorCode::kOk, 100, target.version.data());
  ports_.boot_control.reboot();
  return CycleResult{CycleResult::Next::kReboot, 0, ErrorCode::kOk, true};
}

Result<bool> Agent::slot_holds(SlotIndex slot, const UpdateTarget& target) {
  const SlotInfo& info = state_.slots[slot];
  // The recorded hash only nominates the slot (a reverted trial keeps it while
  // marked invalid); the flash contents decide.
  if (info.size != target.image_size || !same_hash(info.hash, target.image_hash)) return false;
  UPDRAFT_TRY_ASSIGN(Sha256Digest digest,
                     hash_region(ports_.flash, layout_.slot_offset[slot], target.image_size));
  return same_hash(digest, target.image_hash);
}

Result<std::size_t> Agent::fetch_with_retry(std::uint32_t offset, MutableByteView out,
                                            std::uint8_t& attempts) {
  while (true) {
    Result<std::size_t> got = ports_.transport.fetch(answer_.artifact.data(), offset, out);
    if (got.ok() && *got > 0) {
      attempts = 0;  // progress: the link works, whatever happened before
      bytes_fetched_ += *got;
      return got;
    }
    if (got.ok()) return ErrorCode::kArtifactTruncated;  // the server has no more bytes
    if (++attempts >= config_.max_attempts) return ErrorCode::kTransportRetriesExhausted;
  }
}

Result<void> Agent::download(const UpdateTarget& target, DownloadJournal& journal) {
  if (target.kind == ArtifactKind::kFullImage) return download_full(target, journal);
  if (journal.staged || stages(target)) return download_staged(target, journal);
  return download_delta(target, journal);
}

bool Agent::stages(const UpdateTarget& target) const {
  return ports_.transport.block_size() != 0 && layout_.staging_size >= target.artifact_size;
}

// Errors a bad byte in transit causes: fetching the frame again may cure them.
bool Agent::is_data_error(ErrorCode error) {
  return error == ErrorCode::kPatchCorrupt || error == ErrorCode::kPatchFrameChecksum ||
         error == ErrorCode::kPatchHeaderChecksum || error == ErrorCode::kPatchBadMagic ||
         error == ErrorCode::kPatchOutputMismatch;
}

Result<void> Agent::download_delta(const UpdateTarget& target, DownloadJournal& journal) {
  // A frame that arrives damaged is fetched again from the last checkpoint; three
  // damaged tries in a row end the cycle like a dead link, journal kept.
  for (std::uint8_t damaged = 0;;) {
    Result<void> r = stream_delta(target, journal);
    if (r.ok() || !is_data_error(r.error())) return r;
    if (++damaged >= config_.max_attempts) return ErrorCode::kTransportRetriesExhausted;
  }
}

Result<void> Agent::stream_delta(const UpdateTarget& target, DownloadJournal& journal) {
  const SlotInfo& running = state_.slots[running_slot_];
  SlotReader reader(ports_.flash, layout_.slot_offset[running_slot_], running.size);
  SlotWriter writer(ports_.flash, layout_.slot_offset[journal.target], layout_.slot_size);
  delta::Patcher patcher(reader, writer, workspace_);
  std::uint32_t offset = 0;
  if (journal.has_checkpoint) {
    if (!patcher.resume(journal.checkpoint).ok()) {
      // An unusable checkpoint only costs the download so far: start over, once.
      journal.has_checkpoint = false;
      return stream_delta(target, journal);
    }
    offset = patcher.checkpoint_patch_offset();
    writer.restart_at(patcher.new_offset());
  }

  std::uint8_t attempts = 0;
  while (!patcher.done()) {
    if (offset >= target.artifact_size) return ErrorCode::kPatchTruncated;
    const std::uint32_t want = std::min<std::uint32_t>(kBufferBytes, target.artifact_size - offset);
    UPDRAFT_TRY_ASSIGN(std::size_t got,
                       fetch_with_retry(offset, MutableByteView(buffer_.data(), want), attempts));
    UPDRAFT_TRY_ASSIGN(bool seek, feed(patcher, ByteView(buffer_.data(), got), target, journal));
    offset = seek ? patcher.checkpoint_patch_offset() : offset + static_cast<std::uint32_t>(got);
    progress(offset, target.artifact_size, target);
  }
  return patcher.finish();
}

Result<bool> Agent::feed(delta::Patcher& patcher, ByteView bytes, const UpdateTarget& target,
                         DownloadJournal& journal) {
  const std::uint32_t sector = ports_.flash.geometry().sector_size;
  std::size_t pos = 0;
  while (pos < bytes.size() && !patcher.done()) {
    UPDRAFT_TRY_ASSIGN(delta::Patcher::FeedResult fed, patcher.feed(bytes.subspan(pos)));
    pos += fed.consumed;
    if (fed.seek) return true;  // resumed: the rest comes from checkpoint_patch_offset()
    if (fed.checkpoint) {
      // Resuming restarts at a frame; it must start on a sector, which is erased first.
      if (patcher.header().params.frame_size % sector != 0) return ErrorCode::kAgentFrameMisfit;
      if (patcher.header().new_size != target.image_size) return ErrorCode::kHashMismatch;
      journal.has_checkpoint = true;
      patcher.save_checkpoint(journal.checkpoint);
      UPDRAFT_TRY(save_journal(journal));
    }
  }
  if (pos < bytes.size()) return ErrorCode::kPatchTrailingData;
  return false;
}

void Agent::progress(std::uint32_t done, std::uint32_t total, const UpdateTarget& target) {
  const auto percent = static_cast<std::uint8_t>(std::uint64_t{done} * 100 / total);
  if (percent >= last_percent_ + 10) {
    last_percent_ = percent;
    report(Phase::kDownloading, ErrorCode::kOk, percent, target.version.data());
  }
}

Result<void> Agent::download_full(const UpdateTarget& target, DownloadJournal& journal) {
  if (target.artifact_size != target.image_size) return ErrorCode::kManifestMalformed;
  // install() checks the slot's SHA-256 against the manifest, reading flash.
  return fetch_to_flash(layout_.slot_offset[journal.target], layout_.slot_size, target, journal);
}

Result<void> Agent::download_staged(const UpdateTarget& target, DownloadJournal& journal) {
  if (layout_.staging_size < target.artifact_size) return ErrorCode::kAgentImageTooLarge;
  if (journal.phase != DownloadJournal::Phase::kApplying) {
    journal.staged = true;
    UPDRAFT_TRY(fetch_to_flash(layout_.staging_offset, layout_.staging_size, target, journal));
    // The paper's "total checksum": the whole patch, as the manifest names it.
    UPDRAFT_TRY_ASSIGN(Sha256Digest staged,
                       hash_region(ports_.flash, layout_.staging_offset, target.artifact_size));
    if (!same_hash(staged, target.artifact_hash)) {
      // Every block passed its CRC, so the server's file itself differs: start over.
      journal.has_checkpoint = false;
      journal.full_offset = 0;
      (void)save_journal(journal);
      return ErrorCode::kHashMismatch;
    }
    journal.phase = DownloadJournal::Phase::kApplying;
    journal.has_checkpoint = false;
    UPDRAFT_TRY(save_journal(journal));
  }
  return apply_staged(target, journal);
}

Result<void> Agent::apply_staged(const UpdateTarget& target, DownloadJournal& journal) {
  const SlotInfo& running = state_.slots[running_slot_];
  SlotReader reader(ports_.flash, layout_.slot_offset[running_slot_], running.size);
  SlotWriter writer(ports_.flash, layout_.slot_offset[journal.target], layout_.slot_size);
  delta::Patcher patcher(reader, writer, workspace_);
  std::uint32_t offset = 0;
  if (journal.has_checkpoint && patcher.resume(journal.checkpoint).ok()) {
    offset = patcher.checkpoint_patch_offset();
    writer.restart_at(patcher.new_offset());
  } else {
    journal.has_checkpoint = false;
  }
  while (!patcher.done()) {
    if (offset >= target.artifact_size) return ErrorCode::kPatchTruncated;
    const std::uint32_t n = std::min<std::uint32_t>(kBufferBytes, target.artifact_size - offset);
    UPDRAFT_TRY(
        ports_.flash.read(layout_.staging_offset + offset, MutableByteView(buffer_.data(), n)));
    UPDRAFT_TRY_ASSIGN(bool seek, feed(patcher, ByteView(buffer_.data(), n), target, journal));
    offset = seek ? patcher.checkpoint_patch_offset() : offset + n;
  }
  return patcher.finish();
}

Result<void> Agent::fetch_to_flash(std::uint32_t base, std::uint32_t capacity,
                                   const UpdateTarget& target, DownloadJournal& journal) {
  const FlashGeometry g = ports_.flash.geometry();
  const std::uint32_t block = ports_.transport.block_size();
  // With blocks, every block is journaled; a stream journals every
  // full_checkpoint_bytes, in whole sectors, to spare the journal's flash.
  const std::uint32_t interval =
      block != 0
          ? block
          : std::max(config_.full_checkpoint_bytes, g.sector_size) / g.sector_size * g.sector_size;
  const std::uint32_t chunk = std::min<std::uint32_t>(kBufferBytes, interval);
  if (interval % g.write_align != 0 || chunk % g.write_align != 0)
    return ErrorCode::kFlashMisaligned;
  SlotWriter writer(ports_.flash, base, capacity);
  std::uint32_t offset = 0;
  if (journal.has_checkpoint && journal.full_offset <= target.artifact_size &&
      journal.full_offset % interval == 0) {
    offset = journal.full_offset;
    // Inside a sector, keep what is before the resume point if the rest of the
    // sector is still erased (the cut came between two blocks); otherwise the
    // cut hit a write there, and the sector is fetched again from its start.
    const std::uint32_t sector_end = (offset + g.sector_size - 1) / g.sector_size * g.sector_size;
    UPDRAFT_TRY_ASSIGN(bool clean, region_erased(ports_.flash, base + offset, sector_end - offset));
    if (offset % g.sector_size != 0 && clean) {
      writer.continue_at(offset, g.sector_size);
    } else {
      offset = offset / g.sector_size * g.sector_size;
      writer.restart_at(offset);
    }
  } else {
    writer.restart_at(0);
  }
  std::uint8_t attempts = 0;
  while (offset < target.artifact_size) {
    const std::uint32_t want = std::min(chunk, target.artifact_size - offset);
    std::uint32_t filled = 0;
    while (filled < want) {
      UPDRAFT_TRY_ASSIGN(
          std::size_t got,
          fetch_with_retry(offset + filled, MutableByteView(buffer_.data() + filled, want - filled),
                           attempts));
      filled += static_cast<std::uint32_t>(got);
    }
    // buffer_ is filled completely before each write, so writes stay aligned.
    UPDRAFT_TRY(writer.write(offset, ByteView(buffer_.data(), want)));
    offset += want;
    if (offset % interval == 0 && offset < target.artifact_size) {
      journal.has_checkpoint = true;
      journal.full_offset = offset;
      UPDRAFT_TRY(save_journal(journal));
    }
    progress(offset, target.artifact_size, target);
  }
  return {};
}

Result<void> Agent::install(const UpdateTarget& target, DownloadJournal& journal) {
  // Verify what is in flash, not what passed through RAM.
  UPDRAFT_TRY_ASSIGN(
      Sha256Digest digest,
      hash_region(ports_.flash, layout_.slot_offset[journal.target], target.image_size));
  if (!same_hash(digest, target.image_hash)) return ErrorCode::kHashMismatch;
  SlotInfo info;
  info.valid = true;
  info.size = target.image_size;
  info.hash = target.image_hash;
  info.security_counter = target.security_counter;
  info.version = target.version;
  journal.phase = DownloadJournal::Phase::kAwaitingTrial;
  journal.installed = info;
  UPDRAFT_TRY(save_journal(journal));
  return boot_.schedule_trial(journal.target, info);
}

}  // namespace updraft::agent
