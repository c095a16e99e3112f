#include "agent/cortex_m/meter/emulator_boot_control.h"

#include "agent/cortex_m/meter/meter_map.h"
#include "agent/cortex_m/semihosting.h"

namespace updraft::meter {

void EmulatorBootControl::reboot() {
  cortex_m::semihosting_write("meter: reboot\n");
  before_reset_();
  cortex_m::semihosting_exit_status(kExitReboot);
}

bool EmulatorBootControl::healthy() {
  const int flag = cortex_m::semihosting_open(kUnhealthyFlagFile, cortex_m::FileMode::kRead);
  if (flag < 0) return true;
  cortex_m::semihosting_close(flag);
  return false;
}

}  // namespace updraft::meter
