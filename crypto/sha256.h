// SHA-256 (FIPS 180-4), streaming, with a state that can be journaled so a device
// resumes hashing a half-downloaded image after a power cut. Portable.
// RAM: sizeof(Sha256) == 104 bytes (8-word chaining value, 64-bit length, 64-byte
// block buffer). Stack: < 300 bytes in update() and finish(), < 400 in digest(),
// which holds its own Sha256 (arm-none-eabi-gcc 12, Cortex-M4, -Os). No heap; the
// 256 bytes of round constants are const data in flash.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/bytes.h"

namespace updraft {

using Sha256Digest = std::array<std::byte, 32>;

class Sha256 {
 public:
  static constexpr std::size_t kDigestSize = 32;
  static constexpr std::size_t kBlockSize = 64;

  // Hash state at a 64-byte block boundary: small enough to journal in flash so a
  // device can resume hashing after a power cut.
  struct State {
    std::array<std::uint32_t, 8> h;
    std::uint64_t length;  // bytes hashed so far; a multiple of kBlockSize
  };

  Sha256();

  // Appends `data` to the message. Any split of a message into calls gives the same digest.
  void update(ByteView data);

  // Returns the digest of everything passed to update() and leaves the object reset,
  // ready for a new message.
  Sha256Digest finish();

  // Forgets the message so far and starts a new one.
  void reset();

  // True when the bytes hashed so far fill whole blocks (length % 64 == 0), i.e. when
  // save() captures everything.
  bool at_block_boundary() const;

  // Precondition: at_block_boundary(). Otherwise the partial block is not in the
  // State and a restored hasher would silently lose it.
  State save() const;

  // Continues a message from a State produced by save(). Precondition:
  // state.length % kBlockSize == 0; the caller checks the journal's integrity.
  static Sha256 restore(const State& state);

  // Digest of `data` as one message.
  static Sha256Digest digest(ByteView data);

 private:
  std::array<std::uint32_t, 8> h_;
  std::uint64_t length_;  // bytes of message so far; length_ % 64 of them sit in buffer_
  std::array<std::byte, kBlockSize> buffer_;
};

}  // namespace updraft
