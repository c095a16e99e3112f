// Runs a shell command line for the CLI's tests and keeps what it printed, so a
// test can assert on the real `updraft` binary's exit code and output. Host only.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace updraft::cli::testing {

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `command_line` in `dir` through /bin/sh.
inline CliRun run_in(const std::string& dir, const std::string& command_line) {
  const std::string command = "cd '" + dir + "' && " + command_line + " 2>&1";
  CliRun run;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) run.output.append(buffer, n);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

}  // namespace updraft::cli::testing
