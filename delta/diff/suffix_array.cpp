#include "delta/diff/suffix_array.h"

#include <divsufsort.h>

#include <algorithm>
#include <cstring>

namespace updraft::delta {
namespace {

std::uint32_t common_prefix(ByteView a, ByteView b) {
  const std::size_t n = std::min(a.size(), b.size());
  const auto diverge =
      std::mismatch(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n), b.begin());
  return static_cast<std::uint32_t>(diverge.first - a.begin());
}

}  // namespace

HostResult<SuffixArray> SuffixArray::build(ByteView text) {
  SuffixArray result;
  result.text_ = text;
  result.sa_.resize(text.size());
  if (!text.empty() && divsufsort(reinterpret_cast<const sauchar_t*>(text.data()),
                                  result.sa_.data(), static_cast<saidx_t>(text.size())) != 0) {
    return Error(ErrorCode::kInternal, "divsufsort failed");
  }
  return result;
}

namespace {

// Lexicographic order of `a` and `b` (a proper prefix first), compared a block at
// a time. One memcmp over a whole suffix is what AddressSanitizer checks whole
// (strict_memcmp) before it compares: that made a scan of a large image
// quadratic under ASan, and a server's build deaf to its cancel.
int compare_bytes(ByteView a, ByteView b) {
  constexpr std::size_t kBlock = 4096;
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t at = 0; at < n; at += kBlock) {
    const int c = std::memcmp(a.data() + at, b.data() + at, std::min(kBlock, n - at));
    if (c != 0) return c;
  }
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

}  // namespace

Match SuffixArray::longest_match(ByteView pattern) const {
  if (sa_.empty() || pattern.empty()) return {};
  // Binary search narrows [lo, hi] to the two suffixes around where `pattern`
  // would sort; the longest common prefix is with one of them.
  std::size_t lo = 0, hi = sa_.size() - 1;
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const ByteView suffix = text_.subspan(static_cast<std::size_t>(sa_[mid]));
    // Whole ranges: a suffix that is a proper prefix of `pattern` (one that runs
    // into the end of the text) sorts before it. Comparing only the common length
    // called them equal and sent the search the wrong way, so a pattern in a run
    // of zeros near the end matched 2 bytes instead of all of them.
    const bool less = compare_bytes(suffix, pattern) < 0;
    if (less) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  const auto lo_pos = static_cast<std::uint32_t>(sa_[lo]);
  const auto hi_pos = static_cast<std::uint32_t>(sa_[hi]);
  const std::uint32_t lo_len = common_prefix(text_.subspan(lo_pos), pattern);
  const std::uint32_t hi_len = common_prefix(text_.subspan(hi_pos), pattern);
  return lo_len >= hi_len ? Match{lo_pos, lo_len} : Match{hi_pos, hi_len};
}

}  // namespace updraft::delta
