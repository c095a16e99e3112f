// Little-endian writer for the host builders, the mirror of manifest/byte_reader.h.
// Host only (grows a std::vector).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/codec.h"
#include "manifest/manifest_format.h"

namespace updraft::manifest {

class ByteWriter {
 public:
  void u8(std::uint8_t v) { out_.push_back(std::byte{v}); }
  void u16(std::uint16_t v) {
    std::byte b[2];
    store_le16(b, v);
    bytes(b);
  }
  void u32(std::uint32_t v) {
    std::byte b[4];
    store_le32(b, v);
    bytes(b);
  }
  void u64(std::uint64_t v) {
    std::byte b[8];
    store_le64(b, v);
    bytes(b);
  }
  void bytes(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  // Length-prefixed text; the caller has checked it fits a byte.
  void text(std::string_view s) {
    u8(static_cast<std::uint8_t>(s.size()));
    bytes(as_bytes_view(s.data(), s.size()));
  }

  std::size_t size() const { return out_.size(); }
  const std::vector<std::byte>& data() const { return out_; }

 private:
  std::vector<std::byte> out_;
};

// magic | format version | reserved | body size. The caller has checked the size
// against the format's limits, all well below 64 KiB.
inline std::vector<std::byte> envelope_header(const Magic& magic, std::size_t body_size) {
  ByteWriter w;
  w.bytes(magic);
  w.u8(kFormatVersion);
  w.u8(0);
  w.u16(static_cast<std::uint16_t>(body_size));
  return w.data();
}

}  // namespace updraft::manifest
