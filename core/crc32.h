// CRC-32 (IEEE 802.3, reflected, as zlib computes it). Portable; table-free so it
// costs no RAM or flash for a table on the device.
#pragma once

#include <cstdint>

#include "core/bytes.h"

namespace updraft {

// Continues a CRC: crc32(b, crc32(a)) == crc32(a + b). Start from 0.
std::uint32_t crc32(ByteView data, std::uint32_t crc = 0);

}  // namespace updraft
