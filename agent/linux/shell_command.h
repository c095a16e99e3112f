// Runs the operator's hooks (--health-cmd, --on-reboot) with /bin/sh, and the boot
// loader's tools (grub-editenv, fw_setenv) without a shell. Host only.
#pragma once

#include <string>
#include <vector>

namespace updraft::agent {

// Runs `command` with /bin/sh -c, the environment plus `env_extra` ("NAME=value"),
// and waits for it. Returns its exit status, 128 + the signal that killed it, or
// -1 when it could not be started.
int run_shell_command(const std::string& command, const std::vector<std::string>& env_extra);

struct ProgramOutput {
  int status = -1;     // as run_shell_command returns it
  std::string output;  // what it wrote to stdout; stderr goes to ours
};

// Runs argv[0] (found on PATH) with `argv`, and collects its standard output.
ProgramOutput run_program(const std::vector<std::string>& argv);

}  // namespace updraft::agent
