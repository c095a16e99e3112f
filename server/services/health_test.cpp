// HealthProbe on a real SQLite store and the real file system. A read-only or
// full store is shown against a real updraftd in tests/security/health_test.sh.
#include "server/services/health.h"

#include <gtest/gtest.h>

#include "server/services/testing/service_fixture.h"

namespace updraft::server {
namespace {

using testing::ServiceFixture;

class HealthProbeTest : public ServiceFixture {};

TEST_F(HealthProbeTest, AWritableStoreWithRoomIsHealthy) {
  HealthProbe probe(*store_, dir_.string(), 1);
  const HealthReport report = probe.check(now_);
  EXPECT_TRUE(report.store_writable) << report.store_error;
  EXPECT_GT(report.disk_free_bytes, 0u);
  EXPECT_GE(report.disk_total_bytes, report.disk_free_bytes);
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(*store_->setting("health.last_probe"), std::to_string(now_));
}

TEST_F(HealthProbeTest, LessFreeSpaceThanTheMinimumIsDegraded) {
  HealthProbe probe(*store_, dir_.string(), UINT64_MAX);
  const HealthReport report = probe.check(now_);
  EXPECT_TRUE(report.store_writable);
  EXPECT_TRUE(report.disk_low());
  EXPECT_FALSE(report.ok());
}

TEST_F(HealthProbeTest, AFolderThatIsGoneIsDegraded) {
  HealthProbe probe(*store_, (dir_ / "missing").string(), 1);
  const HealthReport report = probe.check(now_);
  EXPECT_FALSE(report.disk_error.empty());
  EXPECT_FALSE(report.ok());
}

TEST_F(HealthProbeTest, OneProbePerSecond) {
  HealthProbe probe(*store_, dir_.string(), 1);
  probe.check(now_);
  ASSERT_TRUE(store_->set_setting("health.last_probe", "changed").ok());
  probe.check(now_);  // the same second: the cached report
  EXPECT_EQ(*store_->setting("health.last_probe"), "changed");
  probe.check(now_ + 1);
  EXPECT_EQ(*store_->setting("health.last_probe"), std::to_string(now_ + 1));
}

}  // namespace
}  // namespace updraft::server
