// The MQTT topic updraftd publishes to when a deployment is released for a
// device, and the agent listens on (docs/agent-linux.md):
//   updraft/devices/<device-id>/wake   payload {"deployment":N,"campaign":N}
#pragma once

#include <string>

namespace updraft::net::mqtt {

inline std::string wake_topic(const std::string& device_id) {
  return "updraft/devices/" + device_id + "/wake";
}

}  // namespace updraft::net::mqtt
