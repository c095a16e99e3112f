// Wakes devices over MQTT when a deployment is released for them (campaign start,
// next phase, resume): on every "deployment" event in state "pending" it publishes
//   topic   updraft/devices/<device-id>/wake
//   payload {"deployment":N,"campaign":N}
// (QoS 1, not retained). Subscribes to the EventBus like a console stream, so the
// services know nothing about MQTT. Host only, libmosquitto; thread-safe.
//
// The broker is optional for correctness: if it is down, publishing fails with a
// log line (at most one per reconnect) and libmosquitto's thread keeps
// reconnecting; devices still poll.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/host/error.h"
#include "core/host/event_sink.h"
#include "net/mqtt/mqtt_client.h"

namespace updraft::server {

class MqttWake final : public EventSink {
 public:
  // Starts connecting to `endpoint` ("host:port", or "host" for 1883) in the
  // background; kInvalidArgument for a malformed endpoint.
  static HostResult<std::shared_ptr<MqttWake>> start(const std::string& endpoint);

  bool send(std::string_view type, std::string_view data) override;
  bool closed() const override { return false; }

 private:
  MqttWake() = default;

  std::unique_ptr<net::mqtt::MqttClient> client_;
  std::atomic<bool> warned_{false};
};

}  // namespace updraft::server
