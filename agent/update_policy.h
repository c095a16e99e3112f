// When a device may start an update (portable): battery floor, allowed networks,
// a daily maintenance window, deferrals and user confirmation.
#pragma once

#include <cstdint>

#include "agent/port/transport.h"

namespace updraft::agent {

struct UpdatePolicy {
  std::uint8_t battery_floor_percent = 0;  // do not start below this
  // Bit (1 << NetworkType) set for each network an update may use; 0 allows all.
  std::uint32_t allowed_networks = 0;
  // Daily window in minutes after midnight UTC (+ offset); start == end means always.
  std::uint16_t window_start_minute = 0;
  std::uint16_t window_end_minute = 0;
  std::int16_t utc_offset_minutes = 0;
  bool require_user_confirmation = false;

  enum class Verdict : std::uint8_t {
    kGo,
    kLowBattery,
    kNetworkNotAllowed,
    kOutsideWindow,
    kNeedsUser
  };

  // `user_confirmed` is what the device's UI said; `forced` skips the user.
  Verdict evaluate(const DeviceStatus& status, std::uint64_t unix_seconds, bool forced,
                   bool user_confirmed) const {
    if (status.battery_percent < battery_floor_percent) return Verdict::kLowBattery;
    if (allowed_networks != 0 &&
        (allowed_networks & (1u << static_cast<unsigned>(status.network))) == 0) {
      return Verdict::kNetworkNotAllowed;
    }
    if (window_start_minute != window_end_minute) {
      // The minute of the local day, in unsigned arithmetic only: signed division
      // would pull up to 1 KB of libgcc into a Cortex-M0 meter, which has no divider.
      const auto utc_minute = static_cast<std::uint32_t>(unix_seconds / 60 % 1440);
      const auto offset_size = static_cast<std::uint32_t>(
          utc_offset_minutes < 0 ? -std::int32_t{utc_offset_minutes} : utc_offset_minutes);
      const std::uint32_t ahead =
          utc_offset_minutes < 0 ? 1440 - offset_size % 1440 : offset_size % 1440;
      const auto minute = static_cast<std::uint16_t>((utc_minute + ahead) % 1440);
      const bool inside = window_start_minute < window_end_minute
                              ? (minute >= window_start_minute && minute < window_end_minute)
                              : (minute >= window_start_minute || minute < window_end_minute);
      if (!inside) return Verdict::kOutsideWindow;
    }
    if (require_user_confirmation && !forced && !user_confirmed) return Verdict::kNeedsUser;
    return Verdict::kGo;
  }
};

}  // namespace updraft::agent
