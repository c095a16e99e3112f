#include "server/campaigns/maintenance_window.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <random>

namespace updraft::server::campaigns {
namespace {

using namespace date::literals;  // NOLINT: 2024_y / 3 / 31 reads as a date

UnixTime utc(date::year_month_day day, int hour, int minute = 0) {
  return date::sys_days{day}.time_since_epoch().count() * 86400 + hour * 3600 + minute * 60;
}

MaintenanceWindow window(int start_hour, int start_minute, int end_hour, int end_minute,
                         const char* timezone) {
  return {static_cast<std::uint16_t>(start_hour * 60 + start_minute),
          static_cast<std::uint16_t>(end_hour * 60 + end_minute), timezone};
}

bool open_at(const MaintenanceWindow& w, UnixTime t) {
  const HostResult<bool> open = window_open(w, t);
  EXPECT_TRUE(open.ok()) << open.error().to_string();
  return open.ok() && *open;
}

UnixTime next_open(const MaintenanceWindow& w, UnixTime t) {
  const HostResult<UnixTime> next = next_window_open(w, t);
  EXPECT_TRUE(next.ok()) << next.error().to_string();
  return next.ok() ? *next : -1;
}

TEST(MaintenanceWindowTest, StartEqualToEndIsAlwaysOpen) {
  const MaintenanceWindow always = window(3, 0, 3, 0, "Europe/Berlin");
  for (UnixTime t = utc(2024_y / 3 / 30, 0); t < utc(2024_y / 4 / 1, 0); t += 7 * 60) {
    EXPECT_TRUE(open_at(always, t)) << t;
    EXPECT_EQ(next_open(always, t), t);
  }
}

TEST(MaintenanceWindowTest, OpensAtStartAndClosesAtEnd) {
  const MaintenanceWindow night = window(2, 0, 4, 0, "UTC");
  const auto day = 2024_y / 5 / 10;
  EXPECT_FALSE(open_at(night, utc(day, 1, 59)));
  EXPECT_TRUE(open_at(night, utc(day, 2, 0)));
  EXPECT_TRUE(open_at(night, utc(day, 3, 59)));
  EXPECT_FALSE(open_at(night, utc(day, 4, 0)));
  EXPECT_EQ(next_open(night, utc(day, 1, 0)), utc(day, 2, 0));
  EXPECT_EQ(next_open(night, utc(day, 3, 0)), utc(day, 3, 0));
  EXPECT_EQ(next_open(night, utc(day, 4, 0)), utc(2024_y / 5 / 11, 2, 0));
}

TEST(MaintenanceWindowTest, WrapsPastMidnightWhenEndIsBeforeStart) {
  const MaintenanceWindow overnight = window(22, 0, 6, 0, "UTC");
  const auto day = 2024_y / 5 / 10;
  EXPECT_FALSE(open_at(overnight, utc(day, 21, 59)));
  EXPECT_TRUE(open_at(overnight, utc(day, 22, 0)));
  EXPECT_TRUE(open_at(overnight, utc(day, 0, 0)));
  EXPECT_TRUE(open_at(overnight, utc(day, 5, 59)));
  EXPECT_FALSE(open_at(overnight, utc(day, 6, 0)));
  EXPECT_FALSE(open_at(overnight, utc(day, 12, 0)));
  EXPECT_EQ(next_open(overnight, utc(day, 12, 0)), utc(day, 22, 0));
}

TEST(MaintenanceWindowTest, FollowsBerlinWallClockAcrossTheDaylightSavingChanges) {
  // 01:00-05:00 local. CET is UTC+1, CEST UTC+2; in 2024 the clocks went forward
  // on 31 March at 01:00 UTC and back on 27 October at 01:00 UTC.
  const MaintenanceWindow night = window(1, 0, 5, 0, "Europe/Berlin");
  EXPECT_TRUE(open_at(night, utc(2024_y / 1 / 15, 0, 0)));  // 01:00 CET
  EXPECT_FALSE(open_at(night, utc(2024_y / 1 / 15, 4, 0)));
  EXPECT_TRUE(open_at(night, utc(2024_y / 7 / 14, 23, 0)));  // 01:00 CEST
  EXPECT_FALSE(open_at(night, utc(2024_y / 7 / 15, 3, 0)));

  // Spring: 01:00 CET to 05:00 CEST is three real hours.
  EXPECT_FALSE(open_at(night, utc(2024_y / 3 / 30, 23, 59)));
  EXPECT_TRUE(open_at(night, utc(2024_y / 3 / 31, 0, 0)));
  EXPECT_TRUE(open_at(night, utc(2024_y / 3 / 31, 2, 59)));
  EXPECT_FALSE(open_at(night, utc(2024_y / 3 / 31, 3, 0)));
  EXPECT_EQ(next_open(night, utc(2024_y / 3 / 30, 12, 0)), utc(2024_y / 3 / 31, 0, 0));

  // Autumn: 01:00 CEST to 05:00 CET is five real hours.
  EXPECT_FALSE(open_at(night, utc(2024_y / 10 / 26, 22, 59)));
  EXPECT_TRUE(open_at(night, utc(2024_y / 10 / 26, 23, 0)));
  EXPECT_TRUE(open_at(night, utc(2024_y / 10 / 27, 3, 59)));
  EXPECT_FALSE(open_at(night, utc(2024_y / 10 / 27, 4, 0)));
  EXPECT_EQ(next_open(night, utc(2024_y / 10 / 26, 12, 0)), utc(2024_y / 10 / 26, 23, 0));
}

TEST(MaintenanceWindowTest, WindowInsideTheSkippedHourDoesNotOpenThatDay) {
  const MaintenanceWindow skipped = window(2, 15, 2, 45, "Europe/Berlin");
  for (UnixTime t = utc(2024_y / 3 / 30, 22, 0); t < utc(2024_y / 3 / 31, 22, 0); t += 60)
    ASSERT_FALSE(open_at(skipped, t)) << t;
  // The next day 02:15 CEST is 00:15 UTC.
  EXPECT_EQ(next_open(skipped, utc(2024_y / 3 / 30, 12, 0)), utc(2024_y / 4 / 1, 0, 15));
}

TEST(MaintenanceWindowTest, WindowStartingInTheSkippedHourOpensAtTheChange) {
  const MaintenanceWindow late = window(2, 30, 4, 0, "Europe/Berlin");
  // Local time jumps from 02:00 CET to 03:00 CEST at 01:00 UTC, into the window.
  EXPECT_FALSE(open_at(late, utc(2024_y / 3 / 31, 0, 59)));
  EXPECT_TRUE(open_at(late, utc(2024_y / 3 / 31, 1, 0)));
  EXPECT_EQ(next_open(late, utc(2024_y / 3 / 30, 22, 0)), utc(2024_y / 3 / 31, 1, 0));
}

TEST(MaintenanceWindowTest, WindowInsideTheRepeatedHourOpensTwice) {
  const MaintenanceWindow repeated = window(2, 15, 2, 45, "Europe/Berlin");
  // 02:15 CEST is 00:15 UTC, 02:15 CET is 01:15 UTC.
  EXPECT_TRUE(open_at(repeated, utc(2024_y / 10 / 27, 0, 15)));
  EXPECT_FALSE(open_at(repeated, utc(2024_y / 10 / 27, 0, 45)));
  EXPECT_TRUE(open_at(repeated, utc(2024_y / 10 / 27, 1, 15)));
  EXPECT_FALSE(open_at(repeated, utc(2024_y / 10 / 27, 1, 45)));
  EXPECT_EQ(next_open(repeated, utc(2024_y / 10 / 27, 0, 50)), utc(2024_y / 10 / 27, 1, 15));
}

TEST(MaintenanceWindowTest, ReopensWhenTheAutumnChangeTurnsTheClockBackIntoIt) {
  // Open 01:30-02:30 CEST (23:30-00:30 UTC); at 01:00 UTC the clock goes from
  // 03:00 CEST back to 02:00 CET, inside the window again until 02:30 CET.
  const MaintenanceWindow straddling = window(1, 30, 2, 30, "Europe/Berlin");
  EXPECT_FALSE(open_at(straddling, utc(2024_y / 10 / 27, 0, 45)));
  EXPECT_TRUE(open_at(straddling, utc(2024_y / 10 / 27, 1, 0)));
  EXPECT_EQ(next_open(straddling, utc(2024_y / 10 / 27, 0, 45)), utc(2024_y / 10 / 27, 1, 0));
}

TEST(MaintenanceWindowTest, HandlesZoneWithHalfHourOffset) {
  // Asia/Kolkata is UTC+05:30 all year: local 00:00-01:00 is 18:30-19:30 UTC.
  const MaintenanceWindow midnight = window(0, 0, 1, 0, "Asia/Kolkata");
  const auto day = 2024_y / 6 / 1;
  EXPECT_FALSE(open_at(midnight, utc(day, 18, 29)));
  EXPECT_TRUE(open_at(midnight, utc(day, 18, 30)));
  EXPECT_TRUE(open_at(midnight, utc(day, 19, 29)));
  EXPECT_FALSE(open_at(midnight, utc(day, 19, 30)));
  EXPECT_EQ(next_open(midnight, utc(day, 12, 0)), utc(day, 18, 30));
}

TEST(MaintenanceWindowTest, RejectsUnknownZoneAndMinutesPastTheDay) {
  const MaintenanceWindow bad_zones[] = {window(1, 0, 2, 0, "Mars/Olympus_Mons"),
                                         window(1, 0, 2, 0, ""),
                                         window(1, 0, 1, 0, "europe/berlin")};
  for (const MaintenanceWindow& w : bad_zones) {
    const HostResult<bool> open = window_open(w, 0);
    ASSERT_FALSE(open.ok()) << w.timezone;
    EXPECT_EQ(open.error().code, ErrorCode::kApiBadRequest);
    EXPECT_NE(open.error().message.find("window.timezone"), std::string::npos);
    EXPECT_FALSE(next_window_open(w, 0).ok());
    EXPECT_FALSE(check_window(w).ok());
  }
  const HostResult<bool> late_start = window_open({1440, 0, "UTC"}, 0);
  ASSERT_FALSE(late_start.ok());
  EXPECT_NE(late_start.error().message.find("window.start_minute"), std::string::npos);
  const HostResult<bool> late_end = window_open({0, 1440, "UTC"}, 0);
  ASSERT_FALSE(late_end.ok());
  EXPECT_NE(late_end.error().message.find("window.end_minute"), std::string::npos);
  EXPECT_TRUE(check_window({1439, 0, "Asia/Kolkata"}).ok());
}

TEST(MaintenanceWindowTest, NextOpeningIsTheFirstOpenMinuteForRandomWindowsAndTimes) {
  const char* zones[] = {"UTC",          "Europe/Berlin",  "America/New_York",
                         "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"};
  // Around every 2024 DST change of these zones, and anywhere in the year.
  const UnixTime changes[] = {utc(2024_y / 3 / 10, 7),  utc(2024_y / 3 / 31, 1),
                              utc(2024_y / 4 / 6, 15),  utc(2024_y / 10 / 5, 16),
                              utc(2024_y / 10 / 27, 1), utc(2024_y / 11 / 3, 6)};
  std::mt19937 random(7);
  for (int round = 0; round < 300; ++round) {
    const MaintenanceWindow w{static_cast<std::uint16_t>(random() % 1440),
                              static_cast<std::uint16_t>(random() % 1440),
                              zones[random() % std::size(zones)]};
    const UnixTime now = round % 3 == 0
                             ? utc(2024_y / 1 / 1, 0) + static_cast<UnixTime>(random() % 31622400)
                             : changes[random() % std::size(changes)] - 2 * 86400 +
                                   static_cast<UnixTime>(random() % (4 * 86400));
    // Scan minute by minute: every zone here has an offset of whole minutes.
    UnixTime expected = now;
    for (int minute = 0; minute < 3 * 1440 && !open_at(w, expected); ++minute)
      expected = expected - expected % 60 + 60;
    ASSERT_EQ(next_open(w, now), expected) << "round " << round << ": " << w.start_minute << "-"
                                           << w.end_minute << " " << w.timezone << " from " << now;
  }
}

}  // namespace
}  // namespace updraft::server::campaigns
