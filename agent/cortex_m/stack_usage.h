// Stack high-water mark: paint_stack() fills the unused stack with a pattern, and
// stack_used() finds how deep it has been overwritten since. To measure one call,
// paint, note stack_depth(), make the call, and subtract. The stack is the .stack
// section of mps2_an386.ld.
#pragma once

#include <cstddef>

namespace updraft::cortex_m {

// Fills the stack below the caller's frame with the pattern.
void paint_stack();

// Bytes of stack in use at the call.
std::size_t stack_depth();

// Bytes of stack that have been used since paint_stack(), at most the stack size.
std::size_t stack_used();

// The stack's size, from the linker script.
std::size_t stack_size();

}  // namespace updraft::cortex_m
