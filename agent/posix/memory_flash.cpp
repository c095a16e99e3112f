#include "agent/posix/memory_flash.h"

#include <algorithm>
#include <cstring>

#include "agent/posix/nor_rules.h"

namespace updraft::agent {

MemoryFlash::MemoryFlash(FlashGeometry geometry)
    : geometry_(geometry), bytes_(geometry.size, geometry.erased_value) {}

Result<void> MemoryFlash::read(std::uint32_t offset, MutableByteView out) {
  UPDRAFT_TRY(check_read(geometry_, offset, out.size()));
  std::memcpy(out.data(), bytes_.data() + offset, out.size());
  return {};
}

Result<void> MemoryFlash::write(std::uint32_t offset, ByteView data) {
  UPDRAFT_TRY(check_write(geometry_, offset, data.size()));
  UPDRAFT_TRY(check_erased(geometry_, ByteView(bytes_.data() + offset, data.size())));
  std::memcpy(bytes_.data() + offset, data.data(), data.size());
  return {};
}

Result<void> MemoryFlash::erase(std::uint32_t offset, std::uint32_t length) {
  UPDRAFT_TRY(check_erase(geometry_, offset, length));
  std::fill_n(bytes_.begin() + offset, length, geometry_.erased_value);
  return {};
}

}  // namespace updraft::agent
