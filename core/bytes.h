// Byte spans used across the code base (portable).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace updraft {

using ByteView = std::span<const std::byte>;
using MutableByteView = std::span<std::byte>;

inline ByteView as_bytes_view(const void* data, std::size_t size) {
  return ByteView(static_cast<const std::byte*>(data), size);
}

}  // namespace updraft
