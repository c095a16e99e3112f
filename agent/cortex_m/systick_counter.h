// Counts time with the SysTick timer, clocked by the core clock (CLKSOURCE = 1).
// On a device one tick is one CPU cycle. QEMU does not model cycles: it clocks
// SysTick at the mps2 board's 25 MHz of virtual time, and with -icount shift=0
// (one instruction = 1 ns) one tick stands for 40 executed instructions.
// The DWT cycle counter would be the usual choice, but QEMU does not model the DWT.
//
// Takes the SysTick exception to extend the 24-bit counter; nothing else may use
// SysTick while a SysTickCounter runs.
#pragma once

#include <cstdint>

namespace updraft::cortex_m {

class SysTickCounter {
 public:
  // Starts counting from zero.
  static void start();
  // Ticks since start().
  static std::uint64_t ticks();
};

}  // namespace updraft::cortex_m

extern "C" void systick_handler();
