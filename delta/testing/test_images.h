// Deterministic test images for the delta engine's and the agent's tests: content
// that compresses and diffs like firmware, and the edits a rebuild makes (inserted,
// deleted and moved blocks, scattered byte changes, relocated pointers).
// std::mt19937's raw output is fixed by the standard (its distributions are not),
// so the images are the same on every machine. Host only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace updraft::test_images {

using Bytes = std::vector<std::byte>;

Bytes random_bytes(std::size_t size, std::uint32_t seed);

// Compressible, self-similar content like a real image: code-like words from a
// small opcode set with varying operands, text runs and zero padding.
Bytes firmware_like(std::size_t size, std::uint32_t seed);

// Inserts `count` firmware-like blocks of 1..max_len bytes at random places.
Bytes insert_blocks(Bytes image, int count, std::uint32_t max_len, std::uint32_t seed);

// Deletes `count` blocks of 1..max_len bytes at random places.
Bytes delete_blocks(Bytes image, int count, std::uint32_t max_len, std::uint32_t seed);

// Cuts the image into `pieces` at random points and reassembles them shuffled.
Bytes move_blocks(const Bytes& image, std::size_t pieces, std::uint32_t seed);

// Changes one byte every `min_gap`..`max_gap` bytes, like a rebuild with a new
// version string, build date or constant.
Bytes spread_changes(Bytes image, std::uint32_t min_gap, std::uint32_t max_gap, std::uint32_t seed);

// Adds `delta` to every 4-byte little-endian word in [begin, end): what linking
// code at another address does to a table of pointers.
Bytes relocate_pointers(Bytes image, std::size_t begin, std::size_t end, std::uint32_t delta);

// A Cortex-M image laid out as a linker would: a vector table, then `functions`
// Thumb-2 functions that call one another (BL) and end in a table of pointers to
// them. Each function's code depends only on `seed` and its index, so two images
// that differ in `grow` (bytes added to function `grow_at`) differ as a rebuild
// does: everything after that function moves, and every call and pointer across
// the move changes.
Bytes thumb2_image(std::uint32_t base, std::size_t functions, std::uint32_t seed,
                   std::size_t grow_at = 0, std::uint32_t grow = 0);

}  // namespace updraft::test_images
