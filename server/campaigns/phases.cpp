#include "server/campaigns/phases.h"

#include <algorithm>

namespace updraft::server::campaigns {
namespace {

// Where phase `spec` ends, cumulatively, among `device_count` devices.
std::size_t cumulative_end(const PhaseSpec& spec, std::size_t device_count) {
  const std::uint64_t wanted =
      spec.kind == PhaseSpec::Kind::kPercent
          ? (std::uint64_t{spec.amount} * device_count + 99) / 100  // rounded up
          : spec.amount;
  return static_cast<std::size_t>(std::min<std::uint64_t>(wanted, device_count));
}

}  // namespace

std::vector<std::uint32_t> assign_phases(std::size_t device_count,
                                         const std::vector<PhaseSpec>& phases) {
  std::vector<std::uint32_t> assigned(device_count, 0);
  std::size_t begin = 0;
  for (std::size_t k = 0; k < phases.size() && begin < device_count; ++k) {
    const bool last = k + 1 == phases.size();
    const std::size_t end =
        last ? device_count : std::max(begin + 1, cumulative_end(phases[k], device_count));
    std::fill(assigned.begin() + static_cast<std::ptrdiff_t>(begin),
              assigned.begin() + static_cast<std::ptrdiff_t>(end), static_cast<std::uint32_t>(k));
    begin = end;
  }
  return assigned;
}

}  // namespace updraft::server::campaigns
