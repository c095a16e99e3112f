// The boot step when a real boot loader chose the slot (updraft-agent run
// --bootloader grub|u-boot). Without one, BootLogic::boot() plays the boot loader
// at each start of the daemon; with one, the agent's boot state follows what the
// boot loader did, and the boot loader's environment (bootloader_env.h) follows
// the agent's trials. Host only.
//
//   state: trial of T | booted T            -> trial boot of T (health check next)
//                     | booted the other,
//                     |   T never booted and
//                     |   tries left or not
//                     |   offered yet        -> not rebooted into T yet: reboot
//                     | booted the other     -> the boot loader gave up on T: revert
//   state: no trial   | booted the confirmed -> normal boot
//                     | booted the other     -> adopted when it holds a verified image
#pragma once

#include "agent/boot_logic.h"
#include "agent/linux/bootloader_env.h"

namespace updraft::agent {

struct BootloaderBoot {
  BootDecision decision;
  bool reboot_due = false;  // a trial waits in the environment for the reboot into it
  bool reverted = false;    // the boot loader fell back from the trial
};

HostResult<BootloaderBoot> follow_bootloader(BootLogic& boot, const BootloaderEnv& env,
                                             SlotIndex booted);

// Before the reboot that starts a trial: offers the pending trial to the boot
// loader with `tries` boots. Nothing to do when no trial is pending.
HostResult<void> offer_trial(BootLogic& boot, const BootloaderEnv& env, unsigned tries);

// `updraft-agent confirm`, from the system booted on trial (a unit after
// multi-user.target, or the health check): makes the running slot the boot
// loader's confirmed slot. Needs no state file, so it runs beside the daemon,
// which sees the confirmation (run --await-confirm). Returns what it did; an
// error when the running slot is neither on trial nor confirmed.
HostResult<std::string> confirm_running_slot(const BootloaderEnv& env, SlotIndex booted);

}  // namespace updraft::agent
