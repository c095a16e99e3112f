#include "agent/cortex_m/semihosting.h"

namespace updraft::cortex_m {
namespace {

constexpr std::uint32_t kSysOpen = 0x01;
constexpr std::uint32_t kSysClose = 0x02;
constexpr std::uint32_t kSysWrite0 = 0x04;
constexpr std::uint32_t kSysWrite = 0x05;
constexpr std::uint32_t kSysRead = 0x06;
constexpr std::uint32_t kSysSeek = 0x0A;
constexpr std::uint32_t kSysFlen = 0x0C;
constexpr std::uint32_t kSysTime = 0x11;
constexpr std::uint32_t kSysExit = 0x18;
constexpr std::uint32_t kSysExitExtended = 0x20;
// Reasons for SYS_EXIT: QEMU maps ApplicationExit to status 0, anything else to 1.
constexpr std::uint32_t kAdpStoppedApplicationExit = 0x20026;
constexpr std::uint32_t kAdpStoppedRunTimeError = 0x20023;

std::uint32_t semihosting_call(std::uint32_t operation, const void* argument) {
  register std::uint32_t r0 asm("r0") = operation;
  register const void* r1 asm("r1") = argument;
  asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

}  // namespace

void semihosting_write(const char* text) { semihosting_call(kSysWrite0, text); }

void semihosting_exit(bool success) {
  // On AArch32 SYS_EXIT takes the reason itself in r1, not a pointer to it.
  const std::uintptr_t reason = success ? kAdpStoppedApplicationExit : kAdpStoppedRunTimeError;
  semihosting_call(kSysExit, reinterpret_cast<const void*>(reason));
  while (true) {
  }
}

void semihosting_exit_status(std::uint32_t status) {
  // A parameter block: the reason, then the status QEMU exits with.
  const std::uint32_t block[2] = {kAdpStoppedApplicationExit, status};
  semihosting_call(kSysExitExtended, block);
  while (true) {
  }
}

std::uint32_t semihosting_time() { return semihosting_call(kSysTime, nullptr); }

int semihosting_open(const char* path, FileMode mode) {
  std::size_t length = 0;
  while (path[length] != '\0') ++length;
  const std::uintptr_t block[3] = {reinterpret_cast<std::uintptr_t>(path),
                                   static_cast<std::uintptr_t>(mode), length};
  return static_cast<int>(semihosting_call(kSysOpen, block));
}

void semihosting_close(int handle) {
  const std::uintptr_t block[1] = {static_cast<std::uintptr_t>(handle)};
  semihosting_call(kSysClose, block);
}

// SYS_READ and SYS_WRITE answer the number of bytes they did not transfer.
bool semihosting_read(int handle, MutableByteView out) {
  const std::uintptr_t block[3] = {static_cast<std::uintptr_t>(handle),
                                   reinterpret_cast<std::uintptr_t>(out.data()), out.size()};
  return semihosting_call(kSysRead, block) == 0;
}

bool semihosting_write(int handle, ByteView data) {
  const std::uintptr_t block[3] = {static_cast<std::uintptr_t>(handle),
                                   reinterpret_cast<std::uintptr_t>(data.data()), data.size()};
  return semihosting_call(kSysWrite, block) == 0;
}

bool semihosting_seek(int handle, std::uint32_t offset) {
  const std::uintptr_t block[2] = {static_cast<std::uintptr_t>(handle), offset};
  return semihosting_call(kSysSeek, block) == 0;
}

std::int32_t semihosting_file_length(int handle) {
  const std::uintptr_t block[1] = {static_cast<std::uintptr_t>(handle)};
  return static_cast<std::int32_t>(semihosting_call(kSysFlen, block));
}

void Line::put(char c) {
  if (length_ + 2 < sizeof(buffer_)) buffer_[length_++] = c;  // room for "\n\0"
}

Line& Line::operator<<(std::string_view text) {
  for (char c : text) put(c);
  return *this;
}

Line& Line::operator<<(std::uint64_t value) {
  char digits[20];
  std::size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) put(digits[--n]);
  return *this;
}

Line& Line::hex(ByteView bytes) {
  constexpr char kDigits[] = "0123456789abcdef";
  for (std::byte b : bytes) {
    put(kDigits[std::to_integer<unsigned>(b) >> 4]);
    put(kDigits[std::to_integer<unsigned>(b) & 0xF]);
  }
  return *this;
}

void Line::print() {
  buffer_[length_++] = '\n';
  buffer_[length_] = '\0';
  semihosting_write(buffer_);
  length_ = 0;
}

}  // namespace updraft::cortex_m
