// Which devices a campaign targets: TargetSelector (server/model/campaign.h)
// applied to one device. Pure: no clock, no store.
#pragma once

#include <span>

#include "server/model/campaign.h"
#include "server/model/fleet.h"
#include "server/model/mender.h"

namespace updraft::server::campaigns {

// True when `device` satisfies every non-empty field of `selector` (AND), each by
// any of its values (OR): hardware, running version, any listed tag, listed id.
// An empty selector matches every device. The product is matched by the caller.
// A decommissioned device matches no selector: it can no longer take an update.
// `inventory` is the device's (Store::inventory); only a selector with inventory
// attributes reads it, so callers may leave it empty for the others.
bool matches(const TargetSelector& selector, const Device& device,
             std::span<const InventoryAttribute> inventory = {});

}  // namespace updraft::server::campaigns
