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
      {"hardware listed", {{"board-rev-a", "board-rev-b"}, {}, {}, {}, {}}, true},
      {"hardware not listed", {{"board-rev-a"}, {}, {}, {}, {}}, false},
      {"version listed", {{}, {"1.1.0", "1.2.0"}, {}, {}, {}}, true},
      {"version not listed", {{}, {"1.1.0"}, {}, {}, {}}, false},
      {"one of the device's tags listed", {{}, {}, {"us", "eu"}, {}, {}}, true},
      {"none of the device's tags listed", {{}, {}, {"us"}, {}, {}}, false},
      {"id listed", {{}, {}, {}, {DeviceId{"sn-0001"}, DeviceId{"sn-0042"}}, {}}, true},
      {"id not listed", {{}, {}, {}, {DeviceId{"sn-0001"}}, {}}, false},
      {"all fields match", {{"board-rev-b"}, {"1.2.0"}, {"lab"}, {DeviceId{"sn-0042"}}, {}}, true},
      {"all but one field match",
       {{"board-rev-b"}, {"1.2.0"}, {"us"}, {DeviceId{"sn-0042"}}, {}},
       false},
  };
  for (const Case& c : cases) EXPECT_EQ(matches(c.selector, board_b_at_1_2()), c.matches) << c.name;
}

TEST(TargetingTest, ADecommissionedDeviceMatchesNoSelector) {
  Device retired = board_b_at_1_2();
  retired.decommissioned_at = 1'700'000'000;
  EXPECT_FALSE(matches({}, retired));
  EXPECT_FALSE(matches({{}, {}, {}, {retired.id}, {}}, retired)) << "not even by its id";
}

TEST(TargetingTest, DeviceWithoutTagsOrVersionMatchesOnlySelectorsThatDoNotAskForThem) {
  Device fresh;
  fresh.id = DeviceId{"sn-new"};
  fresh.hardware = "board-rev-b";
  EXPECT_TRUE(matches({{"board-rev-b"}, {}, {}, {}, {}}, fresh));
  EXPECT_FALSE(matches({{}, {}, {"lab"}, {}, {}}, fresh));
  EXPECT_FALSE(matches({{}, {"1.2.0"}, {}, {}, {}}, fresh));
}

TEST(TargetingTest, EveryInventoryAttributeMustBeReportedWithItsValue) {
  TargetSelector selector;
  selector.inventory = {{"device_type", R"("gw-test")"}, {"kernel", R"("6.1")"}};
  const std::vector<InventoryAttribute> both = {
      {"device_type", R"("gw-test")", 1}, {"kernel", R"("6.1")", 1}, {"ipv4", "[]", 1}};
  EXPECT_TRUE(matches(selector, board_b_at_1_2(), both));
  const std::vector<InventoryAttribute> other_kernel = {{"device_type", R"("gw-test")", 1},
                                                        {"kernel", R"("6.2")", 1}};
  EXPECT_FALSE(matches(selector, board_b_at_1_2(), other_kernel));
  EXPECT_FALSE(matches(selector, board_b_at_1_2(), {both.data(), 1})) << "one attribute missing";
  EXPECT_FALSE(matches(selector, board_b_at_1_2())) << "no inventory at all";
  // The value is compared as JSON text: a number is not the string of its digits.
  selector.inventory = {{"slots", "2"}};
  EXPECT_FALSE(
      matches(selector, board_b_at_1_2(), std::vector<InventoryAttribute>{{"slots", R"("2")", 1}}));
  EXPECT_TRUE(
      matches(selector, board_b_at_1_2(), std::vector<InventoryAttribute>{{"slots", "2", 1}}));
}

}  // namespace
}  // namespace updraft::server::campaigns
