// The layout block of a segmented patch (format 2): where the old image's and the
// new image's bytes live in the device's address space, for firmware whose flash
// is not one contiguous range (a vector table, .text and .rodata in different
// regions, as an Intel HEX or ELF file describes it). See docs/formats/patch.md.
//
// A segmented patch is this block followed by an ordinary patch whose old and
// new images are the segments' bytes laid end to end, in address order. The
// patcher itself never sees addresses: the caller reads the old image and writes
// the new one through the tables.
//
// Block (little-endian): magic "UPDL" (4) | version 1 (1) | reserved 0 (1)
//   | old_count (1) | new_count (1) | old_count + new_count x {address (4) | size (4)}
//   | crc32 of everything before it (4)
//
// Portable: no heap; decode fills caller storage (8 bytes per segment).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/bytes.h"
#include "core/result.h"

namespace updraft::delta {

inline constexpr std::array<std::byte, 4> kLayoutMagic = {std::byte{'U'}, std::byte{'P'},
                                                          std::byte{'D'}, std::byte{'L'}};
inline constexpr std::uint8_t kLayoutVersion = 1;
inline constexpr std::size_t kLayoutHeadSize = 8;
inline constexpr std::size_t kLayoutEntrySize = 8;
// Enough for any real flash layout; keeps the block (and a device's copy) small.
inline constexpr std::size_t kMaxLayoutSegments = 64;

// One load segment: `size` bytes at `address`.
struct SegmentSpan {
  std::uint32_t address = 0;
  std::uint32_t size = 0;

  friend bool operator==(const SegmentSpan&, const SegmentSpan&) = default;
};

struct LayoutCounts {
  std::uint8_t old_count = 0;
  std::uint8_t new_count = 0;
  std::size_t block_size() const {
    return kLayoutHeadSize + kLayoutEntrySize * (std::size_t{old_count} + new_count) + 4;
  }
};

// True when `bytes` starts with the layout magic (a segmented patch).
bool is_layout_block(ByteView bytes);

// Bytes encode_layout() writes for these tables.
std::size_t layout_block_size(std::size_t old_count, std::size_t new_count);

// Checks that a table is usable: at most kMaxLayoutSegments segments, none empty,
// ascending and non-overlapping, inside 32-bit addresses, total <= kMaxImageSize.
// kPatchCorrupt otherwise.
Result<void> check_segments(std::span<const SegmentSpan> segments);

// Writes layout_block_size() bytes into `out` (which must hold them); kInvalidArgument
// when a table fails check_segments() or `out` is short.
Result<std::size_t> encode_layout(std::span<const SegmentSpan> old_segments,
                                  std::span<const SegmentSpan> new_segments, MutableByteView out);

// Parses a block from the front of `bytes`: kPatchBadMagic, kPatchUnsupportedVersion,
// kPatchTruncated (fewer bytes than the block), kPatchCorrupt (CRC or a table that
// fails check_segments()). Fills old_out[0, old_count) and new_out[0, new_count);
// kPatchCorrupt when either is too small to hold its table.
Result<LayoutCounts> decode_layout(ByteView bytes, std::span<SegmentSpan> old_out,
                                   std::span<SegmentSpan> new_out);

// Sum of the segments' sizes (the linear image's size).
std::uint64_t total_size(std::span<const SegmentSpan> segments);

}  // namespace updraft::delta
