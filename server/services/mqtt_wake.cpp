#include "server/services/mqtt_wake.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "net/mqtt/wake_topic.h"

namespace updraft::server {

HostResult<std::shared_ptr<MqttWake>> MqttWake::start(const std::string& endpoint) {
  UPDRAFT_TRY_ASSIGN(net::mqtt::MqttOptions options, net::mqtt::parse_endpoint(endpoint, "--mqtt"));
  std::shared_ptr<MqttWake> self(new MqttWake());
  net::mqtt::MqttCallbacks callbacks;
  MqttWake* raw = self.get();  // outlives its client, which joins its thread first
  // The first connect may come before start() returns: nothing here reads client_.
  const std::string where = options.host + ":" + std::to_string(options.port);
  callbacks.on_connect = [raw, where](bool) {
    raw->warned_ = false;
    std::printf("updraftd: mqtt connected to %s\n", where.c_str());
    std::fflush(stdout);
  };
  callbacks.log = [](const std::string& line) {
    std::fprintf(stderr, "updraftd: %s\n", line.c_str());
  };
  UPDRAFT_TRY_ASSIGN(self->client_,
                     net::mqtt::MqttClient::start(std::move(options), std::move(callbacks)));
  return self;
}

bool MqttWake::send(std::string_view type, std::string_view data) {
  // Most deployment events are progress reports: skip them before parsing.
  if (type != "deployment" || data.find("\"state\":\"pending\"") == std::string_view::npos)
    return true;
  const nlohmann::json event = nlohmann::json::parse(data, nullptr, false);
  if (!event.is_object() || !event.contains("device")) return true;
  const std::string device = event.value("device", "");
  const std::string payload =
      nlohmann::json{{"deployment", event.value("id", 0)}, {"campaign", event.value("campaign", 0)}}
          .dump();
  HostResult<void> sent = client_->publish(net::mqtt::wake_topic(device), payload);
  if (!sent.ok() && !warned_.exchange(true)) {
    std::fprintf(stderr, "updraftd: mqtt wake for %s not sent now (%s); devices poll meanwhile\n",
                 device.c_str(), sent.error().message.c_str());
  }
  return true;  // never dropped from the bus: the broker may come back
}

}  // namespace updraft::server
