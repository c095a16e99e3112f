#include "core/crc32.h"

namespace updraft {

std::uint32_t crc32(ByteView data, std::uint32_t crc) {
  crc = ~crc;
  for (std::byte b : data) {
    crc ^= std::to_integer<std::uint32_t>(b);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

}  // namespace updraft
