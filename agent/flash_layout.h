// Where a device keeps what on its flash (portable):
//   [slot A][slot B][staging, optional][boot state: 2 sectors][download journal: 2 sectors]
// Slots are whole sectors. The boot state and the journal are RecordStores. The
// staging area holds a patch downloaded block by block before it is applied
// (agent/agent.h); without one, patches stream straight into the patcher.
#pragma once

#include <cstdint>

#include "agent/port/flash.h"
#include "core/result.h"

namespace updraft::agent {

inline constexpr std::uint32_t kRecordSlotSize = 256;

struct FlashLayout {
  std::uint32_t slot_offset[2] = {0, 0};
  std::uint32_t slot_size = 0;
  std::uint32_t staging_offset = 0;
  std::uint32_t staging_size = 0;  // 0: no staging area
  std::uint32_t boot_state_offset = 0;
  std::uint32_t journal_offset = 0;
  std::uint32_t end = 0;  // first byte after the layout
};

// Fits two slots of at least `image_capacity` bytes, a staging area of at least
// `staging_capacity` bytes (0: none) and the record areas into `geometry`;
// kFlashLayoutInvalid if they do not fit or the geometry is unusable.
Result<FlashLayout> plan_layout(const FlashGeometry& geometry, std::uint32_t image_capacity,
                                std::uint32_t staging_capacity = 0);

}  // namespace updraft::agent
