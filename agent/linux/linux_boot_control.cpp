#include "agent/linux/linux_boot_control.h"

#include "agent/linux/log.h"
#include "agent/linux/shell_command.h"

namespace updraft::agent {

const char* slot_name(SlotIndex slot) { return slot == 0 ? "A" : "B"; }

bool LinuxBootControl::healthy() {
  if (options_.health_cmd.empty()) return true;
  const std::string& image = slot_ == 0 ? options_.slot_a : options_.slot_b;
  log_line("trial: running the health check: %s", options_.health_cmd.c_str());
  const int status = run_shell_command(options_.health_cmd,
                                       {"UPDRAFT_SLOT=" + std::string(slot_name(slot_)),
                                        "UPDRAFT_IMAGE=" + image, "UPDRAFT_VERSION=" + version_});
  log_line("trial: health check exited %d: %s", status, status == 0 ? "healthy" : "unhealthy");
  return status == 0;
}

}  // namespace updraft::agent
