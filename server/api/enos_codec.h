// The EnOS sub-device request bodies (docs/api/enos.md), decoded field by field:
// a missing or mistyped field is kApiBadRequest naming it. The document prints
// errcode as a number in its examples and calls it a string in its table; both
// are taken. request_fuzz runs these on arbitrary bodies.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/host/error.h"
#include "server/services/enos_service.h"

namespace updraft::server::api {

// "assetId" and "serialNum" of any body (the bearer token is the route's).
HostResult<EnosIdentity> enos_identity_from_json(const nlohmann::json& body);

// /checkversion's "version".
HostResult<std::string> enos_version_from_json(const nlohmann::json& body);

struct EnosDownloadResult {
  int code = -1;        // 0 failed, 1 downloaded (other values: the service refuses)
  std::string message;  // at most 500 bytes
};
HostResult<EnosDownloadResult> enos_download_result_from_json(const nlohmann::json& body);

// /updateresult's body: flag and process required, desc cut to 400 bytes,
// errcode to 64.
HostResult<EnosUpdateResult> enos_update_result_from_json(const nlohmann::json& body);

}  // namespace updraft::server::api
