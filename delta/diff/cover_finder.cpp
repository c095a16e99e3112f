#include "delta/diff/cover_finder.h"

#include <algorithm>

namespace updraft::delta {
namespace {

// Finds, going forward from (new_pos, old_pos) at most `limit` bytes, the length
// where matches minus mismatches peaks: the approximate extent of an alignment.
std::uint32_t extend_forward(ByteView old_image, ByteView new_image, std::uint32_t new_pos,
                             std::uint32_t old_pos, std::uint32_t limit) {
  std::int64_t score = 0, best_score = 0;
  std::uint32_t best_len = 0;
  for (std::uint32_t i = 0; i < limit && old_pos + i < old_image.size(); ++i) {
    score += old_image[old_pos + i] == new_image[new_pos + i] ? 1 : -1;
    if (score > best_score) {
      best_score = score;
      best_len = i + 1;
    }
  }
  return best_len;
}

// The same, going backwards from just before (new_pos, old_pos).
std::uint32_t extend_backward(ByteView old_image, ByteView new_image, std::uint32_t new_pos,
                              std::uint32_t old_pos, std::uint32_t limit) {
  std::int64_t score = 0, best_score = 0;
  std::uint32_t best_len = 0;
  for (std::uint32_t i = 1; i <= limit && i <= old_pos; ++i) {
    score += old_image[old_pos - i] == new_image[new_pos - i] ? 1 : -1;
    if (score > best_score) {
      best_score = score;
      best_len = i;
    }
  }
  return best_len;
}

// Matches at least this long are stepped over by halves rather than byte by byte.
constexpr std::uint32_t kLongMatch = 64;

// With split gaps (below), a stretch between two confirmations of an alignment
// shorter than this is left in the cover as diffs: an op costs a few bytes.
constexpr std::uint32_t kMinSplitGap = 8;
// With split gaps, an alignment is extended at most this far past where it was
// last confirmed, and a match at most this far back: in a rootfs image a long
// stretch without a confirmation is new data (a new file, recompressed blocks),
// and walking it whole again kept it all in memory.
constexpr std::uint32_t kMaxWalk = 1u << 20;

// Which `gram`-byte strings occur in the old image, as a Bloom filter of two
// hashes and about 8 bits per old byte (no false negatives, ~5 % false positives
// on random data; 512 MiB at most). A new
// position whose string is absent has no match long enough to switch to, so its
// suffix-array search, a dozen cache misses on a large image, is skipped. Random
// or compressed stretches (squashfs, new executables) are mostly such positions:
// a 16 MiB random pair took 102 s to diff before, byte by byte through the index.
class GramFilter {
 public:
  GramFilter(ByteView image, std::uint32_t gram) : gram_(gram) {
    if (gram_ == 0 || gram_ > 8 || image.size() < gram_) {
      gram_ = 0;  // every position may match
      return;
    }
    int log_bits = 16;
    while (log_bits < 32 && (std::uint64_t{1} << log_bits) < std::uint64_t{image.size()} * 8)
      ++log_bits;
    shift_ = 64 - log_bits;
    words_.assign((std::size_t{1} << log_bits) / 64, 0);
    const std::uint64_t mask =
        gram_ == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * gram_)) - 1;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < image.size(); ++i) {
      v = ((v << 8) | std::to_integer<std::uint64_t>(image[i])) & mask;
      if (i + 1 >= gram_) {
        const std::uint64_t h = v * 0x9E3779B97F4A7C15ull;
        set(h >> shift_);
        set((h << 24 | h >> 40) >> shift_);
      }
    }
  }

  bool may_occur(ByteView image, std::size_t pos) const {
    if (gram_ == 0 || pos + gram_ > image.size()) return true;
    std::uint64_t v = 0;
    for (std::uint32_t k = 0; k < gram_; ++k)
      v = (v << 8) | std::to_integer<std::uint64_t>(image[pos + k]);
    const std::uint64_t h = v * 0x9E3779B97F4A7C15ull;
    return get(h >> shift_) && get((h << 24 | h >> 40) >> shift_);
  }

 private:
  bool get(std::uint64_t s) const { return (words_[s / 64] >> (s % 64)) & 1; }
  void set(std::uint64_t s) { words_[s / 64] |= std::uint64_t{1} << (s % 64); }

  std::uint32_t gram_;
  int shift_ = 0;
  std::vector<std::uint64_t> words_;
};

// The scan, given an index's longest_match(pattern) and a filter saying which
// new positions may start a match worth a search.
// With `split_gaps`, an alignment is settled at each exact match that continues
// it, so that closing it looks back only to the last one: walking a 200 MiB
// stretch of an unchanged filesystem again at its end cost time, and kept the
// whole stretch of the new image in memory when the diff lets go of what it
// passed.
template <class Index, class MayMatch>
std::vector<Cover> scan_covers(ByteView old_image, ByteView new_image, const Index& index,
                               const MayMatch& may_match, bool split_gaps,
                               const CoverOptions& options) {
  std::vector<Cover> covers;
  const auto new_size = static_cast<std::uint32_t>(new_image.size());
  const auto old_size = static_cast<std::int64_t>(old_image.size());
  auto same_at = [&](std::uint32_t new_pos, std::int64_t offset) {
    const std::int64_t o = new_pos + offset;
    return o >= 0 && o < old_size && old_image[static_cast<std::size_t>(o)] == new_image[new_pos];
  };

  std::uint32_t scan = 0, len = 0;
  Match match;
  // The previous alignment: where the last cover started and its old-minus-new offset.
  std::uint32_t last_scan = 0, last_old = 0;
  std::int64_t last_offset = 0;
  // Where the last exact match that continues the previous alignment ended.
  std::uint32_t confirmed_to = 0;
  const std::uint32_t max_walk = split_gaps ? kMaxWalk : new_size;
  std::uint32_t next_report = 0;
  // Every 64 KiB of the scan: progress, and whether to stop.
  const auto stop = [&] {
    next_report = scan + (1u << 16);
    if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) return true;
    if (options.progress) options.progress(scan);
    return false;
  };
  while (scan < new_size) {
    // Look for an exact match that is clearly better than just continuing the
    // previous alignment (which the diff bytes would cover for free).
    std::uint32_t old_score = 0;
    std::uint32_t scored_to = scan += len;
    while (scan < new_size) {
      if (scan >= next_report && stop()) return covers;
      if (may_match(scan)) {
        match = index.longest_match(new_image.subspan(scan));
        if (options.searches != nullptr) ++*options.searches;
      } else {
        match = Match{};  // nothing of switch_margin + 1 bytes: as good as none
      }
      len = match.length;
      for (; scored_to < scan + len; ++scored_to) {
        if (same_at(scored_to, last_offset)) ++old_score;
      }
      if ((len == old_score && len != 0) || len > old_score + options.switch_margin) break;
      // Not worth a switch: the current alignment already gets all but a few of
      // these `len` bytes. Stepping one byte at a time, as bsdiff does, searches a
      // long run (zeros in a filesystem image) once per byte at the run's length
      // each time: quadratic. A better match that starts inside this one still
      // shows at the half-way point, and extend_backward recovers its start.
      const std::uint32_t step = len >= kLongMatch ? len / 2 : 1;
      // A filtered position scored nothing: only what was scored comes off.
      for (const std::uint32_t to = scan + step; scan < to; ++scan) {
        if (scan < scored_to && same_at(scan, last_offset)) --old_score;
      }
      scored_to = std::max(scored_to, scan);
    }
    if (len == old_score && scan != new_size) {
      // An exact stretch that continues the alignment: what lies between the
      // last confirmation and here is settled now. Where the bytes in between
      // differ more than they agree (a file rewritten in place), the cover
      // stops and starts again after them, which codes them as literals.
      if (split_gaps && scan > confirmed_to + kMinSplitGap) {
        const std::uint32_t old_at = static_cast<std::uint32_t>(confirmed_to + last_offset);
        const std::uint32_t fwd = extend_forward(old_image, new_image, confirmed_to, old_at,
                                                 std::min(scan - confirmed_to, max_walk));
        const std::uint32_t back = extend_backward(old_image, new_image, scan,
                                                   static_cast<std::uint32_t>(scan + last_offset),
                                                   std::min(scan - confirmed_to - fwd, max_walk));
        if (confirmed_to + fwd + kMinSplitGap <= scan - back) {
          if (confirmed_to + fwd > last_scan) {
            covers.push_back({last_scan, last_old, confirmed_to + fwd - last_scan});
          }
          last_scan = scan - back;
          last_old = static_cast<std::uint32_t>(last_scan + last_offset);
        }
      }
      confirmed_to = scan + len;
      continue;
    }

    // Close the previous alignment: its forward extent, the new match's backward
    // extent, and where they meet if they overlap. Both look no further back
    // than what is settled.
    const std::uint32_t from = split_gaps ? confirmed_to : last_scan;
    std::uint32_t len_forward =
        (from - last_scan) + extend_forward(old_image, new_image, from,
                                            last_old + (from - last_scan),
                                            std::min(scan - from, max_walk));
    std::uint32_t len_back = 0;
    if (scan < new_size) {
      len_back = extend_backward(old_image, new_image, scan, match.old_pos,
                                 std::min(scan - from, max_walk));
    }
    if (last_scan + len_forward > scan - len_back) {
      const std::uint32_t overlap = (last_scan + len_forward) - (scan - len_back);
      std::int64_t s = 0, best = 0;
      std::uint32_t keep = 0;
      for (std::uint32_t i = 0; i < overlap; ++i) {
        const std::uint32_t fwd = last_scan + len_forward - overlap + i;
        if (old_image[last_old + len_forward - overlap + i] == new_image[fwd]) ++s;
        const std::uint32_t back = scan - len_back + i;
        if (old_image[match.old_pos - len_back + i] == new_image[back]) --s;
        if (s > best) {
          best = s;
          keep = i + 1;
        }
      }
      len_forward = len_forward + keep - overlap;
      len_back -= keep;
    }
    if (len_forward > 0) covers.push_back({last_scan, last_old, len_forward});
    last_scan = scan - len_back;
    last_old = match.old_pos - len_back;
    confirmed_to = std::min(scan + len, new_size);  // the match itself is exact
    last_offset = std::int64_t{match.old_pos} - scan;
  }
  return covers;
}

}  // namespace

std::vector<Cover> find_covers(ByteView old_image, ByteView new_image, const SuffixArray& index,
                               const CoverOptions& options) {
  // Shorter matches never win a switch, so positions without one are not searched.
  // Alignments are closed by walking them whole: settling them at each
  // confirmation made firmware patches larger (0.0737 against 0.0624 of the new
  // image on public-arm at linux), where relocated pointers keep confirmations apart.
  const GramFilter filter(old_image, options.switch_margin + 1);
  return scan_covers(
      old_image, new_image, index,
      [&](std::uint32_t pos) { return filter.may_occur(new_image, pos); }, false, options);
}

std::vector<Cover> find_covers(ByteView old_image, ByteView new_image, const AnchorIndex& index,
                               const CoverOptions& options) {
  // A position that is no anchor costs one hash to turn down: no filter needed.
  return scan_covers(
      old_image, new_image, index, [](std::uint32_t) { return true; }, true, options);
}

}  // namespace updraft::delta
