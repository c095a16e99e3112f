// The BootControl of a Linux gateway (agent/port/boot_control.h). reboot() records
// the request; the daemon acts on it after the cycle, by running --on-reboot and
// re-executing itself (agent_daemon.h says why). healthy() runs the operator's
// --health-cmd for a trial boot, with UPDRAFT_SLOT, UPDRAFT_IMAGE and
// UPDRAFT_VERSION in its environment; no command means healthy. With a real boot
// loader (bootloader_env.h) it can wait instead for `updraft-agent confirm`, and
// it records the verdict in the boot loader's environment before the agent
// records it in the boot state: a power cut between the two repeats the trial's
// check, it never boots a slot the agent has not confirmed. Host only.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "agent/boot_state.h"
#include "agent/linux/bootloader_env.h"
#include "agent/port/boot_control.h"

namespace updraft::agent {

class LinuxBootControl final : public BootControl {
 public:
  struct Options {
    std::string health_cmd;  // exit 0 = healthy; empty: always healthy
    std::string slot_a;      // slot files or block devices, for UPDRAFT_IMAGE
    std::string slot_b;
    const BootloaderEnv* bootloader = nullptr;  // none: the daemon plays the boot loader
    SlotIndex confirmed = 0;                    // the slot the boot loader falls back to
    // With a boot loader and no health_cmd: how long a trial waits for
    // `updraft-agent confirm`; 0: no wait, the trial is healthy.
    std::uint32_t await_confirm_seconds = 0;
    const std::atomic<bool>* stop = nullptr;  // ends the wait early (SIGTERM)
  };

  // `slot` and `version`: what the boot logic started, for the health check.
  LinuxBootControl(Options options, SlotIndex slot, std::string version)
      : options_(std::move(options)), slot_(slot), version_(std::move(version)) {}

  void reboot() override { reboot_requested_ = true; }
  bool healthy() override;

  bool reboot_requested() const { return reboot_requested_; }

 private:
  bool judge();
  bool confirmed_by_command();

  Options options_;
  SlotIndex slot_;
  std::string version_;
  bool reboot_requested_ = false;
};

}  // namespace updraft::agent
