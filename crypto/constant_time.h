// Comparison of secrets and digests whose running time does not depend on where
// the inputs differ, so a timing side channel cannot recover an expected value
// byte by byte. Portable, header-only, no RAM beyond a few bytes of stack.
#pragma once

#include <cstddef>

#include "core/bytes.h"

namespace updraft {

// True when `a` and `b` hold the same bytes. Lengths are not secret: a length
// mismatch returns false at once. For equal lengths every byte is read whatever
// the content; unlike memcmp there is no early exit at the first difference.
inline bool constant_time_equal(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  std::byte diff{0};
  for (std::size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i];
  return diff == std::byte{0};
}

}  // namespace updraft
