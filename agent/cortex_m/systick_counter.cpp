#include "agent/cortex_m/systick_counter.h"

namespace updraft::cortex_m {
namespace {

struct SysTickRegisters {
  volatile std::uint32_t csr;  // control and status
  volatile std::uint32_t rvr;  // reload value
  volatile std::uint32_t cvr;  // current value, counts down
};
SysTickRegisters& systick() { return *reinterpret_cast<SysTickRegisters*>(0xE000E010u); }

constexpr std::uint32_t kEnable = 1u << 0;
constexpr std::uint32_t kTickInterrupt = 1u << 1;
constexpr std::uint32_t kCoreClock = 1u << 2;
constexpr std::uint32_t kReload = 0x00FFFFFFu;  // the full 24 bits: one wrap per 2^24 ticks

volatile std::uint32_t wraps = 0;

}  // namespace

void SysTickCounter::start() {
  systick().csr = 0;
  wraps = 0;
  systick().rvr = kReload;
  systick().cvr = 0;  // any write clears it; the count starts at kReload
  systick().csr = kEnable | kTickInterrupt | kCoreClock;
}

std::uint64_t SysTickCounter::ticks() {
  // Read the wrap count on both sides of the counter, so a wrap between the two
  // reads cannot pair an old count with a new counter value.
  std::uint32_t before = 0, count = 0;
  do {
    before = wraps;
    count = systick().cvr;
  } while (before != wraps);
  return (std::uint64_t{before} << 24) + (kReload - count);
}

}  // namespace updraft::cortex_m

extern "C" void systick_handler() { updraft::cortex_m::wraps = updraft::cortex_m::wraps + 1; }
