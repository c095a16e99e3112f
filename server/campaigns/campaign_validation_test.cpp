#include "server/campaigns/campaign_validation.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>

namespace updraft::server::campaigns {
namespace {

Campaign valid_campaign() {
  Campaign campaign;
  campaign.phases = {{PhaseSpec::Kind::kCount, 5},
                     {PhaseSpec::Kind::kPercent, 25},
                     {PhaseSpec::Kind::kPercent, 100}};
  campaign.window = {60, 300, "Europe/Berlin"};
  return campaign;
}

TEST(CampaignValidationTest, AcceptsWellFormedCampaigns) {
  EXPECT_TRUE(validate(valid_campaign()).ok());
  Campaign edges = valid_campaign();
  edges.phases = {
      {PhaseSpec::Kind::kPercent, 1}, {PhaseSpec::Kind::kPercent, 1}, {PhaseSpec::Kind::kCount, 1}};
  edges.success_threshold = 0;
  edges.failure_threshold = 1;
  edges.current_phase = 2;
  edges.window = {1439, 0, "Asia/Kolkata"};
  const HostResult<void> result = validate(edges);
  EXPECT_TRUE(result.ok()) << result.error().to_string();
}

TEST(CampaignValidationTest, RejectsEachBadFieldByName) {
  struct Case {
    const char* field;
    std::function<void(Campaign&)> spoil;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Case cases[] = {
      {"phases:", [](Campaign& c) { c.phases.clear(); }},
      {"phases[1].amount", [](Campaign& c) { c.phases[1].amount = 0; }},
      {"phases[2].amount", [](Campaign& c) { c.phases[2].amount = 101; }},
      {"phases[0].amount", [](Campaign& c) { c.phases[0].amount = 0; }},
      {"phases[2].amount", [](Campaign& c) { c.phases[2].amount = 20; }},  // below 25%
      {"phases[1].amount",
       [](Campaign& c) {
         c.phases[1] = {PhaseSpec::Kind::kCount, 4};
       }},  // below 5 devices
      {"phases[1].kind", [](Campaign& c) { c.phases[1].kind = PhaseSpec::Kind{7}; }},
      {"current_phase", [](Campaign& c) { c.current_phase = 3; }},
      {"success_threshold", [](Campaign& c) { c.success_threshold = 1.01; }},
      {"success_threshold", [nan](Campaign& c) { c.success_threshold = nan; }},
      {"failure_threshold", [](Campaign& c) { c.failure_threshold = -0.1; }},
      {"window.start_minute", [](Campaign& c) { c.window.start_minute = 1440; }},
      {"window.end_minute", [](Campaign& c) { c.window.end_minute = 2000; }},
      {"window.timezone", [](Campaign& c) { c.window.timezone = "Berlin"; }},
  };
  for (const Case& c : cases) {
    Campaign campaign = valid_campaign();
    c.spoil(campaign);
    const HostResult<void> result = validate(campaign);
    ASSERT_FALSE(result.ok()) << c.field;
    EXPECT_EQ(result.error().code, ErrorCode::kApiBadRequest) << c.field;
    EXPECT_EQ(result.error().message.rfind(c.field, 0), 0u)
        << c.field << " vs " << result.error().message;
  }
}

}  // namespace
}  // namespace updraft::server::campaigns
