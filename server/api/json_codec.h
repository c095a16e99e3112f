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

// Text stored before UTF-8 was checked at the door may still hold a bad byte:
// replaced in the answer rather than failing it (a list would fail for everyone).
net::http::Response ok_json(const json& j, int status = 200);

// The query parameter `name`, "" when absent.
std::string query(const net::http::Request& request, const char* name);
// The query parameter `name` as a count, at most `max`; `fallback` when absent or
// not a number.
std::size_t query_size(const net::http::Request& request, const char* name, std::size_t fallback,
                       std::size_t max);

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
