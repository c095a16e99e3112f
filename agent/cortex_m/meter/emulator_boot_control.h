// The meter's BootControl under QEMU. reboot() is a reset: QEMU exits with
// kExitReboot and the harness (scripts/meter_check.sh) starts it again on the same
// flash file, so the next run begins with the boot logic, as after a reset.
// healthy() is the application's self-test after a trial boot: true unless the
// host file kUnhealthyFlagFile exists (the harness's rollback test).
#pragma once

#include "agent/port/boot_control.h"

namespace updraft::meter {

class EmulatorBootControl final : public agent::BootControl {
 public:
  // `before_reset` runs first (the meter prints its figures); it must return.
  explicit EmulatorBootControl(void (*before_reset)()) : before_reset_(before_reset) {}

  [[noreturn]] void reboot() override;
  bool healthy() override;

 private:
  void (*before_reset_)();
};

}  // namespace updraft::meter
