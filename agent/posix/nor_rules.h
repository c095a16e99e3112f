// The rules a NOR flash driver enforces, shared by the host flash simulations so
// they forgive exactly as little as hardware does.
#pragma once

#include <cstdint>

#include "agent/port/flash.h"

namespace updraft::agent {

inline Result<void> check_read(const FlashGeometry& g, std::uint32_t offset, std::size_t length) {
  if (offset > g.size || length > g.size - offset) return ErrorCode::kFlashOutOfRange;
  return {};
}

inline Result<void> check_write(const FlashGeometry& g, std::uint32_t offset, std::size_t length) {
  UPDRAFT_TRY(check_read(g, offset, length));
  if (offset % g.write_align != 0 || length % g.write_align != 0)
    return ErrorCode::kFlashMisaligned;
  return {};
}

inline Result<void> check_erase(const FlashGeometry& g, std::uint32_t offset,
                                std::uint32_t length) {
  UPDRAFT_TRY(check_read(g, offset, length));
  if (offset % g.sector_size != 0 || length % g.sector_size != 0)
    return ErrorCode::kFlashMisaligned;
  return {};
}

// Only erased bytes may be programmed.
inline Result<void> check_erased(const FlashGeometry& g, ByteView current) {
  for (std::byte b : current) {
    if (b != g.erased_value) return ErrorCode::kFlashNotErased;
  }
  return {};
}

}  // namespace updraft::agent
