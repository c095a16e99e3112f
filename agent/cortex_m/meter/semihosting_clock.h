// The meter's Clock port: Unix time from the host (semihosting SYS_TIME), which the
// check-in answer's expiry is checked against. A real meter keeps it in its RTC,
// set from the network (NB-IoT gives the time at attach).
#pragma once

#include "agent/cortex_m/semihosting.h"
#include "agent/port/clock.h"

namespace updraft::meter {

class SemihostingClock final : public agent::Clock {
 public:
  std::uint64_t unix_seconds() const override { return cortex_m::semihosting_time(); }
};

}  // namespace updraft::meter
