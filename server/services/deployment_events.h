// The live "deployment" event, published by every service that changes a
// deployment: reports (UpdateService) and releases (CampaignService), so the
// console and the MQTT wake-up (mqtt_wake.h) see each change in one shape:
//   {"id":N,"campaign":N,"device":"...","state":"pending","progress":0,"error":0}
#pragma once

#include "server/model/campaign.h"
#include "server/services/event_bus.h"

namespace updraft::server {

void publish_deployment(EventBus& events, const Deployment& deployment);

}  // namespace updraft::server
