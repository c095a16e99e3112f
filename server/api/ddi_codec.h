// The hawkBit DDI v1 bodies updraftd parses (docs/api/ddi.md), into the types
// of server/services/ddi_service.h. Parsing is tolerant where real clients
// are sloppy (odd progress counts, details that are not strings) and strict where
// a wrong value would move a deployment the wrong way (unknown execution/finished).
// Refusals are kApiBadRequest naming the field first.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/host/error.h"
#include "server/services/ddi_service.h"

namespace updraft::server::api {

inline constexpr std::size_t kMaxDetails = 100;
inline constexpr std::size_t kMaxDetailBytes = 500;
inline constexpr std::size_t kMaxConfigEntries = 100;

// POST .../deploymentBase/{actionId}/feedback and .../cancelAction/{id}/feedback.
HostResult<DdiFeedback> ddi_feedback_from_json(const nlohmann::json& body);

// PUT .../configData.
HostResult<DdiConfigData> ddi_config_data_from_json(const nlohmann::json& body);

// Seconds as DDI's "HH:MM:SS" (hours may exceed 24; negative counts as 0).
std::string ddi_sleep(std::int64_t seconds);

}  // namespace updraft::server::api
