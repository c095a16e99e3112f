// Whether a release may be offered to a device: the server's own check, for
// every protocol, before a device ever sees the manifest (which the device would
// refuse anyway, after the download, for the same reasons). Pure.
//   - the release's hardware list names the device's hardware;
//   - never below the device's security counter (when the server knows the
//     release the device runs);
//   - not a lower version than the device runs, unless the campaign allows a
//     downgrade and the release's manifest does too.
#pragma once

#include <optional>
#include <string>

#include "core/error_code.h"
#include "server/model/campaign.h"
#include "server/model/fleet.h"

namespace updraft::server::campaigns {

enum class Incompatibility : std::uint8_t { kNone, kHardware, kSecurityCounter, kDowngrade };

// `running` is the release whose image the device reports running, if the
// server has it; otherwise the device's reported version is compared, when it
// is a semantic version.
Incompatibility check_compatibility(const Release& release, const Campaign& campaign,
                                    const Device& device, const std::optional<Release>& running);

// The number a device would report for it: 210, 211 or 212.
ErrorCode error_for(Incompatibility why);
// "hardware rev-a is not in the release's list (rev-b)", for the deployment's message.
std::string explain(Incompatibility why, const Release& release, const Device& device,
                    const std::optional<Release>& running);

}  // namespace updraft::server::campaigns
