#include "cli/output.h"

#include <unistd.h>

#include <cstddef>
#include <cstdio>

#include "core/host/hex.h"

namespace updraft::cli {

int report_error(const Error& error) {
  std::fprintf(stderr, "updraft: error %s\n", error.to_string().c_str());
  return error.code == ErrorCode::kIoError ? kExitIo : kExitFailed;
}

Progress::Progress(std::string label, std::uint64_t input_bytes)
    : label_(std::move(label)), enabled_(input_bytes >= (1u << 20)), tty_(isatty(2) != 0) {}

Progress::~Progress() {
  if (enabled_ && tty_ && last_percent_ >= 0) std::fputc('\n', stderr);
}

void Progress::update(const char* stage, std::uint64_t done, std::uint64_t total) {
  if (!enabled_ || total == 0) return;
  const int percent = static_cast<int>(done * 100 / total);
  const bool new_stage = last_stage_ != stage;
  if (tty_) {
    if (percent == last_percent_ && !new_stage) return;
    std::fprintf(stderr, "\r%s: %-6s %3d%%", label_.c_str(), stage, percent);
  } else {
    if (!new_stage && percent / 25 == last_percent_ / 25) return;
    std::fprintf(stderr, "%s: %s %d%%\n", label_.c_str(), stage, percent);
  }
  std::fflush(stderr);
  last_percent_ = percent;
  last_stage_ = stage;
}

std::string hex(const std::byte* data, std::size_t size) { return to_hex(ByteView(data, size)); }

}  // namespace updraft::cli
