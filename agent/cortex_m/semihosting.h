// Text output and exit through Arm semihosting (bkpt 0xAB), which QEMU provides
// with -semihosting-config enable=on. Without QEMU or a debugger attached the
// breakpoint faults, so this is for the smoke firmware only.
//
// No printf: newlib's printf pulls in malloc. Line formats text and numbers into
// a fixed buffer on the stack instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/bytes.h"

namespace updraft::cortex_m {

// Writes a NUL-terminated string to the host's stdout (SYS_WRITE0).
void semihosting_write(const char* text);

// Ends the emulation (SYS_EXIT): QEMU exits with status 0 on success, 1 otherwise.
[[noreturn]] void semihosting_exit(bool success);

// One line of output, built in a fixed buffer; text past its capacity is dropped.
class Line {
 public:
  Line& operator<<(std::string_view text);
  Line& operator<<(std::uint64_t value);  // decimal
  Line& hex(ByteView bytes);              // lower-case hex, two digits a byte
  // Writes the line and a newline, then starts an empty line.
  void print();

 private:
  void put(char c);

  char buffer_[160];
  std::size_t length_ = 0;
};

}  // namespace updraft::cortex_m
