// `updraft-agent status`: what the slots, the boot state and the download
// journal hold, read from the state file without taking the agent's lock, so it
// works beside a running agent (docs/agent-linux.md). Host only.
#pragma once

#include <string>

#include "agent/linux/bootloader_env.h"
#include "agent/posix/slot_files_flash.h"
#include "core/host/error.h"

namespace updraft::agent {

// The report as text (one "key: value" line each) or JSON; kIoError when the
// state file cannot be read (not provisioned?).
// With `bootloader`, also what its environment offers and which slot the kernel
// command line (`cmdline`) says booted.
HostResult<std::string> agent_status(const SlotFilesFlash::Paths& paths, bool json,
                                     const BootloaderEnv* bootloader = nullptr,
                                     const std::string& cmdline = "/proc/cmdline");

}  // namespace updraft::agent
