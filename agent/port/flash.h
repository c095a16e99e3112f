// What a device provides for its flash: NOR-like semantics, spelled out because
// the agent's power-cut safety depends on them. Portable.
//
// Erased bytes read as erased_value; erase works on whole sectors; a byte is
// written at most once between erases; offsets and lengths of writes are
// multiples of write_align. A driver returns kFlashOutOfRange, kFlashMisaligned or
// kFlashNotErased when asked to break these rules, and kFlashIo when the part fails.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "core/result.h"

namespace updraft::agent {

struct FlashGeometry {
  std::uint32_t size = 0;
  std::uint32_t sector_size = 0;
  std::uint32_t write_align = 1;
  std::byte erased_value{0xFF};
};

class Flash {
 public:
  virtual FlashGeometry geometry() const = 0;
  virtual Result<void> read(std::uint32_t offset, MutableByteView out) = 0;
  virtual Result<void> write(std::uint32_t offset, ByteView data) = 0;
  // `offset` and `length` are multiples of sector_size.
  virtual Result<void> erase(std::uint32_t offset, std::uint32_t length) = 0;

 protected:
  ~Flash() = default;  // not deleted through this type, so the MCU needs no operator delete
};

}  // namespace updraft::agent
