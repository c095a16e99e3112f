// The BootControl of a Linux gateway (agent/port/boot_control.h). reboot() records
// the request; the daemon acts on it after the cycle, by running --on-reboot and
// re-executing itself (agent_daemon.h says why). healthy() runs the operator's
// --health-cmd for a trial boot, with UPDRAFT_SLOT, UPDRAFT_IMAGE and
// UPDRAFT_VERSION in its environment; no command means healthy. Host only.
#pragma once

#include <string>

#include "agent/boot_state.h"
#include "agent/port/boot_control.h"

namespace updraft::agent {

class LinuxBootControl final : public BootControl {
 public:
  struct Options {
    std::string health_cmd;  // exit 0 = healthy; empty: always healthy
    std::string slot_a;      // slot files or block devices, for UPDRAFT_IMAGE
    std::string slot_b;
  };

  // `slot` and `version`: what the boot logic started, for the health check.
  LinuxBootControl(Options options, SlotIndex slot, std::string version)
      : options_(std::move(options)), slot_(slot), version_(std::move(version)) {}

  void reboot() override { reboot_requested_ = true; }
  bool healthy() override;

  bool reboot_requested() const { return reboot_requested_; }

 private:
  Options options_;
  SlotIndex slot_;
  std::string version_;
  bool reboot_requested_ = false;
};

// "A" or "B", as logs and the health check's UPDRAFT_SLOT name slots.
const char* slot_name(SlotIndex slot);

}  // namespace updraft::agent
