// Finds covers: regions of the new image that approximately equal a region of
// the old one (bsdiff-class matching over a suffix array). Host only.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/bytes.h"
#include "delta/diff/anchor_index.h"
#include "delta/diff/suffix_array.h"

namespace updraft::delta {

// new[new_pos, new_pos + length) is coded as old[old_pos, ...) plus diff bytes.
struct Cover {
  std::uint32_t new_pos = 0;
  std::uint32_t old_pos = 0;
  std::uint32_t length = 0;
};

struct CoverOptions {
  // A new exact match must beat the current alignment by this many bytes before
  // the finder switches to it; lower finds more covers, each costing an op header.
  std::uint32_t switch_margin = 6;
  // Called with the new-image position as the scan advances.
  std::function<void(std::uint32_t)> progress;
  // When set, counts suffix-array searches: the tests hold the scan to a number
  // that grows with the image, not with the square of its longest run.
  std::uint64_t* searches = nullptr;
  // When set and it turns true, the scan stops where it is (covers so far).
  const std::atomic<bool>* cancel = nullptr;
};

// Covers sorted by new_pos, non-overlapping in the new image.
std::vector<Cover> find_covers(ByteView old_image, ByteView new_image, const SuffixArray& index,
                               const CoverOptions& options);
// The same over a sparse index (rootfs-sized images): it finds only matches that
// hold one of the index's anchors, at a fraction of the memory and time.
std::vector<Cover> find_covers(ByteView old_image, ByteView new_image, const AnchorIndex& index,
                               const CoverOptions& options);

}  // namespace updraft::delta
