#include "server/campaigns/targeting.h"

#include <gtest/gtest.h>

namespace updraft::server::campaigns {
namespace {

Device board_b_at_1_2() {
  Device device;
  device.id = DeviceId{"sn-0042"};
  device.hardware = "board-rev-b";
  device.tags = {"lab", "eu"};
  device.status.version = "1.2.0";
  return device;
}

TEST(TargetingTest, EveryNonEmptyFieldMustMatchAndAnyValueWithinAField) {
  struct Case {
    const char* name;
    TargetSelector selector;
    bool matches;
  };
  const Case cases[] = {
      {"empty selector", {}, true},
      {"hardware listed", {{"board-rev-a", "board-rev-b"}, {}, {}, {}}, true},
      {"hardware not listed", {{"board-rev-a"}, {}, {}, {}}, false},
      {"version listed", {{}, {"1.1.0", "1.2.0"}, {}, {}}, true},
      {"version not listed", {{}, {"1.1.0"}, {}, {}}, false},
      {"one of the device's tags listed", {{}, {}, {"us", "eu"}, {}}, true},
      {"none of the device's tags listed", {{}, {}, {"us"}, {}}, false},
      {"id listed", {{}, {}, {}, {DeviceId{"sn-0001"}, DeviceId{"sn-0042"}}}, true},
      {"id not listed", {{}, {}, {}, {DeviceId{"sn-0001"}}}, false},
      {"all fields match", {{"board-rev-b"}, {"1.2.0"}, {"lab"}, {DeviceId{"sn-0042"}}}, true},
      {"all but one field match",
       {{"board-rev-b"}, {"1.2.0"}, {"us"}, {DeviceId{"sn-0042"}}},
       false},
  };
  for (const Case& c : cases) EXPECT_EQ(matches(c.selector, board_b_at_1_2()), c.matches) << c.name;
}

TEST(TargetingTest, ADecommissionedDeviceMatchesNoSelector) {
  Device retired = board_b_at_1_2();
  retired.decommissioned_at = 1'700'000'000;
  EXPECT_FALSE(matches({}, retired));
  EXPECT_FALSE(matches({{}, {}, {}, {retired.id}}, retired)) << "not even by its id";
}

TEST(TargetingTest, DeviceWithoutTagsOrVersionMatchesOnlySelectorsThatDoNotAskForThem) {
  Device fresh;
  fresh.id = DeviceId{"sn-new"};
  fresh.hardware = "board-rev-b";
  EXPECT_TRUE(matches({{"board-rev-b"}, {}, {}, {}}, fresh));
  EXPECT_FALSE(matches({{}, {}, {"lab"}, {}}, fresh));
  EXPECT_FALSE(matches({{}, {"1.2.0"}, {}, {}}, fresh));
}

}  // namespace
}  // namespace updraft::server::campaigns
