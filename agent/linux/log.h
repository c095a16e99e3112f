// updraft-agent's log: one line per event on stderr, "<UTC time to the ms>Z
// updraft-agent: <event>", flushed at once so a supervisor's journal sees it in
// order. Host only.
#pragma once

namespace updraft::agent {

void log_line(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace updraft::agent
