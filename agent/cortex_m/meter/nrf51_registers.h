// Memory-mapped peripheral registers of the nRF51 (nRF51 Reference Manual v3.0):
// every peripheral sits at its base address, tasks are triggered by writing 1,
// events are set by the hardware and cleared by writing 0.
#pragma once

#include <cstdint>

namespace updraft::meter {

inline volatile std::uint32_t& reg(std::uint32_t base, std::uint32_t offset) {
  return *reinterpret_cast<volatile std::uint32_t*>(base + offset);
}

}  // namespace updraft::meter
