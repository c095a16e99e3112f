// The rules a campaign must satisfy before it is stored or started. Pure: the only
// outside input is the system tz database, to know the window's time zone.
#pragma once

#include "core/host/error.h"
#include "server/model/campaign.h"

namespace updraft::server::campaigns {

// Ok when `campaign` has at least one phase; each percentage is 1..100 and each
// count >= 1; cumulative amounts never decrease among phases of the same kind (a
// count and a percentage compare only once the device count is known, see
// assign_phases); current_phase indexes a phase; both thresholds are in [0, 1];
// the window's minutes are < 1440 and its time zone is known. Otherwise
// kApiBadRequest with a message naming the first offending field, e.g.
// "phases[2].amount: a percentage must be 1..100".
HostResult<void> validate(const Campaign& campaign);

}  // namespace updraft::server::campaigns
