#include "server/campaigns/compatibility.h"

#include <algorithm>

#include "manifest/semver.h"

namespace updraft::server::campaigns {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// The version the device runs, as the server best knows it.
const std::string& running_version(const Device& device, const std::optional<Release>& running) {
  return running ? running->version : device.status.version;
}

}  // namespace

Incompatibility check_compatibility(const Release& release, const Campaign& campaign,
                                    const Device& device, const std::optional<Release>& running) {
  if (std::find(release.hardware.begin(), release.hardware.end(), device.hardware) ==
      release.hardware.end()) {
    return Incompatibility::kHardware;
  }
  if (running && release.security_counter < running->security_counter)
    return Incompatibility::kSecurityCounter;
  const Result<manifest::SemVer> from = manifest::parse_semver(running_version(device, running));
  const Result<manifest::SemVer> to = manifest::parse_semver(release.version);
  const bool allowed = campaign.allow_downgrade && release.allow_downgrade;
  if (from.ok() && to.ok() && manifest::compare(*to, *from) < 0 && !allowed)
    return Incompatibility::kDowngrade;
  return Incompatibility::kNone;
}

ErrorCode error_for(Incompatibility why) {
  switch (why) {
    case Incompatibility::kHardware:
      return ErrorCode::kManifestWrongHardware;
    case Incompatibility::kSecurityCounter:
      return ErrorCode::kManifestRollback;
    case Incompatibility::kDowngrade:
      return ErrorCode::kManifestDowngrade;
    case Incompatibility::kNone:
      break;
  }
  return ErrorCode::kOk;
}

std::string explain(Incompatibility why, const Release& release, const Device& device,
                    const std::optional<Release>& running) {
  switch (why) {
    case Incompatibility::kHardware:
      return "not offered: hardware " + device.hardware + " is not in the release's list (" +
             join(release.hardware) + ")";
    case Incompatibility::kSecurityCounter:
      return "not offered: security counter " + std::to_string(release.security_counter) +
             " is below the running release's " +
             std::to_string(running ? running->security_counter : 0);
    case Incompatibility::kDowngrade:
      return "not offered: " + release.version + " is older than the running " +
             running_version(device, running) + " and the campaign allows no downgrade";
    case Incompatibility::kNone:
      break;
  }
  return "";
}

}  // namespace updraft::server::campaigns
