// The admin API's JSON shapes for the server's entities (docs/api/admin.md), and
// the parsing of request bodies into them. Field errors are kApiBadRequest with the
// field's name first, e.g. "phases[1].percent: must be 1..100".
#pragma once

#include <nlohmann/json.hpp>

#include "core/host/error.h"
#include "net/http/message.h"
#include "server/model/audit.h"
#include "server/model/campaign.h"
#include "server/model/fleet.h"
#include "server/model/names.h"
#include "server/services/campaign_service.h"
#include "server/services/update_service.h"

namespace updraft::server::api {

using nlohmann::json;

// The request body as a JSON object; kApiBadRequest when it is not one.
HostResult<json> parse_object(const net::http::Request& request);

json to_json(const Product& product);
json to_json(const Device& device);
json to_json(const Release& release, const std::string& product_name);
json to_json(const Campaign& campaign);
json to_json(const Deployment& deployment);
json to_json(const AuditEvent& event);
json to_json(const DeploymentHistoryEntry& entry);
json to_json(const CampaignProgress& progress);

// A device's check-in and report bodies (docs/api/device.md).
HostResult<CheckInRequest> check_in_from_json(const json& body);
HostResult<DeviceReport> report_from_json(const json& body);

// A new campaign from its JSON (docs/api/admin.md), unvalidated beyond shapes:
// CampaignService::create applies the rules.
HostResult<Campaign> campaign_from_json(const json& body);

}  // namespace updraft::server::api
