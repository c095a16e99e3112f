// `updraft-agent status`: what the slots, the boot state and the download
// journal hold, read from the state file without taking the agent's lock, so it
// works beside a running agent (docs/agent-linux.md). Host only.
#pragma once

#include <string>

#include "agent/posix/slot_files_flash.h"
#include "core/host/error.h"

namespace updraft::agent {

// The report as text (one "key: value" line each) or JSON; kIoError when the
// state file cannot be read (not provisioned?).
HostResult<std::string> agent_status(const SlotFilesFlash::Paths& paths, bool json);

}  // namespace updraft::agent
