#include "net/mqtt/mqtt_client.h"

#include <mosquitto.h>

#include <charconv>

namespace updraft::net::mqtt {

HostResult<MqttOptions> parse_endpoint(std::string_view endpoint, std::string_view flag) {
  MqttOptions options;
  const std::size_t colon = endpoint.rfind(':');
  options.host = std::string(endpoint.substr(0, colon));
  if (colon != std::string_view::npos) {
    const std::string_view port_text = endpoint.substr(colon + 1);
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      options.host.clear();
    }
    options.port = static_cast<std::uint16_t>(port);
  }
  if (options.host.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string(flag) + ": expected host:port, got \"" + std::string(endpoint) + "\"");
  }
  return options;
}

HostResult<std::unique_ptr<MqttClient>> MqttClient::start(MqttOptions options,
                                                          MqttCallbacks callbacks) {
  if (options.host.empty()) return Error(ErrorCode::kInvalidArgument, "mqtt: no broker host");
  static std::once_flag init;
  std::call_once(init, [] { mosquitto_lib_init(); });
  std::unique_ptr<MqttClient> self(new MqttClient());
  self->options_ = std::move(options);
  self->callbacks_ = std::move(callbacks);
  self->where_ = self->options_.host + ":" + std::to_string(self->options_.port);
  // A clean session: wake messages are hints, and a restarted client polls anyway.
  const char* id = self->options_.client_id.empty() ? nullptr : self->options_.client_id.c_str();
  self->client_ = mosquitto_new(id, true, self.get());
  if (self->client_ == nullptr) return Error(ErrorCode::kTransportFailed, "mqtt: out of memory");
  mosquitto_connect_callback_set(self->client_, &MqttClient::on_connect);
  mosquitto_disconnect_callback_set(self->client_, &MqttClient::on_disconnect);
  mosquitto_subscribe_callback_set(self->client_, &MqttClient::on_subscribe);
  mosquitto_message_callback_set(self->client_, &MqttClient::on_message);
  mosquitto_reconnect_delay_set(self->client_, 1, 30, true);
  // The loop thread starts first: libmosquitto 2.0 retries a first connection
  // that failed (broker down) only if its thread is already running then.
  int rc = mosquitto_loop_start(self->client_);
  if (rc != MOSQ_ERR_SUCCESS)
    return Error(ErrorCode::kTransportFailed, std::string("mqtt: ") + mosquitto_strerror(rc));
  rc = mosquitto_connect_async(self->client_, self->options_.host.c_str(), self->options_.port, 30);
  if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO) {
    return Error(ErrorCode::kTransportFailed,
                 "mqtt: cannot connect to " + self->where_ + ": " + mosquitto_strerror(rc));
  }
  return self;
}

MqttClient::~MqttClient() {
  if (client_ == nullptr) return;
  mosquitto_disconnect(client_);
  mosquitto_loop_stop(client_, true);
  mosquitto_destroy(client_);
}

HostResult<void> MqttClient::publish(const std::string& topic, std::string_view payload) {
  const int rc = mosquitto_publish(client_, nullptr, topic.c_str(),
                                   static_cast<int>(payload.size()), payload.data(), 1, false);
  if (rc != MOSQ_ERR_SUCCESS)
    return Error(ErrorCode::kTransportFailed, std::string("mqtt: ") + mosquitto_strerror(rc));
  return {};
}

void MqttClient::log(const std::string& line) const {
  if (callbacks_.log) callbacks_.log(line);
}

void MqttClient::on_connect(mosquitto* client, void* opaque, int rc) {
  auto* self = static_cast<MqttClient*>(opaque);
  if (rc != 0) {
    self->log("mqtt: " + self->where_ + " refused the connection: " + mosquitto_connack_string(rc));
    return;
  }
  // QoS 1: the broker holds a message for us until the subscription acknowledges it.
  for (const std::string& topic : self->options_.subscriptions)
    mosquitto_subscribe(client, nullptr, topic.c_str(), 1);
  const bool reconnect = self->connected_before_;
  self->connected_before_ = true;
  if (self->callbacks_.on_connect) self->callbacks_.on_connect(reconnect);
}

void MqttClient::on_disconnect(mosquitto*, void* opaque, int rc) {
  auto* self = static_cast<MqttClient*>(opaque);
  if (rc != 0) self->log("mqtt: not connected to " + self->where_ + "; retrying");
}

void MqttClient::on_subscribe(mosquitto*, void* opaque, int, int, const int*) {
  auto* self = static_cast<MqttClient*>(opaque);
  for (const std::string& topic : self->options_.subscriptions)
    self->log("mqtt: subscribed to " + topic);
}

void MqttClient::on_message(mosquitto*, void* opaque, const mosquitto_message* message) {
  auto* self = static_cast<MqttClient*>(opaque);
  if (!self->callbacks_.on_message) return;
  const std::string payload(static_cast<const char*>(message->payload),
                            static_cast<std::size_t>(message->payloadlen));
  self->callbacks_.on_message(message->topic, payload);
}

}  // namespace updraft::net::mqtt
