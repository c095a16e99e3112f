#include "server/services/deployment_events.h"

#include <nlohmann/json.hpp>

#include "server/model/names.h"
#include "server/services/metrics.h"

namespace updraft::server {

void publish_deployment(EventBus& events, const Deployment& dep) {
  events.publish("deployment", nlohmann::json{{"id", dep.id.value},
                                              {"campaign", dep.campaign.value},
                                              {"device", dep.device.value},
                                              {"state", name_of(dep.state)},
                                              {"progress", dep.progress},
                                              {"error", dep.error}}
                                   .dump());
}

}  // namespace updraft::server
