// The meter's Random port: the nRF51's hardware random number generator (RNG
// peripheral, with its bias correction on), one byte per VALRDY event. QEMU models
// it with the host's random source. Check-in nonces and the CoAP client's first
// message id come from here.
#pragma once

#include "agent/port/random.h"

namespace updraft::meter {

class Nrf51Random final : public agent::Random {
 public:
  // Eight bytes of the RNG, about 5 ms with bias correction.
  std::uint64_t next() override;
};

}  // namespace updraft::meter
