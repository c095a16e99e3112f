// Runs the operator's hooks (--health-cmd, --on-reboot) with /bin/sh. Host only.
#pragma once

#include <string>
#include <vector>

namespace updraft::agent {

// Runs `command` with /bin/sh -c, the environment plus `env_extra` ("NAME=value"),
// and waits for it. Returns its exit status, 128 + the signal that killed it, or
// -1 when it could not be started.
int run_shell_command(const std::string& command, const std::vector<std::string>& env_extra);

}  // namespace updraft::agent
