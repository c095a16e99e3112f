#include "agent/linux/mqtt_wake_listener.h"

#include "net/mqtt/wake_topic.h"

namespace updraft::agent {

HostResult<std::unique_ptr<MqttWakeListener>> MqttWakeListener::start(const std::string& host,
                                                                      std::uint16_t port,
                                                                      const std::string& device_id,
                                                                      WakeFn on_wake, LogFn log) {
  net::mqtt::MqttOptions options;
  options.host = host;
  options.port = port;
  options.client_id = "updraft-agent-" + device_id;
  options.subscriptions = {net::mqtt::wake_topic(device_id)};
  net::mqtt::MqttCallbacks callbacks;
  callbacks.on_connect = [on_wake](bool reconnect) {
    if (reconnect) on_wake("mqtt reconnected");
  };
  callbacks.on_message = [on_wake](const std::string&, const std::string& payload) {
    on_wake("mqtt wake " + payload);
  };
  callbacks.log = std::move(log);
  std::unique_ptr<MqttWakeListener> self(new MqttWakeListener());
  UPDRAFT_TRY_ASSIGN(self->client_,
                     net::mqtt::MqttClient::start(std::move(options), std::move(callbacks)));
  return self;
}

}  // namespace updraft::agent
