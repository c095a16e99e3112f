// The host's wall clock and its kernel random source, as the agent's ports
// (agent/port/clock.h, random.h). Host only.
#pragma once

#include <cstdint>

#include "agent/port/clock.h"
#include "agent/port/random.h"

namespace updraft::agent {

class SystemClock final : public Clock {
 public:
  std::uint64_t unix_seconds() const override;
};

// getrandom(2): blocks only before the kernel's pool is first initialized.
class SystemRandom final : public Random {
 public:
  std::uint64_t next() override;
};

}  // namespace updraft::agent
