// The meter's Transport: the CoAP client (agent/coap/coap_transport.h) as a meter
// on NB-IoT uses it.
//   - Progress stays on the meter: a "downloading" report goes out when the
//     download starts (0 %), not at every 10 % the agent reports. Each report is
//     about 50 bytes on the air and a radio wake-up; phase changes and failures
//     are all sent. (Reports are best effort anyway: agent/agent.h.)
//   - One semihosting line per event (check-in, each block, each resume, each
//     report), and the bytes the client sent and received split into artifact
//     blocks and the rest (check-ins, reports, acknowledgements), for the
//     bytes-on-air figures. scripts/meter_check.sh reads these lines.
// RAM: this object (48 bytes).
#pragma once

#include <cstdint>

#include "agent/coap/coap_transport.h"

namespace updraft::meter {

class MeterTransport final : public agent::Transport {
 public:
  explicit MeterTransport(agent::CoapTransport& coap) : coap_(coap) {}

  Result<void> check_in(const agent::DeviceStatus& status, agent::CheckInAnswer& answer) override;
  Result<std::size_t> fetch(const char* artifact, std::uint32_t offset,
                            MutableByteView out) override;
  Result<void> report(const agent::Report& report) override;
  std::uint32_t block_size() const override { return coap_.block_size(); }

  // One line: requests, retransmissions, timeouts, bad blocks, and the bytes
  // (CoAP messages, without SLIP) of blocks and of everything else, each way.
  void print_summary() const;

 private:
  agent::CoapTransport& coap_;
  bool fetched_ = false;  // since this boot
  std::uint32_t blocks_ = 0;
  std::uint64_t block_bytes_sent_ = 0;
  std::uint64_t block_bytes_received_ = 0;
};

}  // namespace updraft::meter
