// What the HTTP routes reach: the store for plain reads and records, the services
// for everything with rules. Owned by updraftd's main (or a test), which outlives
// the routes.
#pragma once

#include <functional>

#include "server/deltas/delta_cache.h"
#include "server/services/campaign_service.h"
#include "server/services/credentials.h"
#include "server/services/ddi_service.h"
#include "server/services/event_bus.h"
#include "server/services/metrics.h"
#include "server/services/release_service.h"
#include "server/services/server_keys.h"
#include "server/services/update_service.h"
#include "server/storage/store.h"

namespace updraft::server::api {

struct ApiContext {
  Store& store;
  const ServerKeys& keys;
  DeltaCache& deltas;
  ReleaseService& releases;
  CampaignService& campaigns;
  UpdateService& updates;
  DdiService& ddi;
  EventBus& events;
  Metrics& metrics;
  const DeviceTokens& device_tokens;
  std::int64_t device_token_seconds = 24 * 3600;
  std::function<UnixTime()> now;  // the server's clock; tests may pin it
};

}  // namespace updraft::server::api
