#include "server/services/audit_log.h"

namespace updraft::server {

HostResult<void> append_audit(Store& store, UnixTime at, std::string actor, std::string action,
                              std::string object, const nlohmann::json& details) {
  AuditEvent event;
  event.at = at;
  event.actor = std::move(actor);
  event.action = std::move(action);
  event.object = std::move(object);
  // Invalid UTF-8 is replaced, not thrown: names come from clients.
  event.details = details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  UPDRAFT_TRY(store.append_audit(event));
  return {};
}

}  // namespace updraft::server
