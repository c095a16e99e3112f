#include "agent/cortex_m/meter/nrf51_timer.h"

#include "agent/cortex_m/meter/nrf51_registers.h"

namespace updraft::meter {
namespace {

constexpr std::uint32_t kTimer0 = 0x40008000;
constexpr std::uint32_t kTasksStart = 0x000;
constexpr std::uint32_t kTasksClear = 0x00C;
constexpr std::uint32_t kTasksCapture0 = 0x040;
constexpr std::uint32_t kMode = 0x504;
constexpr std::uint32_t kBitMode = 0x508;
constexpr std::uint32_t kPrescaler = 0x510;
constexpr std::uint32_t kCc0 = 0x540;

}  // namespace

void Nrf51Timer::start() {
  reg(kTimer0, kMode) = 0;       // timer, not counter
  reg(kTimer0, kBitMode) = 3;    // 32 bits
  reg(kTimer0, kPrescaler) = 4;  // 16 MHz / 2^4 = 1 MHz
  reg(kTimer0, kTasksClear) = 1;
  reg(kTimer0, kTasksStart) = 1;
}

std::uint32_t Nrf51Timer::microseconds() {
  reg(kTimer0, kTasksCapture0) = 1;
  return reg(kTimer0, kCc0);
}

}  // namespace updraft::meter
