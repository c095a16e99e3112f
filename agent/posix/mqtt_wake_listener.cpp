#include "agent/posix/mqtt_wake_listener.h"

#include <mosquitto.h>

#include <mutex>

namespace updraft::agent {
namespace {

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

}  // namespace

std::string wake_topic(const std::string& device_id) {
  return "updraft/devices/" + device_id + "/wake";
}

HostResult<std::unique_ptr<MqttWakeListener>> MqttWakeListener::start(const std::string& host,
                                                                      std::uint16_t port,
                                                                      const std::string& device_id,
                                                                      WakeFn on_wake, LogFn log) {
  init_library();
  std::unique_ptr<MqttWakeListener> self(new MqttWakeListener());
  self->topic_ = wake_topic(device_id);
  self->on_wake_ = std::move(on_wake);
  self->log_ = std::move(log);
  // A clean session: wake messages are hints, and a restarted daemon checks in anyway.
  const std::string client_id = "updraft-agent-" + device_id;
  self->client_ = mosquitto_new(client_id.c_str(), true, self.get());
  if (self->client_ == nullptr) return Error(ErrorCode::kTransportFailed, "mqtt: out of memory");
  mosquitto_connect_callback_set(self->client_, &MqttWakeListener::on_connect);
  mosquitto_disconnect_callback_set(self->client_, &MqttWakeListener::on_disconnect);
  mosquitto_subscribe_callback_set(self->client_, &MqttWakeListener::on_subscribe);
  mosquitto_message_callback_set(self->client_, &MqttWakeListener::on_message);
  mosquitto_reconnect_delay_set(self->client_, 1, 30, true);
  // The loop thread starts first: libmosquitto 2.0 retries a first connection
  // that failed (broker down) only if its thread is already running then.
  int rc = mosquitto_loop_start(self->client_);
  if (rc != MOSQ_ERR_SUCCESS)
    return Error(ErrorCode::kTransportFailed, std::string("mqtt: ") + mosquitto_strerror(rc));
  rc = mosquitto_connect_async(self->client_, host.c_str(), port, 30);
  if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO) {
    return Error(ErrorCode::kTransportFailed,
                 "mqtt: cannot connect to " + host + ": " + mosquitto_strerror(rc));
  }
  return self;
}

MqttWakeListener::~MqttWakeListener() {
  if (client_ == nullptr) return;
  mosquitto_disconnect(client_);
  mosquitto_loop_stop(client_, true);
  mosquitto_destroy(client_);
}

void MqttWakeListener::on_connect(mosquitto* client, void* opaque, int rc) {
  auto* self = static_cast<MqttWakeListener*>(opaque);
  if (rc != 0) {
    self->log_(std::string("mqtt: connection refused: ") + mosquitto_connack_string(rc));
    return;
  }
  // QoS 1: the broker holds a wake for us until the subscription acknowledges it.
  mosquitto_subscribe(client, nullptr, self->topic_.c_str(), 1);
  if (self->connected_before_) self->on_wake_("mqtt reconnected");
  self->connected_before_ = true;
}

void MqttWakeListener::on_disconnect(mosquitto*, void* opaque, int rc) {
  auto* self = static_cast<MqttWakeListener*>(opaque);
  if (rc != 0) self->log_("mqtt: not connected; retrying (polling meanwhile)");
}

void MqttWakeListener::on_subscribe(mosquitto*, void* opaque, int, int, const int*) {
  auto* self = static_cast<MqttWakeListener*>(opaque);
  self->log_("mqtt: subscribed to " + self->topic_);
}

void MqttWakeListener::on_message(mosquitto*, void* opaque, const mosquitto_message* message) {
  auto* self = static_cast<MqttWakeListener*>(opaque);
  const std::string payload(static_cast<const char*>(message->payload),
                            static_cast<std::size_t>(message->payloadlen));
  self->on_wake_("mqtt wake " + payload);
}

}  // namespace updraft::agent
