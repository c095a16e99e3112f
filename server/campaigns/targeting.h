// Which devices a campaign targets: TargetSelector (server/model/campaign.h)
// applied to one device. Pure: no clock, no store.
#pragma once

#include "server/model/campaign.h"
#include "server/model/fleet.h"

namespace updraft::server::campaigns {

// True when `device` satisfies every non-empty field of `selector` (AND), each by
// any of its values (OR): hardware, running version, any listed tag, listed id.
// An empty selector matches every device. The product is matched by the caller.
// A decommissioned device matches no selector: it can no longer take an update.
bool matches(const TargetSelector& selector, const Device& device);

}  // namespace updraft::server::campaigns
