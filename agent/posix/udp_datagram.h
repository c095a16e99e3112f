// The Datagram port over a connected UDP socket, for hosts that speak CoAP to
// updraftd (updraft-sim, updraft-agent --coap). Host only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agent/port/datagram.h"
#include "core/host/error.h"

namespace updraft::agent {

class UdpDatagram final : public Datagram {
 public:
  // Resolves host:port and connects a UDP socket to it (no packet is sent).
  static HostResult<std::unique_ptr<UdpDatagram>> open(const std::string& host, std::uint16_t port);
  ~UdpDatagram();
  UdpDatagram(const UdpDatagram&) = delete;
  UdpDatagram& operator=(const UdpDatagram&) = delete;

  Result<void> send(ByteView datagram) override;
  Result<std::size_t> receive(MutableByteView out, std::uint32_t timeout_ms) override;

 private:
  explicit UdpDatagram(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace updraft::agent
