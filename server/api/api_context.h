// What the HTTP routes reach: the services, never the store, so every rule lives
// in server/services and the routes only turn HTTP into calls and results into
// HTTP. Owned by updraftd's main (or a test), which outlives the routes.
#pragma once

#include <functional>

#include "server/deltas/delta_cache.h"
#include "server/services/campaign_service.h"
#include "server/services/ddi_service.h"
#include "server/services/enos_service.h"
#include "server/services/event_bus.h"
#include "server/services/fleet_service.h"
#include "server/services/mender_service.h"
#include "server/services/metrics.h"
#include "server/services/release_service.h"
#include "server/services/server_keys.h"
#include "server/services/update_service.h"

namespace updraft::server::api {

struct ApiContext {
  FleetService& fleet;
  const ServerKeys& keys;
  DeltaCache& deltas;
  ReleaseService& releases;
  CampaignService& campaigns;
  UpdateService& updates;
  DdiService& ddi;
  EnosService& enos;
  MenderService& mender;
  EventBus& events;
  Metrics& metrics;
  HealthProbe& health;
  std::function<UnixTime()> now;  // the server's clock; tests may pin it
};

}  // namespace updraft::server::api
