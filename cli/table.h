// Plain-text output for the listing commands (devices, releases, campaigns):
// left-aligned columns two spaces apart, and the cell formats they share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/host/error.h"

namespace updraft::cli {

// Prints `header` and `rows` to stdout as aligned columns. Widths count bytes, so
// cells are expected to be ASCII (ids, names, versions).
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

// How long ago `unix_seconds` was, for people: "12s ago", "5m ago", "3h ago",
// "2d ago"; "never" for 0.
std::string time_ago(std::int64_t unix_seconds);

// A point in time for a cell or a message: "2027-01-15 08:00:00 UTC"; "never" for 0.
std::string utc_time(std::int64_t unix_seconds);

// A time an option gives: "YYYY-MM-DD HH:MM" (UTC) or Unix seconds; "now" is 0
// (what lifts a deferral). kApiBadRequest naming `option` otherwise.
HostResult<long long> parse_utc_time(const std::string& text, const std::string& option);

// After a page of a list the server pages (newest first): where the page sits in
// the whole, when there is more than it shows.
void print_page_note(std::size_t offset, std::size_t shown, std::size_t total);

// A list for a cell: "a,b,c", or "-" when empty.
std::string join(const std::vector<std::string>& items, const char* separator = ",");

}  // namespace updraft::cli
