#include "agent/update_policy.h"

#include <gtest/gtest.h>

namespace updraft::agent {
namespace {

using Verdict = UpdatePolicy::Verdict;

DeviceStatus status(std::uint8_t battery, NetworkType network) {
  DeviceStatus s;
  s.battery_percent = battery;
  s.network = network;
  return s;
}

constexpr std::uint64_t kMidnightUtc = 1'800'000'000 / 86400 * 86400;

TEST(UpdatePolicyTest, DefaultAllowsEverything) {
  UpdatePolicy p;
  EXPECT_EQ(p.evaluate(status(1, NetworkType::kNbIot), kMidnightUtc + 123, false, false),
            Verdict::kGo);
}

TEST(UpdatePolicyTest, BatteryFloorAndNetworks) {
  UpdatePolicy p;
  p.battery_floor_percent = 30;
  p.allowed_networks = 1u << static_cast<unsigned>(NetworkType::kWifi);
  EXPECT_EQ(p.evaluate(status(29, NetworkType::kWifi), kMidnightUtc, false, false),
            Verdict::kLowBattery);
  EXPECT_EQ(p.evaluate(status(30, NetworkType::kCellular), kMidnightUtc, false, false),
            Verdict::kNetworkNotAllowed);
  EXPECT_EQ(p.evaluate(status(30, NetworkType::kWifi), kMidnightUtc, false, false), Verdict::kGo);
}

TEST(UpdatePolicyTest, MaintenanceWindowWrapsMidnightAndHonoursOffset) {
  UpdatePolicy p;
  p.window_start_minute = 22 * 60;  // 22:00 - 04:00 local
  p.window_end_minute = 4 * 60;
  p.utc_offset_minutes = 60;  // local = UTC + 1h
  auto at_utc = [&](int hour, int minute) {
    return kMidnightUtc + static_cast<std::uint64_t>(hour * 3600 + minute * 60);
  };
  EXPECT_EQ(p.evaluate(status(100, NetworkType::kWifi), at_utc(20, 59), false, false),
            Verdict::kOutsideWindow);
  EXPECT_EQ(p.evaluate(status(100, NetworkType::kWifi), at_utc(21, 0), false, false), Verdict::kGo);
  EXPECT_EQ(p.evaluate(status(100, NetworkType::kWifi), at_utc(2, 59), false, false), Verdict::kGo);
  EXPECT_EQ(p.evaluate(status(100, NetworkType::kWifi), at_utc(3, 0), false, false),
            Verdict::kOutsideWindow);
}

TEST(UpdatePolicyTest, WindowMatchesLocalTimeForEveryOffsetAndMinute) {
  // A one-minute window at each local minute of the day, for west and east
  // offsets, whole days of offset and the extremes of the field: open exactly
  // when (UTC minutes + offset) mod 1440 is that minute.
  UpdatePolicy p;
  for (const int offset : {-32768, -1441, -1440, -721, -300, -1, 0, 1, 330, 1439, 1440, 32767}) {
    p.utc_offset_minutes = static_cast<std::int16_t>(offset);
    for (std::uint64_t utc_minute = 0; utc_minute < 1440; utc_minute += 7) {
      const std::int64_t local = static_cast<std::int64_t>(utc_minute) + offset;
      const auto expected = static_cast<std::uint16_t>(((local % 1440) + 1440) % 1440);
      p.window_start_minute = expected;
      p.window_end_minute = static_cast<std::uint16_t>(expected + 1);
      const std::uint64_t now = kMidnightUtc + utc_minute * 60 + 59;
      ASSERT_EQ(p.evaluate(status(100, NetworkType::kWifi), now, false, false), Verdict::kGo)
          << "offset " << offset << ", UTC minute " << utc_minute;
      p.window_start_minute = static_cast<std::uint16_t>((expected + 1) % 1440);
      p.window_end_minute = static_cast<std::uint16_t>((expected + 2) % 1440);
      ASSERT_EQ(p.evaluate(status(100, NetworkType::kWifi), now, false, false),
                Verdict::kOutsideWindow)
          << "offset " << offset << ", UTC minute " << utc_minute;
    }
  }
}

TEST(UpdatePolicyTest, UserConfirmationUnlessForced) {
  UpdatePolicy p;
  p.require_user_confirmation = true;
  EXPECT_EQ(p.evaluate(status(100, NetworkType::kWifi), kMidnightUtc, false, false),
            Verdict::kNeedsUser);
  EXPECT_EQ(p.evaluate(status(100, NetworkType::kWifi), kMidnightUtc, false, true), Verdict::kGo);
  EXPECT_EQ(p.evaluate(status(100, NetworkType::kWifi), kMidnightUtc, true, false), Verdict::kGo);
}

}  // namespace
}  // namespace updraft::agent
