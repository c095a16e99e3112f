#include "server/campaigns/maintenance_window.h"

#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <limits>
#include <vector>

namespace updraft::server::campaigns {
namespace {

constexpr std::uint16_t kMinutesPerDay = 24 * 60;

HostResult<const date::time_zone*> find_zone(const std::string& name) {
  // The tz library reports an unknown zone (and an unreadable database) by throwing.
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return Error(ErrorCode::kApiBadRequest, "window.timezone: unknown time zone '" + name + "'");
  }
}

HostResult<const date::time_zone*> checked_zone(const MaintenanceWindow& window) {
  if (window.start_minute >= kMinutesPerDay)
    return Error(ErrorCode::kApiBadRequest, "window.start_minute: must be below 1440");
  if (window.end_minute >= kMinutesPerDay)
    return Error(ErrorCode::kApiBadRequest, "window.end_minute: must be below 1440");
  return find_zone(window.timezone);
}

bool is_open(const MaintenanceWindow& window, const date::time_zone& zone, UnixTime t) {
  if (window.start_minute == window.end_minute) return true;
  const auto local = zone.to_local(date::sys_seconds{std::chrono::seconds{t}});
  const auto minute =
      std::chrono::floor<std::chrono::minutes>(local - date::floor<date::days>(local)).count();
  if (window.start_minute < window.end_minute)
    return window.start_minute <= minute && minute < window.end_minute;
  return minute >= window.start_minute || minute < window.end_minute;
}

}  // namespace

HostResult<void> check_window(const MaintenanceWindow& window) {
  UPDRAFT_TRY(checked_zone(window));
  return {};
}

HostResult<bool> window_open(const MaintenanceWindow& window, UnixTime now) {
  UPDRAFT_TRY_ASSIGN(const date::time_zone* zone, checked_zone(window));
  return is_open(window, *zone, now);
}

HostResult<UnixTime> next_window_open(const MaintenanceWindow& window, UnixTime now) {
  using std::chrono::seconds;
  UPDRAFT_TRY_ASSIGN(const date::time_zone* zone, checked_zone(window));
  if (is_open(window, *zone, now)) return now;
  // The window opens when the local clock reaches start_minute, or when a DST change
  // moves the local clock into the window. Try both kinds of instant over the next
  // local days (a start skipped by a spring change maps to the change itself) and
  // keep the earliest that is open.
  const date::sys_seconds sys_now{seconds{now}};
  const auto today = date::floor<date::days>(zone->to_local(sys_now));
  std::vector<date::sys_seconds> candidates{zone->get_info(sys_now).end};
  for (int day = -1; day <= 2; ++day) {
    const date::local_seconds start =
        today + date::days{day} + std::chrono::minutes{window.start_minute};
    candidates.push_back(zone->to_sys(start, date::choose::earliest));
    candidates.push_back(zone->to_sys(start, date::choose::latest));
  }
  // Three local days always hold an opening: only a DST change skips a start.
  UnixTime best = std::numeric_limits<UnixTime>::max();
  const auto horizon = sys_now + date::days{3};
  for (const date::sys_seconds candidate : candidates) {
    const UnixTime t = candidate.time_since_epoch().count();
    if (candidate > sys_now && candidate < horizon && is_open(window, *zone, t))
      best = std::min(best, t);
  }
  return best;
}

}  // namespace updraft::server::campaigns
