#include "server/campaigns/compatibility.h"

#include <gtest/gtest.h>

namespace updraft::server::campaigns {
namespace {

Release release(const std::string& version, std::uint32_t counter,
                std::vector<std::string> hardware = {"rev-a", "rev-b"}) {
  Release r;
  r.version = version;
  r.security_counter = counter;
  r.hardware = std::move(hardware);
  return r;
}

Device device(const std::string& hardware, const std::string& version) {
  Device d;
  d.hardware = hardware;
  d.status.version = version;
  return d;
}

TEST(CompatibilityTest, TheReleaseMustNameTheDevicesHardware) {
  const Campaign c;
  EXPECT_EQ(check_compatibility(release("2.0.0", 2, {"rev-b"}), c, device("rev-a", "1.0.0"), {}),
            Incompatibility::kHardware);
  EXPECT_EQ(check_compatibility(release("2.0.0", 2, {"rev-b"}), c, device("rev-b", "1.0.0"), {}),
            Incompatibility::kNone);
  EXPECT_EQ(error_for(Incompatibility::kHardware), ErrorCode::kManifestWrongHardware);
}

TEST(CompatibilityTest, ALowerVersionNeedsTheCampaignAndTheReleaseToAllowIt) {
  Campaign c;
  Release old = release("2.0.0", 3);
  const Device on_newer = device("rev-a", "2.5.0");
  EXPECT_EQ(check_compatibility(old, c, on_newer, {}), Incompatibility::kDowngrade);
  c.allow_downgrade = true;
  EXPECT_EQ(check_compatibility(old, c, on_newer, {}), Incompatibility::kDowngrade)
      << "the release's manifest must allow it too";
  old.allow_downgrade = true;
  EXPECT_EQ(check_compatibility(old, c, on_newer, {}), Incompatibility::kNone);
  // The same or a newer version is no downgrade; an unreadable version is not compared.
  EXPECT_EQ(check_compatibility(release("2.5.0", 3), Campaign{}, on_newer, {}),
            Incompatibility::kNone);
  EXPECT_EQ(check_compatibility(old, Campaign{}, device("rev-a", "v2.0.0.1"), {}),
            Incompatibility::kNone);
}

TEST(CompatibilityTest, NeverBelowTheRunningReleasesSecurityCounterEvenWhenDowngradesAreAllowed) {
  Campaign c;
  c.allow_downgrade = true;
  Release older = release("1.0.0", 1);
  older.allow_downgrade = true;
  const std::optional<Release> running = release("2.0.0", 5);
  EXPECT_EQ(check_compatibility(older, c, device("rev-a", "whatever"), running),
            Incompatibility::kSecurityCounter);
  EXPECT_EQ(error_for(Incompatibility::kSecurityCounter), ErrorCode::kManifestRollback);
  // The running release's version wins over what the device said.
  EXPECT_EQ(check_compatibility(release("1.5.0", 5), Campaign{}, device("rev-a", "0.1.0"), running),
            Incompatibility::kDowngrade);
}

}  // namespace
}  // namespace updraft::server::campaigns
