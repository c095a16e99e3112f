#include "agent/linux/log.h"

#include <cstdarg>
#include <cstdio>

namespace updraft::agent {

void log_line(const char* format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  std::fprintf(stderr, "updraft-agent: %s\n", line);
  std::fflush(stderr);
}

}  // namespace updraft::agent
