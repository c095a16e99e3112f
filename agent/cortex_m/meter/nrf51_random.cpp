#include "agent/cortex_m/meter/nrf51_random.h"

#include "agent/cortex_m/meter/nrf51_registers.h"

namespace updraft::meter {
namespace {

constexpr std::uint32_t kRng = 0x4000D000;
constexpr std::uint32_t kTasksStart = 0x000;
constexpr std::uint32_t kTasksStop = 0x004;
constexpr std::uint32_t kEventsValueReady = 0x100;
constexpr std::uint32_t kConfig = 0x504;  // bit 0: bias correction
constexpr std::uint32_t kValue = 0x508;

}  // namespace

std::uint64_t Nrf51Random::next() {
  reg(kRng, kConfig) = 1;
  reg(kRng, kEventsValueReady) = 0;
  reg(kRng, kTasksStart) = 1;
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    while (reg(kRng, kEventsValueReady) == 0) {
    }
    reg(kRng, kEventsValueReady) = 0;
    value = (value << 8) | (reg(kRng, kValue) & 0xFF);
  }
  reg(kRng, kTasksStop) = 1;
  return value;
}

}  // namespace updraft::meter
