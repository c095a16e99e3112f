// The device's update agent (portable, no heap): check in, download the artifact
// straight into the patcher (or the slot, for a full image), verify, schedule a
// trial boot, then confirm or report the rollback.
//
//   Idle -> Check -> Download+Apply -> Verify -> MarkTrial -> Reboot -> Confirm | RollBack
//
// Every step that matters after a power cut is in flash: the download journal
// (resume point) and the boot state (which slot boots). A cut at any flash
// operation loses at most the frame in progress; the next run resumes from the
// last checkpoint with a ranged fetch. Failures are reported with their error
// number and the version the device runs.
//
// Root rotation (optional, set_root_updater()): a newer root the server sends
// with a check-in answer is verified and kept in flash (agent/root_keeper.h) before
// the answer's manifest is checked.
//
// RAM: this object (~2.3 KB: check-in answer with its manifest, a 512-byte
// download buffer) + the caller's patch workspace (the patch header says how much;
// 8 KB for mcu-tiny) + < 1.5 KB of stack. Not thread-safe.
#pragma once

#include <array>
#include <cstdint>

#include "agent/boot_logic.h"
#include "agent/download_journal.h"
#include "agent/flash_layout.h"
#include "agent/port/boot_control.h"
#include "agent/port/clock.h"
#include "agent/port/flash.h"
#include "agent/port/random.h"
#include "agent/port/transport.h"
#include "agent/record_store.h"
#include "agent/update_policy.h"
#include "agent/update_target.h"
#include "delta/patch/patcher.h"

namespace updraft::agent {

struct AgentConfig {
  UpdatePolicy policy;
  std::uint8_t max_attempts = 3;        // transfer attempts per cycle before backing off
  std::uint32_t backoff_seconds = 600;  // sleep after the attempts ran out
  std::uint32_t full_checkpoint_bytes = 32 * 1024;  // journal interval for full images
  // The transport reads a release from a local file (updraft-agent install): its
  // manifest answers no check-in, so no nonce is asked of it (CheckContext::local).
  bool local_install = false;
};

struct Ports {
  Flash& flash;
  Transport& transport;
  Clock& clock;
  Random& random;
  BootControl& boot_control;
  ManifestChecker& checker;
};

struct CycleResult {
  enum class Next : std::uint8_t { kSleep, kReboot };
  Next next = Next::kSleep;
  std::uint32_t sleep_seconds = 0;
  ErrorCode error = ErrorCode::kOk;  // why the cycle stopped short, kOk otherwise
  bool installed = false;            // a new image waits for its trial boot
};

class Agent {
 public:
  Agent(const Ports& ports, const FlashLayout& layout, const AgentConfig& config,
        MutableByteView workspace);

  // Runs once after every reset, with the boot logic's decision: confirms a
  // healthy trial, reports a rollback, or finishes an install a power cut interrupted.
  CycleResult on_boot(const BootDecision& boot);

  // One update cycle. Returns when to run the next one, or that a reboot is due
  // (after calling BootControl::reboot()).
  CycleResult run_cycle();

  // Keeps the trusted root current: each check-in then sends the root's version,
  // and a newer root in the answer is installed (and the check-in asked again,
  // under it) before any manifest is checked. A root refused is reported like a
  // refused manifest, with its 2xx number. nullptr (the default): no rotation.
  void set_root_updater(RootUpdater* roots) { roots_ = roots; }

  // The device's UI confirmed the pending update (policy require_user_confirmation).
  void user_confirmed() { user_confirmed_ = true; }

  // Device conditions reported at check-in and read by the policy.
  void set_conditions(std::uint8_t battery_percent, NetworkType network) {
    battery_percent_ = battery_percent;
    network_ = network;
  }

  SlotIndex running_slot() const { return running_slot_; }
  // Bytes fetched from the transport since construction (for tests and the simulator).
  std::uint64_t bytes_fetched() const { return bytes_fetched_; }

 private:
  Result<void> load_state();
  Result<void> download(const UpdateTarget& target, DownloadJournal& journal);
  // A patch streamed into the patcher, frame by frame (HTTP): damaged frames
  // are fetched again from the last checkpoint, up to max_attempts in a row.
  Result<void> download_delta(const UpdateTarget& target, DownloadJournal& journal);
  Result<void> stream_delta(const UpdateTarget& target, DownloadJournal& journal);
  // A patch fetched block by block into the staging area, checked whole, then
  // applied from flash (a block transport with room to stage).
  Result<void> download_staged(const UpdateTarget& target, DownloadJournal& journal);
  Result<void> apply_staged(const UpdateTarget& target, DownloadJournal& journal);
  Result<void> download_full(const UpdateTarget& target, DownloadJournal& journal);
  // Fetches the artifact into flash at `base`, journaling the bytes written at
  // every block (or every full_checkpoint_bytes of a stream) and resuming there.
  Result<void> fetch_to_flash(std::uint32_t base, std::uint32_t capacity,
                              const UpdateTarget& target, DownloadJournal& journal);
  Result<bool> feed(delta::Patcher& patcher, ByteView bytes, const UpdateTarget& target,
                    DownloadJournal& journal);
  void progress(std::uint32_t done, std::uint32_t total, const UpdateTarget& target);
  bool stages(const UpdateTarget& target) const;
  static bool is_data_error(ErrorCode error);
  Result<std::size_t> fetch_with_retry(std::uint32_t offset, MutableByteView out,
                                       std::uint8_t& attempts);
  Result<void> install(const UpdateTarget& target, DownloadJournal& journal);
  // Verifies, schedules the trial and asks for the reboot.
  CycleResult finish_install(const UpdateTarget& target, DownloadJournal& journal,
                             std::uint32_t poll);
  // True when `slot`'s flash already holds the target image.
  Result<bool> slot_holds(SlotIndex slot, const UpdateTarget& target);
  Result<void> save_journal(const DownloadJournal& journal);
  Result<bool> load_journal(DownloadJournal& journal);
  void report(Phase phase, ErrorCode error, std::uint8_t percent, const char* target_version);
  CycleResult fail(ErrorCode error, const char* target_version, std::uint32_t sleep);

  Ports ports_;
  RootUpdater* roots_ = nullptr;
  FlashLayout layout_;
  AgentConfig config_;
  MutableByteView workspace_;
  BootLogic boot_;
  RecordStore journal_store_;
  BootState state_{};
  SlotIndex running_slot_ = 0;
  std::uint8_t battery_percent_ = 100;
  NetworkType network_ = NetworkType::kUnknown;
  bool user_confirmed_ = false;
  std::uint64_t bytes_fetched_ = 0;
  std::uint8_t last_percent_ = 0;
  CheckInAnswer answer_{};
  static constexpr std::uint32_t kBufferBytes = 512;
  std::array<std::byte, kBufferBytes> buffer_{};
};

}  // namespace updraft::agent
