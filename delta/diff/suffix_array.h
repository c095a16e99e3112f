// Suffix array of the old image (libdivsufsort) and longest-match search (host).
#pragma once

#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"

namespace updraft::delta {

struct Match {
  std::uint32_t old_pos = 0;
  std::uint32_t length = 0;
};

class SuffixArray {
 public:
  // Builds the array for `text`, which must outlive this object. O(n log n) time,
  // 4n bytes of memory.
  static HostResult<SuffixArray> build(ByteView text);

  SuffixArray() = default;

  // The longest prefix of `pattern` that occurs in the text, and where.
  Match longest_match(ByteView pattern) const;

 private:
  ByteView text_;
  std::vector<std::int32_t> sa_;
};

}  // namespace updraft::delta
