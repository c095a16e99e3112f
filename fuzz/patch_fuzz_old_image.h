// The fixed old image every patch_fuzz input is applied to. The seed corpus in
// corpus/patch_fuzz/ was made against it (make_patch_fuzz_seeds.cpp): change it
// and every seed stops at kPatchWrongBase, so regenerate the seeds with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/codec.h"

namespace updraft::delta {

// 4 KiB, deterministic: load-like words with small offsets (so edits leave
// matches for the diff engine to find) between noise words.
inline const std::vector<std::byte>& patch_fuzz_old_image() {
  static const std::vector<std::byte> image = [] {
    std::vector<std::byte> bytes(4096);
    std::uint32_t x = 0x12345678u;
    for (std::size_t i = 0; i < bytes.size(); i += 4) {
      x = x * 1664525u + 1013904223u;
      store_le32(bytes.data() + i, (x >> 28) < 10 ? 0xE5900000u | ((x >> 8) & 0xFFFu) : x);
    }
    return bytes;
  }();
  return image;
}

}  // namespace updraft::delta
