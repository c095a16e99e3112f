// How a campaign's targeted devices are split into its phases (PhaseSpec in
// server/model/campaign.h). Pure: no clock, no store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "server/model/campaign.h"

namespace updraft::server::campaigns {

// The phase index of each of `device_count` devices, taken in the caller's
// deterministic order (by device id, say), so the same inputs give the same split.
//
// Phase k holds the devices from the previous phase's cumulative end up to its own:
// a percentage of `device_count` rounded up (10% of 15 devices is 2), or a count,
// capped at `device_count`. Every phase gets at least one device while devices
// remain, so a 1% canary of 10 devices and a following 5% phase each hold one;
// phases that come after the devices run out are empty. The last phase takes every
// remaining device. Amounts below the previous phase's (possible when percentages
// and counts are mixed) hold one device. No phases: every device is in phase 0.
//
// Returns `device_count` indices, non-decreasing, each < max(1, phases.size()).
std::vector<std::uint32_t> assign_phases(std::size_t device_count,
                                         const std::vector<PhaseSpec>& phases);

}  // namespace updraft::server::campaigns
