#include "agent/posix/system_clock.h"

#include <sys/random.h>

#include <ctime>

namespace updraft::agent {

std::uint64_t SystemClock::unix_seconds() const {
  return static_cast<std::uint64_t>(std::time(nullptr));
}

std::uint64_t SystemRandom::next() {
  std::uint64_t value = 0;
  // Rather than fail a check-in, fall back to the clock if the kernel fails us.
  if (::getrandom(&value, sizeof value, 0) != sizeof value)
    value ^= static_cast<std::uint64_t>(std::clock());
  return value;
}

}  // namespace updraft::agent
