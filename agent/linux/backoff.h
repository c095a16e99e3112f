// How long updraft-agent waits after a cycle that could not reach the server:
// doubling from 30 s with each failure in a row, up to --poll-seconds, and drawn
// at random from the upper half of that, so a fleet whose server came back does
// not return in step (findings 2026-12-01: every 60 s, no jitter). Host only.
#pragma once

#include <algorithm>
#include <cstdint>

namespace updraft::agent {

inline constexpr std::uint32_t kFirstBackoffSeconds = 30;

// `failures` in a row (1 for the first), `cap` the longest wait, `random` any
// 64-bit draw. At least 1 s.
inline std::uint32_t backoff_seconds(std::uint32_t failures, std::uint32_t cap,
                                     std::uint64_t random) {
  const std::uint32_t doublings = std::min<std::uint32_t>(failures == 0 ? 0 : failures - 1, 16);
  const std::uint64_t ceiling =
      std::min<std::uint64_t>(std::uint64_t{kFirstBackoffSeconds} << doublings, cap);
  const std::uint64_t half = ceiling / 2;
  const std::uint64_t wait = half + random % (ceiling - half + 1);
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(wait, 1));
}

}  // namespace updraft::agent
