// Many real device agents against a real updraftd: each simulated device has its
// own NOR flash in memory, the real boot logic, the real agent with the real
// manifest checks, and a real link to the server: HTTP, or CoAP over UDP with the
// same block client a microcontroller runs. Faults on demand: power cuts at
// random flash operations, dropped connections (or datagrams), corrupted bytes,
// devices offline for a while, low battery. Host only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/host/error.h"

namespace updraft::sim {

struct FleetOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // HTTP: registration, and the devices' link unless CoAP
  // CoAP (docs/formats/coap.md): devices check in and download over UDP to this
  // port (0: they use HTTP), in blocks of coap_block bytes, with a staging area.
  std::uint16_t coap_port = 0;
  std::uint32_t coap_block = 1024;
  std::string admin_token;  // registers the devices
  std::string product;
  std::string hardware = "sim-board";
  std::string id_prefix = "sim-";
  std::size_t devices = 100;
  std::vector<std::byte> image;  // what every device runs at the start
  std::string version;           // ... as this version
  std::uint32_t security_counter = 1;
  unsigned threads = 4;
  std::uint64_t seed = 1;
  // Faults, as probabilities.
  double power_cut_rate = 0.0;    // per device step: power fails within its next flash operations
  double drop_rate = 0.0;         // per artifact request (HTTP) or datagram (CoAP): lost
  double corrupt_rate = 0.0;      // per device: one downloaded byte arrives flipped, once
  double offline_rate = 0.0;      // per device step: the device stays offline this round
  double low_battery_rate = 0.0;  // per device: starts below the battery floor, charges later
  int max_rounds = 400;
  std::chrono::milliseconds round_pause{50};
};

struct DeviceOutcome {
  std::string id;
  std::string version;     // what it runs at the end
  std::string last_phase;  // its last report
  int last_error = 0;      // its last report's error number
  // The last report the server acknowledged (a report whose answer was lost is
  // sent again by the agent): what the store must hold for this device.
  std::string acked_phase;
  int acked_error = 0;
  std::size_t acked_reports = 0;
  bool rolled_back = false;
  bool bricked = false;     // nothing bootable (must never happen)
  std::uint64_t bytes = 0;  // artifact bytes it downloaded
};

struct FleetSummary {
  int rounds = 0;
  std::size_t devices = 0;
  std::size_t on_version = 0;  // runs the target version
  std::size_t on_old = 0;
  std::size_t rolled_back = 0;
  std::size_t bricked = 0;
  std::map<int, std::size_t> failed_by_error;  // devices on the old image, by last error
  std::uint64_t bytes_downloaded = 0;
  std::uint64_t full_image_bytes = 0;  // what full images would have cost the updated devices
  std::chrono::milliseconds elapsed{0};
  std::size_t check_ins = 0;
  std::uint32_t check_in_p50_us = 0;  // check-in latency seen by the devices
  std::uint32_t check_in_p99_us = 0;
  std::vector<DeviceOutcome> outcomes;
};

// Registers the devices (reusing those that exist), then runs rounds — every device
// takes one step: boot if it must, then one agent cycle — until `done` says so
// (after a round, given the summary so far) or max_rounds. `target_version` is what
// counts as updated. `on_round` sees the summary after each round (live output).
HostResult<FleetSummary> run_fleet(const FleetOptions& options, const std::string& target_version,
                                   const std::function<bool(const FleetSummary&)>& done,
                                   const std::function<void(const FleetSummary&)>& on_round = {});

// The final table an operator reads.
std::string format_summary(const FleetSummary& summary, const std::string& target_version);

}  // namespace updraft::sim
