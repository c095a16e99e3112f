#include "agent/cortex_m/stack_usage.h"

#include <cstdint>

extern "C" std::uint32_t __stack_bottom[], __stack_top[];

namespace updraft::cortex_m {
namespace {

constexpr std::uint32_t kPattern = 0x5AC3A55Cu;
// Leave the painter's own frame alone: it sits just below the stack pointer.
constexpr std::size_t kPainterFrameWords = 16;

std::uint32_t* stack_pointer() {
  std::uint32_t* sp = nullptr;
  asm volatile("mov %0, sp" : "=r"(sp));
  return sp;
}

}  // namespace

void paint_stack() {
  std::uint32_t* const sp = stack_pointer();
  for (volatile std::uint32_t* p = __stack_bottom; p < sp - kPainterFrameWords; ++p) *p = kPattern;
}

std::size_t stack_depth() {
  return static_cast<std::size_t>(__stack_top - stack_pointer()) * sizeof(std::uint32_t);
}

std::size_t stack_used() {
  const std::uint32_t* p = __stack_bottom;
  while (p < __stack_top && *p == kPattern) ++p;
  return static_cast<std::size_t>(__stack_top - p) * sizeof(std::uint32_t);
}

std::size_t stack_size() {
  return static_cast<std::size_t>(__stack_top - __stack_bottom) * sizeof(std::uint32_t);
}

}  // namespace updraft::cortex_m
