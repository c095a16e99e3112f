#include "agent/linux/agent_status.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>

#include "agent/boot_logic.h"
#include "agent/download_journal.h"
#include "agent/linux/logged_transport.h"
#include "agent/record_store.h"
#include "core/host/hex.h"

namespace updraft::agent {
namespace {

using nlohmann::json;

// Whether an agent holds the state file's lock (agent/linux/updraft_agent_main.cpp).
bool agent_running(const std::string& state) {
  const int fd = ::open(state.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // drops a shared lock taken here
  return held;
}

const char* journal_phase(DownloadJournal::Phase phase) {
  switch (phase) {
    case DownloadJournal::Phase::kDownloading:
      return "downloading";
    case DownloadJournal::Phase::kApplying:
      return "applying";
    case DownloadJournal::Phase::kAwaitingTrial:
      return "awaiting-trial";
    case DownloadJournal::Phase::kIdle:
      break;
  }
  return "idle";
}

}  // namespace

HostResult<std::string> agent_status(const SlotFilesFlash::Paths& paths, bool as_json,
                                     const BootloaderEnv* bootloader, const std::string& cmdline) {
  UPDRAFT_TRY_ASSIGN(std::unique_ptr<SlotFilesFlash> flash, SlotFilesFlash::open(paths, 0));
  const FlashLayout& layout = flash->layout();
  BootLogic boot(*flash, layout);
  Result<BootState> state = boot.load();
  if (!state.ok()) {
    return Error(ErrorCode::kIoError, paths.state + ": no boot state (" +
                                          std::string(describe(state.error())) +
                                          "); provision first?");
  }
  json out;
  out["agent"] = agent_running(paths.state) ? "running" : "not running";
  out["confirmed_slot"] = slot_name(state->active);
  const char* trial = state->trial_state == TrialState::kPending  ? "pending"
                      : state->trial_state == TrialState::kBooted ? "booted, not confirmed"
                                                                  : "none";
  out["trial"] = trial;
  if (state->trial != kNoSlot) out["trial_slot"] = slot_name(state->trial);
  for (SlotIndex i = 0; i < 2; ++i) {
    const SlotInfo& s = state->slots[i];
    json slot = {{"valid", s.valid}};
    if (s.valid) {
      slot["version"] = std::string(s.version.data());
      slot["size"] = s.size;
      slot["sha256"] = to_hex(s.hash);
      slot["security_counter"] = s.security_counter;
    }
    out["slots"][slot_name(i)] = slot;
  }

  RecordStore journal_store(*flash, layout.journal_offset, kRecordSlotSize);
  std::byte bytes[kJournalBytes];
  Result<std::uint32_t> n = journal_store.load(bytes);
  json download = {{"phase", "idle"}};
  if (n.ok()) {
    if (Result<DownloadJournal> j = decode_journal(ByteView(bytes, *n)); j.ok()) {
      download["phase"] = journal_phase(j->phase);
      if (j->phase != DownloadJournal::Phase::kIdle) {
        download["slot"] = slot_name(j->target);
        download["kind"] = j->kind == ArtifactKind::kPatch ? "delta" : "full";
        if (j->phase == DownloadJournal::Phase::kAwaitingTrial) {
          download["version"] = std::string(j->installed.version.data());
        } else if (j->full_offset != 0) {
          download["bytes_in_flash"] = j->full_offset;
        }
      }
    }
  }
  out["download"] = download;
  std::int64_t deployment = 0;
  std::ifstream(paths.state + ".deployment") >> deployment;
  // The deployment whose outcome the agent reports next (0: none yet).
  out["deployment"] = deployment;
  json pending = json::array();
  for (const QueuedReport& q : read_report_queue(paths.state + ".reports")) {
    pending.push_back({{"deployment", q.deployment},
                       {"phase", phase_name(q.report.phase)},
                       {"error", q.report.error},
                       {"version", q.report.target.data()}});
  }
  out["pending_reports"] = pending;
  if (bootloader != nullptr) {
    json b;
    b["kind"] = bootloader->options().kind == BootloaderEnv::Kind::kGrub ? "grub" : "u-boot";
    HostResult<BootloaderSlots> env = bootloader->read();
    if (env.ok()) {
      b["confirmed_slot"] = slot_name(env->active);
      b["trial"] = env->trial == kNoSlot ? "none" : slot_name(env->trial);
      b["tries"] = env->tries;
    } else {
      b["error"] = env.error().message;
    }
    HostResult<SlotIndex> booted = booted_slot(cmdline);
    b["booted_slot"] = booted.ok() ? slot_name(*booted) : "unknown";
    out["bootloader"] = b;
  }

  if (as_json) return out.dump(2) + "\n";
  std::string text;
  const auto line = [&](const std::string& key, const std::string& value) {
    text += key + ": " + value + "\n";
  };
  line("agent", out["agent"]);
  for (SlotIndex i = 0; i < 2; ++i) {
    const json& s = out["slots"][slot_name(i)];
    std::string value = !s["valid"].get<bool>()
                            ? "empty or being written"
                            : s["version"].get<std::string>() + ", " +
                                  std::to_string(s["size"].get<std::uint32_t>()) +
                                  " bytes, sha256 " + s["sha256"].get<std::string>().substr(0, 16);
    if (state->active == i) value += " (confirmed)";
    if (state->trial == i) value += std::string(" (trial ") + trial + ")";
    line(std::string("slot ") + slot_name(i), value);
  }
  std::string d = download["phase"];
  if (download.contains("slot")) {
    d += " into slot " + download["slot"].get<std::string>() + " (" +
         download["kind"].get<std::string>() + ")";
  }
  if (download.contains("version")) d += ", version " + download["version"].get<std::string>();
  line("download", d);
  line("deployment", deployment == 0 ? "none" : std::to_string(deployment));
  std::string reports = pending.empty() ? "none" : "";
  for (const json& p : pending) {
    if (!reports.empty()) reports += "; ";
    reports += p["phase"].get<std::string>() + " of deployment " +
               std::to_string(p["deployment"].get<std::int64_t>()) + " (" +
               p["version"].get<std::string>() + ", error " +
               std::to_string(p["error"].get<unsigned>()) + ")";
  }
  line("reports waiting for the server", reports);
  if (out.contains("bootloader")) {
    const json& b = out["bootloader"];
    line("boot loader",
         b.contains("error")
             ? b["kind"].get<std::string>() + ": " + b["error"].get<std::string>()
             : b["kind"].get<std::string>() + ", confirmed " +
                   b["confirmed_slot"].get<std::string>() + ", trial " +
                   b["trial"].get<std::string>() +
                   (b["trial"] != "none"
                        ? " (" + std::to_string(b["tries"].get<unsigned>()) + " tries left)"
                        : "") +
                   ", booted " + b["booted_slot"].get<std::string>());
  }
  return text;
}

}  // namespace updraft::agent
