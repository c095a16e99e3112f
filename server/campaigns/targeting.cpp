#include "server/campaigns/targeting.h"

#include <algorithm>

namespace updraft::server::campaigns {
namespace {

template <typename T>
bool field_matches(const std::vector<T>& allowed, const T& value) {
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

}  // namespace

bool matches(const TargetSelector& selector, const Device& device,
             std::span<const InventoryAttribute> inventory) {
  if (device.decommissioned_at != 0) return false;
  for (const auto& wanted : selector.inventory) {
    const bool reported = std::any_of(inventory.begin(), inventory.end(), [&](const auto& a) {
      return a.name == wanted.first && a.value == wanted.second;
    });
    if (!reported) return false;
  }
  const bool tag_matches =
      selector.tags.empty() ||
      std::any_of(device.tags.begin(), device.tags.end(),
                  [&](const std::string& tag) { return field_matches(selector.tags, tag); });
  return field_matches(selector.hardware, device.hardware) &&
         field_matches(selector.versions, device.status.version) && tag_matches &&
         field_matches(selector.devices, device.id);
}

}  // namespace updraft::server::campaigns
