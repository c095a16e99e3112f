// The water meter's firmware main: what runs after every reset.
//
//   1. the bootloader's part: BootLogic::boot() picks the slot (a pending trial is
//      recorded as booted before it starts) — under QEMU the firmware then goes
//      on running from the nRF51's flash, standing in for the image in that slot;
//   2. Agent::on_boot(): confirm a healthy trial and report success, or report the
//      rollback, or finish an install a power cut interrupted;
//   3. Agent::run_cycle() until the update ends (nothing offered, or done) or a
//      reboot is due; a failed cycle is retried after a (shortened) sleep.
// It prints one semihosting line per event and, at the end, the link's counters
// and the RAM figures, then leaves QEMU with a meter_map.h ExitStatus.
#pragma once

namespace updraft::meter {

[[noreturn]] void run_meter();

}  // namespace updraft::meter
