// Relocation prediction (format 2): when code moves between two releases, every
// call (Thumb-2 BL, B.W) and every absolute pointer into moved code changes, and
// those changed bytes are a large part of a patch. The diff side sends a layout map
// (where each region of the old image lands in the new one); both sides then read
// the old image through predict(), which rewrites each call and pointer in it as it
// would read after the move. Diff bytes are taken against the predicted bytes, so
// a correctly predicted call costs a zero diff. See docs/formats/patch.md.
//
// Portable: no heap. The map lives in the caller's storage (8 bytes per entry).
#pragma once

#include <cstddef>
#include <cstdint>

namespace updraft::delta {

enum class Arch : std::uint8_t { kNone = 0, kThumb2 = 1 };

// One step of the layout map: old offsets from old_start up to the next entry's
// old_start move by `shift` bytes in the new image.
struct RelocEntry {
  std::uint32_t old_start = 0;
  std::int32_t shift = 0;
};

struct RelocMap {
  Arch arch;
  std::uint32_t base;  // the old image's load address (for absolute pointers)
  std::uint32_t old_size;
  const RelocEntry* entries;  // sorted by old_start, strictly increasing
  std::uint32_t count;

  // How far the old byte at `offset` moves; 0 before the first entry.
  std::int32_t shift_at(std::uint32_t offset) const;
};

// Bytes of old image predict() needs on each side of the range it predicts.
inline constexpr std::uint32_t kRelocMargin = 8;

// Writes to out[0, len) the predicted old bytes at offsets [pos, pos + len).
// `window` holds the old image's bytes from offset `window_pos` on and must cover
// [pos - kRelocMargin, pos + len + kRelocMargin) clipped to [0, old_size): it is
// read there unchecked. The result depends only on the old image and the map,
// never on the window, so the encoder (whole image) and the patcher (a small
// window) agree byte for byte. Any map is safe; a wrong one predicts badly.
void predict(const RelocMap& map, const std::uint8_t* window, std::uint32_t window_pos,
             std::uint32_t pos, std::uint32_t len, std::uint8_t* out);

// Whether a Thumb-2 branch starts at offset `p` of `image` by predict()'s rule;
// if so, *target is where it goes, relative to the image start (for the diff side).
bool thumb2_branch_at(const std::uint8_t* image, std::uint32_t size, std::uint32_t p,
                      std::int64_t* target);

}  // namespace updraft::delta
