#include "server/campaigns/campaign_validation.h"

#include <string>
#include <utility>

#include "server/campaigns/maintenance_window.h"

namespace updraft::server::campaigns {
namespace {

Error bad_request(std::string message) {
  return Error(ErrorCode::kApiBadRequest, std::move(message));
}

bool is_share(double value) { return value >= 0.0 && value <= 1.0; }  // false for NaN

}  // namespace

HostResult<void> validate(const Campaign& campaign) {
  if (campaign.phases.empty()) return bad_request("phases: at least one phase is required");
  std::uint32_t previous_percent = 0;
  std::uint32_t previous_count = 0;
  for (std::size_t k = 0; k < campaign.phases.size(); ++k) {
    const PhaseSpec& phase = campaign.phases[k];
    const std::string field = "phases[" + std::to_string(k) + "]";
    if (phase.kind != PhaseSpec::Kind::kPercent && phase.kind != PhaseSpec::Kind::kCount)
      return bad_request(field + ".kind: must be percent or count");
    if (phase.kind == PhaseSpec::Kind::kPercent && (phase.amount < 1 || phase.amount > 100))
      return bad_request(field + ".amount: a percentage must be 1..100");
    if (phase.kind == PhaseSpec::Kind::kCount && phase.amount < 1)
      return bad_request(field + ".amount: a count must be at least 1");
    std::uint32_t& previous =
        phase.kind == PhaseSpec::Kind::kPercent ? previous_percent : previous_count;
    if (phase.amount < previous)
      return bad_request(field + ".amount: cumulative amounts must not decrease (" +
                         std::to_string(phase.amount) + " after " + std::to_string(previous) + ")");
    previous = phase.amount;
  }
  if (campaign.current_phase >= campaign.phases.size())
    return bad_request("current_phase: must index a phase");
  if (!is_share(campaign.success_threshold))
    return bad_request("success_threshold: must be in [0, 1]");
  if (!is_share(campaign.failure_threshold))
    return bad_request("failure_threshold: must be in [0, 1]");
  return check_window(campaign.window);
}

}  // namespace updraft::server::campaigns
