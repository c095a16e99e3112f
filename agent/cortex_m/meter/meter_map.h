// Where the water meter keeps what (see docs/agent-mcu.md): the constants the meter
// firmware and its host tools (host/meter_provision.cpp, scripts/meter_check.sh)
// must agree on. Header-only, no dependencies beyond the agent's port types.
//
// The meter is modelled on an STM32L071 water meter (192 KB of flash, 20 KB of RAM)
// and emulated on QEMU's `microbit` (nRF51822: 256 KB of flash, 16 KB of RAM):
//   - the firmware (agent + crypto + ports) runs from the nRF51's own flash, and the
//     linker holds it to 48 KB, the part of a 192 KB meter the agent may take;
//   - the factory provisioning page sits at the top of the nRF51's flash;
//   - the update slots, the staging area and the record areas live on an emulated
//     192 KB NOR flash with 1 KB sectors: a host file reached through semihosting.
#pragma once

#include <cstdint>

#include "agent/port/flash.h"

namespace updraft::meter {

// The emulated NOR flash: 192 KiB in 1 KiB sectors (the nRF51's page size),
// programmed in 32-bit words.
inline constexpr agent::FlashGeometry kFlashGeometry{192 * 1024, 1024, 4, std::byte{0xFF}};

// plan_layout(kFlashGeometry, kImageCapacity, kStagingCapacity) fills the 192 KiB
// exactly: slot A (80 KiB) | slot B (80 KiB) | staging (28 KiB) | boot state (2 KiB)
// | journal (2 KiB). Staging holds a patch of up to 35 % of a slot, so patches are
// fetched block by block into it and resumed per block.
inline constexpr std::uint32_t kImageCapacity = 80 * 1024;
inline constexpr std::uint32_t kStagingCapacity = 28 * 1024;

// The factory provisioning page (provisioning.h): the last 4 KiB of the nRF51's
// flash. QEMU loads it there: -device loader,file=...,addr=0x3f000,force-raw=on.
inline constexpr std::uint32_t kProvisioningAddress = 0x0003F000;
inline constexpr std::uint32_t kProvisioningSize = 4096;

// Host files, relative to QEMU's working directory.
inline constexpr const char* kFlashFile = "meter-flash.bin";
// While this file exists, the application's health check fails (rollback tests).
inline constexpr const char* kUnhealthyFlagFile = "meter-unhealthy";

// QEMU's exit status, which tells the harness what the meter did.
enum ExitStatus : std::uint32_t {
  kExitDone = 0,     // nothing left to do: no update offered, or a trial confirmed/reverted
  kExitReboot = 64,  // BootControl::reboot(): the harness starts QEMU again (a reset)
  kExitGaveUp = 65,  // cycles kept failing; a real meter sleeps until its next check-in
  kExitFatal = 70,   // no provisioning, no flash file, nothing bootable
  kExitFault = 71,   // a fault exception
};

}  // namespace updraft::meter
