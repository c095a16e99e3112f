// The audit log's one writer: every service records who changed what through
// append_audit(), so each line's details are a well-formed JSON object whatever
// the names in it hold (quotes, bytes that are not UTF-8). Host only.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/host/error.h"
#include "server/storage/store.h"

namespace updraft::server {

// Appends one line. Inside a store transaction its failure should fail the
// transaction, so a change and its audit line commit together; outside one,
// callers whose change has already committed may ignore it.
HostResult<void> append_audit(Store& store, UnixTime at, std::string actor, std::string action,
                              std::string object, const nlohmann::json& details);

}  // namespace updraft::server
