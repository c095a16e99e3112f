#include "agent/linux/log.h"

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace updraft::agent {

void log_line(const char* format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  // UTC to the millisecond first: a log file read after the fact (findings
  // 2026-12-01: it had no times) says when, not only what; journald adds its own.
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  std::tm utc{};
  ::gmtime_r(&now.tv_sec, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::fprintf(stderr, "%s.%03ldZ updraft-agent: %s\n", stamp, now.tv_nsec / 1'000'000, line);
  std::fflush(stderr);
}

}  // namespace updraft::agent
