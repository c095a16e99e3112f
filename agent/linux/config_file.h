// `updraft-agent run --config FILE`: the options of `run` kept in a file, as
// packaged agents keep them (/etc/updraft/agent.conf; docs/agent-linux.md).
//
//   # comment
//   [run]                       optional, ignored
//   server = "https://updates.example.com:8443"
//   slot-a = /dev/mmcblk0p2     quotes optional; slot_a is the same key
//   once = true                 a flag: true sets it, false leaves it off
//
// Each key becomes --key value on the command line. An option given on the
// command line wins over the file's. Host only.
#pragma once

#include <string>
#include <vector>

#include "core/host/error.h"

namespace updraft::agent {

// `args` without the program name. Returns them with `--config FILE` (or
// --config=FILE) replaced by the file's options; unchanged without one. A file
// that cannot be read, or a line that is not `key = value`, is kInvalidArgument
// naming the file and line.
// With `only`, the file's keys outside it are skipped: `confirm` takes the file
// `run` reads, and of it only the keys that say where the boot loader is.
HostResult<std::vector<std::string>> expand_config(const std::vector<std::string>& args,
                                                   const std::vector<std::string>& only = {});

}  // namespace updraft::agent
