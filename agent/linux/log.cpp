#include "agent/linux/log.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace updraft::agent {
namespace {

LogLevel g_level = LogLevel::kInfo;

void vlog(LogLevel level, const char* format, va_list args) {
  if (static_cast<int>(level) > static_cast<int>(g_level)) return;
  char line[512];
  std::vsnprintf(line, sizeof line, format, args);
  // UTC to the millisecond first: a log file read after the fact (findings
  // 2026-12-01: it had no times) says when, not only what; journald adds its own.
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  std::tm utc{};
  ::gmtime_r(&now.tv_sec, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  char priority[8] = "";
  if (journal) std::snprintf(priority, sizeof priority, "<%d>", static_cast<int>(level));
  const char* tag = level == LogLevel::kError     ? "error: "
                    : level == LogLevel::kWarning ? "warning: "
                    : level == LogLevel::kDebug   ? "debug: "
                                                  : "";
  std::fprintf(stderr, "%s%s.%03ldZ updraft-agent: %s%s\n", priority, stamp,
               now.tv_nsec / 1'000'000, tag, line);
  std::fflush(stderr);
}

}  // namespace

void set_log_level(LogLevel level) { g_level = level; }

bool parse_log_level(const char* text, LogLevel& level) {
  static constexpr struct {
    const char* name;
    LogLevel level;
  } kNames[] = {{"error", LogLevel::kError},
                {"warning", LogLevel::kWarning},
                {"info", LogLevel::kInfo},
                {"debug", LogLevel::kDebug}};
  for (const auto& n : kNames) {
    if (std::strcmp(text, n.name) == 0) {
      level = n.level;
      return true;
    }
  }
  return false;
}

void log_at(LogLevel level, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vlog(level, format, args);
  va_end(args);
}

void log_line(const char* format, ...) {
  va_list args;
  va_start(args, format);
  vlog(LogLevel::kInfo, format, args);
  va_end(args);
}

void log_warning(const char* format, ...) {
  va_list args;
  va_start(args, format);
  vlog(LogLevel::kWarning, format, args);
  va_end(args);
}

void log_error(const char* format, ...) {
  va_list args;
  va_start(args, format);
  vlog(LogLevel::kError, format, args);
  va_end(args);
}

}  // namespace updraft::agent
