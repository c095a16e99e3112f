// The device statuses check-ins report (version, image, slot, battery, network,
// last seen), queued in memory and written in one transaction per flush: a
// fleet's check-ins would otherwise each cost a commit. The scheduler flushes
// every tick, campaign creation and start flush first (so targeting by version
// sees what devices said), and updraftd flushes at shutdown. A crash loses at
// most the statuses since the last flush; the next check-in brings them back.
// Host only; thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <unordered_map>

#include "core/host/error.h"
#include "server/storage/store.h"

namespace updraft::server {

class StatusQueue {
 public:
  explicit StatusQueue(Store& store) : store_(store) {}

  // Queues `status` for `device`, replacing what was queued.
  void put(const DeviceId& device, const DeviceStatusReport& status);
  // Changes the queued status of `device` with `change`, starting from `current`
  // when nothing is queued for it. Returns the status now queued.
  DeviceStatusReport update(const DeviceId& device, const DeviceStatusReport& current,
                            const std::function<void(DeviceStatusReport&)>& change);
  // Writes what is queued in one transaction. A device deleted since its
  // check-in is skipped. On failure the batch is dropped: statuses are advisory.
  HostResult<void> flush();

 private:
  Store& store_;
  std::mutex mutex_;
  std::unordered_map<DeviceId, DeviceStatusReport> pending_;
};

}  // namespace updraft::server
