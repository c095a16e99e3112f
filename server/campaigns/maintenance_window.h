// Daily maintenance windows in an IANA time zone (MaintenanceWindow in
// server/model/campaign.h), read with Howard Hinnant's date/tz library from the
// system tz database (/usr/share/zoneinfo). Pure functions of the window and `now`.
//
// A window is a span of local wall-clock minutes, [start_minute, end_minute), so a
// DST change moves it with the local clock: a window inside the hour skipped in
// spring does not open that day, one inside the hour repeated in autumn opens twice.
// start == end: always open. end < start: the window wraps past local midnight.
// Threads: safe; the tz library loads the database once, on first use.
#pragma once

#include "core/host/error.h"
#include "server/model/campaign.h"

namespace updraft::server::campaigns {

// Ok when both minutes are < 1440 and the time zone is known; otherwise
// kApiBadRequest with a message naming the field ("window.timezone: ...").
HostResult<void> check_window(const MaintenanceWindow& window);

// Whether `window` is open at `now`. Errors as check_window.
HostResult<bool> window_open(const MaintenanceWindow& window, UnixTime now);

// The first time >= `now` at which `window` is open: `now` itself when it is open
// already. Lets a device be told when to check in again. Errors as check_window.
HostResult<UnixTime> next_window_open(const MaintenanceWindow& window, UnixTime now);

}  // namespace updraft::server::campaigns
