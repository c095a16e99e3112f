// backoff_seconds: doubling up to the cap, spread over the upper half, never 0.
#include "agent/linux/backoff.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace updraft::agent {
namespace {

TEST(BackoffTest, DoublesFromThirtySecondsUpToTheCapWithinTheUpperHalf) {
  std::mt19937_64 random(7);
  for (std::uint32_t failures = 1; failures <= 10; ++failures) {
    const std::uint64_t ceiling = std::min<std::uint64_t>(30ull << (failures - 1), 3600);
    std::set<std::uint32_t> seen;
    for (int i = 0; i < 2000; ++i) {
      const std::uint32_t wait = backoff_seconds(failures, 3600, random());
      ASSERT_GE(wait, ceiling / 2) << failures;
      ASSERT_LE(wait, ceiling) << failures;
      seen.insert(wait);
    }
    // Spread out, not one value: a fleet does not come back in step.
    EXPECT_GT(seen.size(), std::min<std::uint64_t>(ceiling / 2, 10)) << failures;
  }
}

TEST(BackoffTest, ASmallPollIntervalCapsItAndItIsNeverZero) {
  for (std::uint64_t r = 0; r < 100; ++r) {
    EXPECT_EQ(backoff_seconds(1, 1, r), 1u);
    EXPECT_LE(backoff_seconds(5, 10, r), 10u);
    EXPECT_GE(backoff_seconds(5, 10, r), 5u);
  }
  EXPECT_LE(backoff_seconds(1000, 3600, ~std::uint64_t{0}), 3600u) << "no overflow";
}

}  // namespace
}  // namespace updraft::agent
