// Microseconds from the nRF51's TIMER0 (16 MHz / 2^4, 32 bits, polled through a
// capture task): the meter's monotonic time for link timeouts. Wraps every 71
// minutes, so compare times by unsigned difference. In QEMU the timer runs on the
// virtual clock, which follows the host's clock.
#pragma once

#include <cstdint>

namespace updraft::meter {

class Nrf51Timer {
 public:
  // Starts TIMER0 counting from zero. Nothing else may use TIMER0.
  static void start();
  static std::uint32_t microseconds();
};

}  // namespace updraft::meter
