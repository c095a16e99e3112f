// Vector table and reset handler for a Cortex-M4, and the C runtime start that
// newlib's crt0 would do: copy .data from flash, zero .bss, run static
// constructors, run the smoke test, and report its status through semihosting.
// The section symbols come from mps2_an386.ld.
#include <algorithm>
#include <cstdint>

#include "agent/cortex_m/semihosting.h"
#include "agent/cortex_m/smoke_test.h"
#include "agent/cortex_m/systick_counter.h"

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

// The first 16 entries of the Armv7-M vector table. The firmware enables no
// interrupts, so the table ends before the IRQ entries.
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
        fault_handler,  // MemManage
        fault_handler,  // BusFault
        fault_handler,  // UsageFault
        nullptr, nullptr, nullptr, nullptr,
        fault_handler,  // SVCall
        fault_handler,  // DebugMonitor
        nullptr,
        fault_handler,    // PendSV
        systick_handler,  // SysTick
    },
};

void reset_handler() {
  std::copy(__data_load, __data_load + (__data_end - __data_start), __data_start);
  std::fill(__bss_start, __bss_end, 0u);
  for (void (**init)() = __init_array_start; init != __init_array_end; ++init) (*init)();
  updraft::cortex_m::semihosting_exit(updraft::cortex_m::run_smoke_test());
}

// Every fault ends the run: a smoke test that faults has failed.
void fault_handler() {
  updraft::cortex_m::semihosting_write("smoke: FAIL: fault exception\n");
  updraft::cortex_m::semihosting_exit(false);
}
