// Vector table and reset handler for the nRF51822 (Cortex-M0), and the C runtime
// start that newlib's crt0 would do: copy .data from flash, zero .bss, paint the
// stack (stack_usage.h), run static constructors, then the meter. The section
// symbols come from nrf51822.ld. No interrupts are enabled: every peripheral is
// polled, so the table ends before the IRQ entries.
#include <algorithm>
#include <cstdint>

#include "agent/cortex_m/meter/meter.h"
#include "agent/cortex_m/meter/meter_map.h"
#include "agent/cortex_m/semihosting.h"
#include "agent/cortex_m/stack_usage.h"

extern "C" {
extern std::uint32_t __data_load[], __data_start[], __data_end[];
extern std::uint32_t __bss_start[], __bss_end[];
extern std::uint32_t __stack_top[];
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();

[[noreturn]] void reset_handler();
void fault_handler();
}

namespace {

using Handler = void (*)();

// The first 16 entries of the Armv6-M vector table.
struct VectorTable {
  std::uint32_t* initial_stack_pointer;
  Handler exceptions[15];
};

}  // namespace

__attribute__((section(".vectors"), used)) const VectorTable vector_table = {
    __stack_top,
    {
        reset_handler,  // Reset
        fault_handler,  // NMI
        fault_handler,  // HardFault
        nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
        fault_handler,  // SVCall
        nullptr, nullptr,
        fault_handler,  // PendSV
        fault_handler,  // SysTick
    },
};

void reset_handler() {
  std::copy(__data_load, __data_load + (__data_end - __data_start), __data_start);
  std::fill(__bss_start, __bss_end, 0u);
  updraft::cortex_m::paint_stack();
  for (void (**init)() = __init_array_start; init != __init_array_end; ++init) (*init)();
  updraft::meter::run_meter();
}

// A fault is a bug: say so and stop (a real meter's handler would reset).
void fault_handler() {
  updraft::cortex_m::semihosting_write("meter: FAIL: fault exception\n");
  updraft::cortex_m::semihosting_exit_status(updraft::meter::kExitFault);
}
