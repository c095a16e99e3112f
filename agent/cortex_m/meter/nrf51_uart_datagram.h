// The meter's Datagram port: SLIP frames (agent/link/slip.h) on the nRF51's UART,
// the serial line to the NB-IoT modem, which carries each frame as one UDP datagram
// (sim/modem/ plays it under QEMU). Polled, no interrupts: the UART's RXDRDY and
// TXDRDY events, with timeouts measured by Nrf51Timer.
//
// RAM: this object (about 30 bytes) and no frame buffer of its own: frames are
// decoded straight into the buffer receive() is given. The CoAP client always
// receives into the same buffer, so a frame cut by a timeout continues at the next
// call; a call with another buffer starts afresh. A frame longer than the buffer
// is dropped whole (the Datagram contract allows cutting it; a cut CoAP message is
// of no use either).
#pragma once

#include "agent/link/slip.h"
#include "agent/port/datagram.h"

namespace updraft::meter {

class Nrf51UartDatagram final : public agent::Datagram {
 public:
  // Starts UART0 (115,200 baud on the micro:bit's edge-connector pins) and TIMER0.
  Nrf51UartDatagram();

  // kTransportFailed when the UART does not take a byte within 100 ms.
  Result<void> send(ByteView datagram) override;
  Result<std::size_t> receive(MutableByteView out, std::uint32_t timeout_ms) override;

  std::uint32_t malformed_frames() const { return malformed_frames_; }

 private:
  MutableByteView frame_buffer_;
  agent::link::SlipDecoder decoder_{MutableByteView()};
  std::uint32_t malformed_frames_ = 0;
};

}  // namespace updraft::meter
