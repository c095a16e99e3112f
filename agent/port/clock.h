// Time as a device knows it. Portable.
#pragma once

#include <cstdint>

namespace updraft::agent {

class Clock {
 public:
  // Seconds since the Unix epoch; devices without a real-time clock take it from
  // the server's answers. Used for manifest expiry and maintenance windows.
  virtual std::uint64_t unix_seconds() const = 0;

 protected:
  ~Clock() = default;
};

}  // namespace updraft::agent
