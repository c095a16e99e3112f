// A real boot loader's slot choice (docs/agent-linux.md, "A real boot loader").
// GRUB keeps it in its grubenv file (written with grub-editenv, from grub-common),
// U-Boot in its environment (fw_printenv/fw_setenv, from libubootenv-tool). Three
// variables, which the boot script reads (packaging/grub/, packaging/u-boot/):
//
//   updraft_active  A or B: the confirmed slot, booted when no trial is due
//   updraft_trial   A or B: the slot on trial, or empty
//   updraft_tries   trial boots left; the script takes one at each trial boot
//                   and boots updraft_active once none is left
//
// The kernel command line says which slot booted: `updraft.slot=A` (or B), which
// the boot script adds. Host only.
#pragma once

#include <string>
#include <vector>

#include "agent/boot_state.h"
#include "core/host/error.h"

namespace updraft::agent {

struct BootloaderSlots {
  SlotIndex active = 0;
  SlotIndex trial = kNoSlot;
  unsigned tries = 0;
};

class BootloaderEnv {
 public:
  enum class Kind { kGrub, kUBoot };
  struct Options {
    Kind kind = Kind::kGrub;
    std::string grub_env = "/boot/grub/grubenv";
    std::string uboot_config;  // fw_env.config for fw_setenv -c; empty: the tool's default
  };

  explicit BootloaderEnv(Options options) : options_(std::move(options)) {}

  // A missing variable reads as its default (active A, no trial, no tries).
  HostResult<BootloaderSlots> read() const;
  // All three variables in one call of the tool, so in one write of the store.
  HostResult<void> write(const BootloaderSlots& slots) const;

  const Options& options() const { return options_; }

 private:
  // fw_printenv or fw_setenv, with -c when a config file is named.
  std::vector<std::string> uboot_tool(const std::string& tool) const;
  Options options_;
};

// "A" or "B", as the environment, the kernel command line, logs, status and the
// health check's UPDRAFT_SLOT name slots; "" for kNoSlot.
const char* slot_name(SlotIndex slot);

// "grub" or "u-boot" into `kind`; false for anything else.
bool parse_bootloader_kind(const std::string& text, BootloaderEnv::Kind& kind);

// The slot named by `updraft.slot=` in a kernel command line (/proc/cmdline).
// kInvalidArgument when the file has none: the boot script must add it.
HostResult<SlotIndex> booted_slot(const std::string& cmdline_path);

}  // namespace updraft::agent
