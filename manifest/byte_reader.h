// A cursor over untrusted bytes for the metadata parsers: every read checks the
// length first and fails with kManifestMalformed instead of reading past the end.
// Portable, header-only; holds a view, never copies.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "core/codec.h"
#include "core/result.h"

namespace updraft::manifest {

class ByteReader {
 public:
  explicit ByteReader(ByteView bytes) : rest_(bytes) {}

  std::size_t remaining() const { return rest_.size(); }

  Result<ByteView> bytes(std::size_t size) {
    if (size > rest_.size()) return ErrorCode::kManifestMalformed;
    const ByteView taken = rest_.first(size);
    rest_ = rest_.subspan(size);
    return taken;
  }

  Result<std::uint8_t> u8() {
    UPDRAFT_TRY_ASSIGN(const ByteView b, bytes(1));
    return std::to_integer<std::uint8_t>(b[0]);
  }
  Result<std::uint16_t> u16() {
    UPDRAFT_TRY_ASSIGN(const ByteView b, bytes(2));
    return load_le16(b.data());
  }
  Result<std::uint32_t> u32() {
    UPDRAFT_TRY_ASSIGN(const ByteView b, bytes(4));
    return load_le32(b.data());
  }
  Result<std::uint64_t> u64() {
    UPDRAFT_TRY_ASSIGN(const ByteView b, bytes(8));
    return load_le64(b.data());
  }

  template <std::size_t N>
  Result<std::array<std::byte, N>> array() {
    UPDRAFT_TRY_ASSIGN(const ByteView b, bytes(N));
    std::array<std::byte, N> out;
    std::copy(b.begin(), b.end(), out.begin());
    return out;
  }

 private:
  ByteView rest_;
};

}  // namespace updraft::manifest
