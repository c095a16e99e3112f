// Text output, exit, host files and the host's clock through Arm semihosting
// (bkpt 0xAB), which QEMU provides with -semihosting-config enable=on. Without QEMU
// or a debugger attached the breakpoint faults, so this is for emulated firmware
// only: the smoke firmware and the meter (meter/), whose flash is a host file.
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

// Ends the emulation with `status` as QEMU's exit status (SYS_EXIT_EXTENDED), so a
// harness can tell outcomes apart (the meter's reboot request, say).
[[noreturn]] void semihosting_exit_status(std::uint32_t status);

// Seconds since the Unix epoch, from the host's clock (SYS_TIME).
std::uint32_t semihosting_time();

// Host files (SYS_OPEN and friends), relative to QEMU's working directory.
enum class FileMode : std::uint32_t {
  kRead = 1,       // "rb": must exist
  kReadWrite = 3,  // "r+b": must exist, keeps its contents
};
// A handle, or -1 when the host cannot open the file.
int semihosting_open(const char* path, FileMode mode);
void semihosting_close(int handle);
// Reads exactly out.size() bytes at the file position; false on a short read.
bool semihosting_read(int handle, MutableByteView out);
// Writes all of `data` at the file position; false on a short write.
bool semihosting_write(int handle, ByteView data);
// Moves the file position to `offset` from the start; false if the host refuses.
bool semihosting_seek(int handle, std::uint32_t offset);
// The file's length in bytes, or -1.
std::int32_t semihosting_file_length(int handle);

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
