#include "agent/linux/linux_boot_control.h"

#include <unistd.h>

#include "agent/linux/log.h"
#include "agent/linux/shell_command.h"

namespace updraft::agent {

bool LinuxBootControl::healthy() {
  const bool ok = judge();
  if (options_.bootloader == nullptr) return ok;
  // The verdict goes to the boot loader first: confirmed, it boots this slot
  // from now on; failed, it boots the confirmed slot at the reboot that follows.
  const BootloaderSlots verdict{ok ? slot_ : options_.confirmed, kNoSlot, 0};
  if (auto r = options_.bootloader->write(verdict); !r.ok()) {
    log_error("trial: %s", r.error().message.c_str());
    return false;  // unconfirmed in the boot loader: the boot state must not say otherwise
  }
  log_line("trial: slot %s %s in the boot loader's environment", slot_name(verdict.active),
           ok ? "confirmed" : "is the fallback");
  return ok;
}

bool LinuxBootControl::judge() {
  if (options_.health_cmd.empty()) {
    if (options_.bootloader == nullptr || options_.await_confirm_seconds == 0) return true;
    return confirmed_by_command();
  }
  const std::string& image = slot_ == 0 ? options_.slot_a : options_.slot_b;
  log_line("trial: running the health check: %s", options_.health_cmd.c_str());
  const int status = run_shell_command(options_.health_cmd,
                                       {"UPDRAFT_SLOT=" + std::string(slot_name(slot_)),
                                        "UPDRAFT_IMAGE=" + image, "UPDRAFT_VERSION=" + version_});
  log_line("trial: health check exited %d: %s", status, status == 0 ? "healthy" : "unhealthy");
  return status == 0;
}

// `updraft-agent confirm` writes the slot as active in the boot loader's
// environment; polled once a second.
bool LinuxBootControl::confirmed_by_command() {
  log_line("trial: waiting up to %u s for updraft-agent confirm", options_.await_confirm_seconds);
  for (std::uint32_t waited = 0; waited <= options_.await_confirm_seconds; ++waited) {
    if (options_.stop != nullptr && options_.stop->load()) break;
    HostResult<BootloaderSlots> slots = options_.bootloader->read();
    if (slots.ok() && slots->active == slot_ && slots->trial == kNoSlot) {
      log_line("trial: confirmed by updraft-agent confirm");
      return true;
    }
    if (waited < options_.await_confirm_seconds) ::sleep(1);
  }
  log_warning("trial: not confirmed within %u s", options_.await_confirm_seconds);
  return false;
}

}  // namespace updraft::agent
