#include "server/campaigns/phases.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace updraft::server::campaigns {
namespace {

PhaseSpec percent(std::uint32_t amount) { return {PhaseSpec::Kind::kPercent, amount}; }
PhaseSpec count(std::uint32_t amount) { return {PhaseSpec::Kind::kCount, amount}; }

// How many devices each phase holds.
std::vector<std::size_t> sizes(const std::vector<std::uint32_t>& assigned, std::size_t phases) {
  std::vector<std::size_t> result(phases, 0);
  for (const std::uint32_t phase : assigned) ++result.at(phase);
  return result;
}

TEST(PhasesTest, SplitsDevicesAtCumulativeAmountsRoundingPercentagesUp) {
  struct Case {
    const char* name;
    std::size_t devices;
    std::vector<PhaseSpec> phases;
    std::vector<std::size_t> sizes;
  };
  const Case cases[] = {
      {"one phase takes all", 7, {percent(100)}, {7}},
      {"last phase takes the rest whatever it says", 7, {percent(10), percent(50)}, {1, 6}},
      {"percent rounded up", 15, {percent(10), percent(50), percent(100)}, {2, 6, 7}},
      {"exact percentages", 100, {percent(1), percent(10), percent(100)}, {1, 9, 90}},
      {"counts", 20, {count(1), count(5), count(20)}, {1, 4, 15}},
      {"canary count then percentages", 40, {count(2), percent(50), percent(100)}, {2, 18, 20}},
      {"a phase that would be empty gets one device",
       10,
       {percent(1), percent(5), percent(100)},
       {1, 1, 8}},
      {"equal amounts still give the later phase one device",
       10,
       {percent(50), percent(50), percent(100)},
       {5, 1, 4}},
      {"a percentage below an earlier count holds one device",
       10,
       {count(6), percent(10), percent(100)},
       {6, 1, 3}},
      {"counts beyond the fleet leave later phases empty",
       3,
       {count(5), count(10), percent(100)},
       {3, 0, 0}},
      {"fewer devices than phases", 2, {percent(10), percent(20), percent(100)}, {1, 1, 0}},
      {"no devices", 0, {percent(10), percent(100)}, {0, 0}},
  };
  for (const Case& c : cases) {
    const std::vector<std::uint32_t> assigned = assign_phases(c.devices, c.phases);
    ASSERT_EQ(assigned.size(), c.devices) << c.name;
    EXPECT_EQ(sizes(assigned, c.phases.size()), c.sizes) << c.name;
  }
}

TEST(PhasesTest, WithoutPhasesEveryDeviceIsInPhaseZero) {
  EXPECT_EQ(assign_phases(3, {}), (std::vector<std::uint32_t>{0, 0, 0}));
}

TEST(PhasesTest, CoversEveryDeviceOnceInNonDecreasingPhasesForRandomCampaigns) {
  std::mt19937 random(20240611);
  const auto below = [&](std::uint32_t n) { return static_cast<std::uint32_t>(random() % n); };
  for (int round = 0; round < 5000; ++round) {
    const std::size_t devices = below(300);
    std::vector<PhaseSpec> phases(1 + below(6));
    for (PhaseSpec& phase : phases)
      phase = below(2) ? percent(1 + below(100)) : count(1 + below(400));

    const std::vector<std::uint32_t> assigned = assign_phases(devices, phases);
    ASSERT_EQ(assigned.size(), devices) << "round " << round;
    ASSERT_TRUE(std::is_sorted(assigned.begin(), assigned.end())) << "round " << round;
    ASSERT_TRUE(assigned.empty() || assigned.back() < phases.size()) << "round " << round;
    const std::vector<std::size_t> held = sizes(assigned, phases.size());
    std::size_t end = 0;
    for (std::size_t k = 0; k < phases.size(); ++k) {
      const std::size_t previous_end = end;
      end += held[k];
      // Every phase holds a device while devices remain, and a phase other than the
      // last ends where its amount says unless that would leave it empty.
      if (previous_end < devices) {
        ASSERT_GE(held[k], 1u) << "round " << round << " phase " << k;
      }
      if (k + 1 == phases.size()) continue;
      const std::uint64_t amount = phases[k].amount;
      const std::uint64_t wanted = std::min<std::uint64_t>(
          devices,
          phases[k].kind == PhaseSpec::Kind::kPercent ? (amount * devices + 99) / 100 : amount);
      ASSERT_EQ(end,
                std::min<std::uint64_t>(devices, std::max<std::uint64_t>(wanted, previous_end + 1)))
          << "round " << round << " phase " << k;
    }
  }
}

}  // namespace
}  // namespace updraft::server::campaigns
