// Shared terminal output for the CLI: errors in one format, progress on stderr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/host/error.h"

namespace updraft::cli {

// Exit codes: 0 success, 1 the operation failed (message names the error number),
// 2 usage error (CLI11), 3 input/output error.
inline constexpr int kExitFailed = 1;
inline constexpr int kExitIo = 3;

// Prints "updraft: error NAME (number): message" and returns the exit code for it.
int report_error(const Error& error);

// Progress on stderr for long work: a redrawn line on a terminal, a line per 25%
// otherwise, nothing for inputs under 1 MiB.
class Progress {
 public:
  Progress(std::string label, std::uint64_t input_bytes);
  ~Progress();
  void update(const char* stage, std::uint64_t done, std::uint64_t total);

 private:
  std::string label_;
  bool enabled_;
  bool tty_;
  int last_percent_ = -1;
  std::string last_stage_;
};

std::string hex(const std::byte* data, std::size_t size);

}  // namespace updraft::cli
