#include "server/services/status_queue.h"

namespace updraft::server {

void StatusQueue::put(const DeviceId& device, const DeviceStatusReport& status) {
  std::lock_guard lock(mutex_);
  pending_[device] = status;
}

DeviceStatusReport StatusQueue::update(const DeviceId& device, const DeviceStatusReport& current,
                                       const std::function<void(DeviceStatusReport&)>& change) {
  std::lock_guard lock(mutex_);
  DeviceStatusReport& queued = pending_.try_emplace(device, current).first->second;
  change(queued);
  return queued;
}

HostResult<void> StatusQueue::flush() {
  std::unordered_map<DeviceId, DeviceStatusReport> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
  }
  if (batch.empty()) return {};
  return store_.transaction([&]() -> HostResult<void> {
    for (const auto& [id, status] : batch) {
      HostResult<void> r = store_.record_status(id, status);
      if (!r.ok() && r.error().code != ErrorCode::kStoreNotFound) return r;
    }
    return {};
  });
}

}  // namespace updraft::server
