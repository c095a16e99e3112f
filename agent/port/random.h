// A source of unpredictable numbers, for check-in nonces (portable). On an MCU,
// the hardware RNG; on Linux, getrandom().
#pragma once

#include <cstdint>

namespace updraft::agent {

class Random {
 public:
  virtual std::uint64_t next() = 0;

 protected:
  ~Random() = default;
};

}  // namespace updraft::agent
