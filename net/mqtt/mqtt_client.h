// The one libmosquitto setup of Updraft: updraftd publishes wake-ups with it,
// updraft-agent listens for them. It connects in the background and keeps
// reconnecting (1 s to 30 s backoff), so a broker that is down at start or goes
// away later is an event to log, never an error: MQTT is only ever a hint on top
// of polling. Subscriptions are renewed at every connect.
//
// Threads: callbacks run on libmosquitto's network thread; they must be quick and
// thread-safe. publish() may be called from any thread. Host only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/host/error.h"

struct mosquitto;
struct mosquitto_message;

namespace updraft::net::mqtt {

struct MqttOptions {
  std::string host;
  std::uint16_t port = 1883;
  std::string client_id;  // empty: the broker makes one up
  // Topics to subscribe to (QoS 1) at every connect.
  std::vector<std::string> subscriptions;
};

struct MqttCallbacks {
  // After each accepted connect; `reconnect` is false the first time.
  std::function<void(bool reconnect)> on_connect;
  std::function<void(const std::string& topic, const std::string& payload)> on_message;
  // Connection trouble and subscriptions, one line each, for the owner's log.
  std::function<void(const std::string& line)> log;
};

// "host:port" or "host" (port 1883); kInvalidArgument naming `flag` otherwise.
HostResult<MqttOptions> parse_endpoint(std::string_view endpoint, std::string_view flag);

class MqttClient {
 public:
  // Starts the network thread and the first connection attempt. Fails only when
  // the library cannot start (out of memory, no thread) or the host is malformed.
  static HostResult<std::unique_ptr<MqttClient>> start(MqttOptions options,
                                                       MqttCallbacks callbacks);
  ~MqttClient();  // disconnects and joins the network thread
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Queues `payload` on `topic` (QoS 1, not retained). kTransportFailed with
  // libmosquitto's reason when it cannot be queued (e.g. not connected).
  HostResult<void> publish(const std::string& topic, std::string_view payload);

  const std::string& where() const { return where_; }

 private:
  MqttClient() = default;
  static void on_connect(mosquitto* client, void* self, int rc);
  static void on_disconnect(mosquitto* client, void* self, int rc);
  static void on_subscribe(mosquitto* client, void* self, int mid, int count, const int* qos);
  static void on_message(mosquitto* client, void* self, const mosquitto_message* message);
  void log(const std::string& line) const;

  mosquitto* client_ = nullptr;
  MqttOptions options_;
  MqttCallbacks callbacks_;
  std::string where_;  // "host:port", for messages
  bool connected_before_ = false;
};

}  // namespace updraft::net::mqtt
