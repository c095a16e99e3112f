#include "delta/format/reloc.h"

#include <cstring>

namespace updraft::delta {

std::int32_t RelocMap::shift_at(std::uint32_t offset) const {
  std::uint32_t lo = 0, hi = count;
  while (lo < hi) {
    const std::uint32_t mid = lo + (hi - lo) / 2;
    if (entries[mid].old_start <= offset) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo == 0 ? 0 : entries[lo - 1].shift;
}

namespace {

// The old image as predict() sees it, through the caller's window; offsets are
// image offsets. predict() reads at most 5 bytes before and 3 after the range it
// predicts, and only inside the image, so a window with kRelocMargin suffices.
class OldView {
 public:
  OldView(const std::uint8_t* window, std::uint32_t window_pos, std::uint32_t size)
      : window_(window), pos_(window_pos), size_(size) {}

  bool inside(std::uint32_t offset, std::uint32_t n) const {
    return offset <= size_ && n <= size_ - offset;
  }
  std::uint8_t byte(std::uint32_t offset) const { return window_[offset - pos_]; }
  std::uint32_t half(std::uint32_t offset) const {
    return byte(offset) | (std::uint32_t{byte(offset + 1)} << 8);
  }
  std::uint32_t word(std::uint32_t offset) const { return half(offset) | (half(offset + 2) << 16); }

 private:
  const std::uint8_t* window_;
  std::uint32_t pos_, size_;
};

// An aligned word whose value points into the old image.
bool is_pointer(const RelocMap& map, const OldView& old, std::uint32_t q) {
  return q % 4 == 0 && old.inside(q, 4) && old.word(q) - map.base < map.old_size;
}

std::uint32_t relocated_pointer(const RelocMap& map, std::uint32_t value) {
  const std::uint32_t target = (value - map.base) & ~1u;  // Thumb bit off
  return value + static_cast<std::uint32_t>(map.shift_at(target));
}

// A 32-bit Thumb-2 BL or B.W (encoding T4): 11110 S imm10 | 1 x J1 1 J2 imm11.
// Where it starts is decided from a few bytes around it, so that any window
// decides the same: a match right after a first half is that branch's second
// half. (A first half always passes the second-half test, hence only h0's.)
bool is_branch(const OldView& old, std::uint32_t p) {
  const auto first_half = [](std::uint32_t h) { return (h & 0xF800u) == 0xF000u; };
  return p % 2 == 0 && old.inside(p, 4) && first_half(old.half(p)) &&
         (old.half(p + 2) & 0x9000u) == 0x9000u && !(p >= 2 && first_half(old.half(p - 2)));
}

std::int32_t branch_offset(std::uint32_t hw1, std::uint32_t hw2) {
  const std::uint32_t s = (hw1 >> 10) & 1u;
  const std::uint32_t i1 = ~((hw2 >> 13) ^ s) & 1u;
  const std::uint32_t i2 = ~((hw2 >> 11) ^ s) & 1u;
  const std::uint32_t imm =
      (s << 24) | (i1 << 23) | (i2 << 22) | ((hw1 & 0x3FFu) << 12) | ((hw2 & 0x7FFu) << 1);
  return static_cast<std::int32_t>(imm << 7) >> 7;  // sign-extend 25 bits
}

// The branch at p as it would read after the move, or false to leave it as it is.
// Unsigned arithmetic: any map, however wrong, is well defined.
bool relocated_branch(const RelocMap& map, const OldView& old, std::uint32_t p, std::uint32_t* hw1,
                      std::uint32_t* hw2) {
  *hw1 = old.half(p);
  *hw2 = old.half(p + 2);
  const std::int32_t offset = branch_offset(*hw1, *hw2);
  // A target outside the image (ROM, another firmware part) stays where it is;
  // one before the image start wraps to a large offset and counts as outside.
  const std::uint32_t target = p + 4 + static_cast<std::uint32_t>(offset);
  const std::uint32_t target_shift =
      target < map.old_size ? static_cast<std::uint32_t>(map.shift_at(target)) : 0;
  const auto moved = static_cast<std::int32_t>(static_cast<std::uint32_t>(offset) + target_shift -
                                               static_cast<std::uint32_t>(map.shift_at(p)));
  if (moved == offset || moved < -(1 << 24) || moved >= (1 << 24)) return false;
  const auto imm = static_cast<std::uint32_t>(moved);
  const std::uint32_t s = (imm >> 24) & 1u;
  const std::uint32_t j1 = ~(((imm >> 23) & 1u) ^ s) & 1u;
  const std::uint32_t j2 = ~(((imm >> 22) & 1u) ^ s) & 1u;
  *hw1 = 0xF000u | (s << 10) | ((imm >> 12) & 0x3FFu);
  *hw2 = (*hw2 & 0xD000u) | (j1 << 13) | (j2 << 11) | ((imm >> 1) & 0x7FFu);
  return true;
}

// Writes the bytes of the word `value` at image offset `at` that fall inside
// [pos, pos + len).
void put(std::uint32_t value, std::uint32_t at, std::uint32_t pos, std::uint32_t len,
         std::uint8_t* out) {
  for (std::uint32_t k = 0; k < 4; ++k) {
    if (at + k - pos < len) out[at + k - pos] = static_cast<std::uint8_t>(value >> (8 * k));
  }
}

}  // namespace

bool thumb2_branch_at(const std::uint8_t* image, std::uint32_t size, std::uint32_t p,
                      std::int64_t* target) {
  const OldView old(image, 0, size);
  if (!is_branch(old, p)) return false;
  *target = std::int64_t{p} + 4 + branch_offset(old.half(p), old.half(p + 2));
  return true;
}

void predict(const RelocMap& map, const std::uint8_t* window, std::uint32_t window_pos,
             std::uint32_t pos, std::uint32_t len, std::uint8_t* out) {
  const OldView old(window, window_pos, map.old_size);
  std::memcpy(out, window + (pos - window_pos), len);
  if (map.arch != Arch::kThumb2) return;

  // Every call or pointer that reaches into the range: one starting up to 3 bytes
  // before pos still does. Where two overlap, the later one's bytes stand.
  for (std::uint32_t p = pos >= 3 ? (pos - 3) & ~1u : 0; p < pos + len; p += 2) {
    std::uint32_t hw1 = 0, hw2 = 0;
    if (is_branch(old, p) && relocated_branch(map, old, p, &hw1, &hw2)) {
      put(hw1 | (hw2 << 16), p, pos, len, out);
    } else if (is_pointer(map, old, p)) {
      put(relocated_pointer(map, old.word(p)), p, pos, len, out);
    }
  }
}

}  // namespace updraft::delta
