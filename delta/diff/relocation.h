// The diff side of relocation prediction (docs/formats/patch.md): the layout map
// from the matches, its relocation block, and the load address of a Cortex-M
// image. The device side, predict(), is in delta/format/reloc.h. Host only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "delta/diff/cover_finder.h"
#include "delta/format/reloc.h"

namespace updraft::delta {

// Where each old region lands, from the covers: one entry per change of shift,
// in old order. Short covers, often chance matches, are left out.
std::vector<RelocEntry> layout_map(const std::vector<Cover>& covers);

// `map` cut to at most `limit` entries: those that cover the fewest old bytes
// go first, their region taken over by the entry before.
std::vector<RelocEntry> limit_map(const std::vector<RelocEntry>& map, std::uint32_t old_size,
                                  std::size_t limit);

// The relocation block that carries `map` in a patch.
std::vector<std::byte> encode_reloc_block(const RelocMap& map);

// Likely load addresses of a Cortex-M image (initial SP in SRAM, odd reset
// vector), best first; empty when the image does not start with a vector table.
std::vector<std::uint32_t> thumb2_base_candidates(ByteView image);

}  // namespace updraft::delta
