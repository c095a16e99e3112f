// Explicit little-endian encoding of integers; formats never memcpy structs (portable).
#pragma once

#include <cstddef>
#include <cstdint>

namespace updraft {

inline void store_le16(std::byte* p, std::uint16_t v) {
  p[0] = std::byte(v & 0xFF);
  p[1] = std::byte(v >> 8);
}
inline void store_le32(std::byte* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = std::byte((v >> (8 * i)) & 0xFF);
}
inline void store_le64(std::byte* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = std::byte((v >> (8 * i)) & 0xFF);
}
inline std::uint16_t load_le16(const std::byte* p) {
  return static_cast<std::uint16_t>(std::to_integer<std::uint16_t>(p[0]) |
                                    (std::to_integer<std::uint16_t>(p[1]) << 8));
}
inline std::uint32_t load_le32(const std::byte* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint32_t>(p[i]);
  return v;
}
// Zig-zag: a signed value as an unsigned one with small magnitudes small
// (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...), for variable-length codes. 32-bit two's
// complement both ways.
constexpr std::uint32_t zigzag_encode(std::uint32_t v) { return (v << 1) ^ (0u - (v >> 31)); }
constexpr std::uint32_t zigzag_decode(std::uint32_t v) { return (v >> 1) ^ (0u - (v & 1u)); }

inline std::uint64_t load_le64(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}

}  // namespace updraft
