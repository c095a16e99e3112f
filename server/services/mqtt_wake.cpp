#include "server/services/mqtt_wake.h"

#include <mosquitto.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>

namespace updraft::server {

HostResult<std::shared_ptr<MqttWake>> MqttWake::start(const std::string& endpoint) {
  const auto colon = endpoint.rfind(':');
  const std::string host = endpoint.substr(0, colon);
  const int port = colon == std::string::npos ? 1883 : std::atoi(endpoint.c_str() + colon + 1);
  if (host.empty() || port <= 0 || port > 65535)
    return Error(ErrorCode::kInvalidArgument,
                 "--mqtt: expected host:port, got \"" + endpoint + "\"");
  static std::once_flag init;
  std::call_once(init, [] { mosquitto_lib_init(); });
  std::shared_ptr<MqttWake> self(new MqttWake());
  self->where_ = host + ":" + std::to_string(port);
  self->client_ = mosquitto_new(nullptr, true, self.get());
  if (self->client_ == nullptr) return Error(ErrorCode::kInternal, "mqtt: out of memory");
  mosquitto_connect_callback_set(self->client_, &MqttWake::on_connect);
  mosquitto_disconnect_callback_set(self->client_, &MqttWake::on_disconnect);
  mosquitto_reconnect_delay_set(self->client_, 1, 30, true);
  // The loop thread starts first: libmosquitto 2.0 retries a first connection
  // that failed only if its thread is already running when it fails.
  int rc = mosquitto_loop_start(self->client_);
  if (rc != MOSQ_ERR_SUCCESS)
    return Error(ErrorCode::kInternal, std::string("mqtt: ") + mosquitto_strerror(rc));
  rc = mosquitto_connect_async(self->client_, host.c_str(), port, 30);
  if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO)
    return Error(ErrorCode::kInternal, "mqtt: " + self->where_ + ": " + mosquitto_strerror(rc));
  return self;
}

MqttWake::~MqttWake() {
  if (client_ == nullptr) return;
  mosquitto_disconnect(client_);
  mosquitto_loop_stop(client_, true);
  mosquitto_destroy(client_);
}

void MqttWake::on_connect(mosquitto*, void* opaque, int rc) {
  auto* self = static_cast<MqttWake*>(opaque);
  if (rc != 0) {
    std::fprintf(stderr, "updraftd: mqtt %s refused the connection: %s\n", self->where_.c_str(),
                 mosquitto_connack_string(rc));
    return;
  }
  self->warned_ = false;
  std::printf("updraftd: mqtt connected to %s\n", self->where_.c_str());
  std::fflush(stdout);
}

void MqttWake::on_disconnect(mosquitto*, void* opaque, int rc) {
  auto* self = static_cast<MqttWake*>(opaque);
  if (rc != 0) {
    std::fprintf(stderr, "updraftd: mqtt: not connected to %s; retrying\n", self->where_.c_str());
  }
}

bool MqttWake::send(std::string_view type, std::string_view data) {
  // Most deployment events are progress reports: skip them before parsing.
  if (type != "deployment" || data.find("\"state\":\"pending\"") == std::string_view::npos)
    return true;
  const nlohmann::json event = nlohmann::json::parse(data, nullptr, false);
  if (!event.is_object() || !event.contains("device")) return true;
  const std::string device = event.value("device", "");
  const std::string topic = "updraft/devices/" + device + "/wake";
  const std::string payload =
      nlohmann::json{{"deployment", event.value("id", 0)}, {"campaign", event.value("campaign", 0)}}
          .dump();
  const int rc = mosquitto_publish(client_, nullptr, topic.c_str(),
                                   static_cast<int>(payload.size()), payload.data(), 1, false);
  if (rc != MOSQ_ERR_SUCCESS && !warned_.exchange(true)) {
    std::fprintf(stderr, "updraftd: mqtt wake for %s not sent now (%s); devices poll meanwhile\n",
                 device.c_str(), mosquitto_strerror(rc));
  }
  return true;  // never dropped from the bus: the broker may come back
}

}  // namespace updraft::server
