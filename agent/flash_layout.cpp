#include "agent/flash_layout.h"

namespace updraft::agent {

Result<FlashLayout> plan_layout(const FlashGeometry& g, std::uint32_t image_capacity,
                                std::uint32_t staging_capacity) {
  if (g.sector_size == 0 || g.write_align == 0 || g.sector_size % kRecordSlotSize != 0 ||
      kRecordSlotSize % g.write_align != 0 || image_capacity == 0) {
    return ErrorCode::kFlashLayoutInvalid;
  }
  FlashLayout layout;
  const auto whole_sectors = [&](std::uint32_t bytes) {
    return (std::uint64_t{bytes} + g.sector_size - 1) / g.sector_size * g.sector_size;
  };
  const std::uint64_t slot = whole_sectors(image_capacity);
  const std::uint64_t staging = whole_sectors(staging_capacity);
  const std::uint64_t end = 2 * slot + staging + 4 * std::uint64_t{g.sector_size};
  if (end > g.size) return ErrorCode::kFlashLayoutInvalid;
  layout.slot_size = static_cast<std::uint32_t>(slot);
  layout.slot_offset[0] = 0;
  layout.slot_offset[1] = layout.slot_size;
  layout.staging_offset = 2 * layout.slot_size;
  layout.staging_size = static_cast<std::uint32_t>(staging);
  layout.boot_state_offset = layout.staging_offset + layout.staging_size;
  layout.journal_offset = layout.boot_state_offset + 2 * g.sector_size;
  layout.end = static_cast<std::uint32_t>(end);
  return layout;
}

}  // namespace updraft::agent
