// Wakes the agent daemon when updraftd announces work for this device over MQTT
// (topic updraft/devices/<device-id>/wake; see docs/agent-linux.md). Host only,
// libmosquitto. Polling stays the fallback: a message missed while the broker or
// the link was down costs at most one poll interval, and every (re)connect wakes
// the daemon once so it checks in at once.
//
// Threads: libmosquitto's network thread calls `on_wake`; it must be thread-safe
// and quick (the daemon writes to an eventfd).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/host/error.h"

struct mosquitto;
struct mosquitto_message;

namespace updraft::agent {

// The topic updraftd publishes to when a deployment for `device_id` is released.
std::string wake_topic(const std::string& device_id);

class MqttWakeListener {
 public:
  using WakeFn = std::function<void(const std::string& why)>;
  using LogFn = std::function<void(const std::string& line)>;

  // Starts connecting to host:port in the background (an unreachable broker is
  // retried, not an error) and subscribes to wake_topic(device_id).
  static HostResult<std::unique_ptr<MqttWakeListener>> start(const std::string& host,
                                                             std::uint16_t port,
                                                             const std::string& device_id,
                                                             WakeFn on_wake, LogFn log);
  ~MqttWakeListener();
  MqttWakeListener(const MqttWakeListener&) = delete;
  MqttWakeListener& operator=(const MqttWakeListener&) = delete;

 private:
  MqttWakeListener() = default;
  static void on_connect(mosquitto* client, void* self, int rc);
  static void on_disconnect(mosquitto* client, void* self, int rc);
  static void on_subscribe(mosquitto* client, void* self, int mid, int count, const int* qos);
  static void on_message(mosquitto* client, void* self, const mosquitto_message* message);

  mosquitto* client_ = nullptr;
  std::string topic_;
  WakeFn on_wake_;
  LogFn log_;
  bool connected_before_ = false;
};

}  // namespace updraft::agent
