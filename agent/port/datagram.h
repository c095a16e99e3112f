// A datagram link to the update server (portable): a UDP socket on a host, a
// modem's socket API or a SLIP-framed UART on a microcontroller. The CoAP client
// (agent/coap/coap_transport.h) is built on it. Datagrams may be lost,
// duplicated, reordered or corrupted; the protocol above copes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "core/result.h"

namespace updraft::agent {

class Datagram {
 public:
  // Sends one datagram; kTransportFailed when the link cannot take it now.
  virtual Result<void> send(ByteView datagram) = 0;
  // Waits up to `timeout_ms` for one datagram and copies it into `out` (a longer
  // one is cut to `out`'s size). kTransportTimeout when none came in time.
  virtual Result<std::size_t> receive(MutableByteView out, std::uint32_t timeout_ms) = 0;

 protected:
  ~Datagram() = default;
};

}  // namespace updraft::agent
