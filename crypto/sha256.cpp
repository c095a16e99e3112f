#include "crypto/sha256.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace updraft {
namespace {

// FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube roots of
// the first 64 primes.
constexpr std::array<std::uint32_t, 64> kRoundConstants = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// FIPS 180-4 §5.3.3: first 32 bits of the fractional parts of the square roots of
// the first 8 primes.
constexpr std::array<std::uint32_t, 8> kInitialHash = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

std::uint32_t load_be32(const std::byte* p) {
  return (std::to_integer<std::uint32_t>(p[0]) << 24) |
         (std::to_integer<std::uint32_t>(p[1]) << 16) |
         (std::to_integer<std::uint32_t>(p[2]) << 8) | std::to_integer<std::uint32_t>(p[3]);
}

void store_be32(std::byte* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = std::byte((v >> (24 - 8 * i)) & 0xFF);
}

// One round. Instead of shifting eight variables per round, the caller rotates the
// argument order: `h` comes back as the new `a` and `d` as the new `e`.
inline void compress_round(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t& d,
                           std::uint32_t e, std::uint32_t f, std::uint32_t g, std::uint32_t& h,
                           std::uint32_t k_plus_w) {
  const std::uint32_t t1 =
      h + (std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25)) + ((e & f) ^ (~e & g)) + k_plus_w;
  const std::uint32_t t2 =
      (std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
  d += t1;
  h = t1 + t2;
}

// Hashes `count` whole blocks straight from `blocks`. The message schedule is kept
// as a 16-word ring rather than 64 words, so the stack stays small on the device.
void compress(std::array<std::uint32_t, 8>& state, const std::byte* blocks, std::size_t count) {
  std::array<std::uint32_t, 16> w;
  for (; count > 0; --count, blocks += Sha256::kBlockSize) {
    std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    std::uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (std::size_t i = 0; i < 64; i += 16) {
      for (std::size_t j = 0; j < 16; ++j) {
        if (i == 0) {
          w[j] = load_be32(blocks + 4 * j);
        } else {
          // w[j] still holds W[t-16]; words below j already hold this group's values.
          const std::uint32_t w15 = w[(j + 1) & 15], w2 = w[(j + 14) & 15];
          w[j] += (std::rotr(w2, 17) ^ std::rotr(w2, 19) ^ (w2 >> 10)) + w[(j + 9) & 15] +
                  (std::rotr(w15, 7) ^ std::rotr(w15, 18) ^ (w15 >> 3));
        }
      }
      for (std::size_t j = 0; j < 16; j += 8) {
        const std::uint32_t* k = &kRoundConstants[i + j];
        compress_round(a, b, c, d, e, f, g, h, k[0] + w[j + 0]);
        compress_round(h, a, b, c, d, e, f, g, k[1] + w[j + 1]);
        compress_round(g, h, a, b, c, d, e, f, k[2] + w[j + 2]);
        compress_round(f, g, h, a, b, c, d, e, k[3] + w[j + 3]);
        compress_round(e, f, g, h, a, b, c, d, k[4] + w[j + 4]);
        compress_round(d, e, f, g, h, a, b, c, k[5] + w[j + 5]);
        compress_round(c, d, e, f, g, h, a, b, k[6] + w[j + 6]);
        compress_round(b, c, d, e, f, g, h, a, k[7] + w[j + 7]);
      }
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
  }
}

}  // namespace

static_assert(sizeof(Sha256) == 104, "update the RAM note at the top of sha256.h");

Sha256::Sha256() : h_(kInitialHash), length_(0), buffer_{} {}

void Sha256::reset() {
  h_ = kInitialHash;
  length_ = 0;
}

void Sha256::update(ByteView data) {
  if (data.empty()) return;
  const std::size_t buffered = length_ % kBlockSize;
  length_ += data.size();
  if (buffered != 0) {
    const std::size_t take = std::min(kBlockSize - buffered, data.size());
    std::memcpy(buffer_.data() + buffered, data.data(), take);
    data = data.subspan(take);
    if (buffered + take < kBlockSize) return;
    compress(h_, buffer_.data(), 1);
  }
  const std::size_t whole = data.size() / kBlockSize;
  compress(h_, data.data(), whole);
  data = data.subspan(whole * kBlockSize);
  if (!data.empty()) std::memcpy(buffer_.data(), data.data(), data.size());
}

Sha256Digest Sha256::finish() {
  // Padding (FIPS 180-4 §5.1.1): 0x80, zeros up to 56 mod 64, then the bit length.
  std::size_t used = length_ % kBlockSize;
  buffer_[used++] = std::byte{0x80};
  if (used > kBlockSize - 8) {
    std::fill(buffer_.begin() + used, buffer_.end(), std::byte{0});
    compress(h_, buffer_.data(), 1);
    used = 0;
  }
  std::fill(buffer_.begin() + used, buffer_.end() - 8, std::byte{0});
  const std::uint64_t bit_length = length_ * 8;
  store_be32(buffer_.data() + 56, static_cast<std::uint32_t>(bit_length >> 32));
  store_be32(buffer_.data() + 60, static_cast<std::uint32_t>(bit_length));
  compress(h_, buffer_.data(), 1);

  Sha256Digest out;
  for (std::size_t i = 0; i < 8; ++i) store_be32(out.data() + 4 * i, h_[i]);
  reset();
  return out;
}

bool Sha256::at_block_boundary() const { return length_ % kBlockSize == 0; }

Sha256::State Sha256::save() const { return State{h_, length_}; }

Sha256 Sha256::restore(const State& state) {
  Sha256 hasher;
  hasher.h_ = state.h;
  hasher.length_ = state.length;
  return hasher;
}

Sha256Digest Sha256::digest(ByteView data) {
  Sha256 hasher;
  hasher.update(data);
  return hasher.finish();
}

}  // namespace updraft
