// Wakes the agent daemon when updraftd announces work for this device over MQTT
// (net/mqtt/wake_topic.h; docs/agent-linux.md). Polling stays the fallback: a
// message missed while the broker or the link was down costs at most one poll
// interval, and every reconnect wakes the daemon once so it checks in at once.
//
// Threads: libmosquitto's network thread calls `on_wake`; it must be thread-safe
// and quick (the daemon writes to an eventfd). Host only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/host/error.h"
#include "net/mqtt/mqtt_client.h"

namespace updraft::agent {

class MqttWakeListener {
 public:
  using WakeFn = std::function<void(const std::string& why)>;
  using LogFn = std::function<void(const std::string& line)>;

  // Starts connecting to host:port in the background (an unreachable broker is
  // retried, not an error) and subscribes to the device's wake topic.
  static HostResult<std::unique_ptr<MqttWakeListener>> start(const std::string& host,
                                                             std::uint16_t port,
                                                             const std::string& device_id,
                                                             WakeFn on_wake, LogFn log);

 private:
  MqttWakeListener() = default;

  std::unique_ptr<net::mqtt::MqttClient> client_;
};

}  // namespace updraft::agent
