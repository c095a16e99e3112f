// updraft-agent's log: one line per event on stderr, "<UTC time to the ms>Z
// updraft-agent: [error: |warning: ]<event>", flushed at once so a supervisor's
// journal sees it in order. Under systemd (JOURNAL_STREAM set) each line also
// starts with its syslog priority ("<3>" error, "<4>" warning, "<6>" info, "<7>"
// debug), which journald takes as the entry's level and strips. Host only.
#pragma once

namespace updraft::agent {

enum class LogLevel { kError = 3, kWarning = 4, kInfo = 6, kDebug = 7 };

// Lines above `level` are dropped (updraft-agent run --log-level); default info.
void set_log_level(LogLevel level);
// "error", "warning", "info" or "debug"; false for anything else.
bool parse_log_level(const char* text, LogLevel& level);

void log_at(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));
// Info: what the agent did (boot, check-in, download, report).
void log_line(const char* format, ...) __attribute__((format(printf, 1, 2)));
// Warning: it will try again (a report not delivered, an unreachable server).
void log_warning(const char* format, ...) __attribute__((format(printf, 1, 2)));
// Error: it cannot go on as asked (no bootable slot, an unreadable root).
void log_error(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace updraft::agent
