// A sparse hash index of the old image, for rootfs-sized pairs (host).
//
// A suffix array costs 4 bytes per old byte and its sort dominates the memory
// of a large diff (1 GiB of array for a 256 MiB image). This index keeps only
// "anchors": positions whose next kWindow bytes hash to a value with a few zero
// bits, chosen by content, so the same content in the new image is an anchor
// too and finds its old copy with one probe. About one position in `spacing()`
// is kept (16, or more past 128 MiB so that there are at most 8 M), at 6 bytes
// of table each: 48 MiB at most. A match with no anchor
// inside it (shorter than a few spacings) is not found; in a filesystem image
// changes come in whole blocks and files, so little is lost.
//
// Runs of one byte value (zeroed blocks) hash alike at every position; they are
// kept apart: the index remembers the longest old run of each byte value.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "delta/diff/suffix_array.h"

namespace updraft::delta {

class AnchorIndex {
 public:
  static constexpr std::uint32_t kWindow = 16;

  // Indexes `text`, which must outlive this object. Linear time; stops early
  // (an index that finds less) once `cancel` turns true.
  static AnchorIndex build(ByteView text, const std::atomic<bool>* cancel = nullptr);

  AnchorIndex() = default;

  // The longest prefix of `pattern` (up to 1 MiB) found at an old copy of its
  // first kWindow bytes, if `pattern` starts at an anchor or a run; a
  // zero-length match if not.
  Match longest_match(ByteView pattern) const;

  // One kept position per this many old bytes, on average.
  std::uint32_t spacing() const { return spacing_; }
  std::size_t memory_bytes() const { return slots_.size() * sizeof(std::uint32_t); }

 private:
  struct Run {
    std::uint32_t start = 0;
    std::uint32_t length = 0;
  };

  std::uint64_t hash_at(const std::byte* window) const;
  bool is_anchor(std::uint64_t hash) const { return (hash >> 40 & (spacing_ - 1)) == 0; }
  std::size_t slot_of(std::uint64_t hash) const;
  void insert(std::uint32_t pos, std::uint64_t hash);

  ByteView text_;
  std::uint32_t spacing_ = 16;
  std::vector<std::uint32_t> slots_;  // old position + 1; 0 is an empty slot
  std::array<Run, 256> runs_{};       // the longest run of each byte value
};

}  // namespace updraft::delta
