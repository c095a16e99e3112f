// Binary range encoder for the patch codec (host). Mirrors
// delta/patch/range_decoder.h; symbol routines live in delta/format/op_model.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "delta/format/op_model.h"

namespace updraft::delta {

class RangeEncoder {
 public:
  explicit RangeEncoder(std::vector<std::byte>& out) : out_(out) {}

  unsigned bit(std::uint16_t& prob, unsigned bit) {
    const std::uint32_t bound = (range_ >> kProbBits) * probability(prob);
    if (bit == 0) {
      range_ = bound;
    } else {
      low_ += bound;
      range_ -= bound;
    }
    adapt(prob, bit);
    normalize();
    return bit;
  }

  unsigned direct(unsigned bit) {
    range_ >>= 1;
    if (bit != 0) low_ += range_;
    normalize();
    return bit;
  }

  // Emits the remaining state; the decoder needs these bytes to finish.
  void flush() {
    for (int i = 0; i < 5; ++i) shift_low();
  }

 private:
  void normalize() {
    while (range_ < (1u << 24)) {
      range_ <<= 8;
      shift_low();
    }
  }
  // Carry propagation: a byte is held back (cache_) until no carry can reach it.
  void shift_low() {
    if (low_ < 0xFF000000ull || low_ >= (1ull << 32)) {
      const auto carry = static_cast<std::uint8_t>(low_ >> 32);
      std::uint8_t temp = cache_;
      do {
        out_.push_back(std::byte(static_cast<std::uint8_t>(temp + carry)));
        temp = 0xFF;
      } while (--pending_ != 0);
      cache_ = static_cast<std::uint8_t>(low_ >> 24);
    }
    ++pending_;
    low_ = (low_ & 0x00FFFFFFull) << 8;
  }

  std::vector<std::byte>& out_;
  std::uint64_t low_ = 0;
  std::uint32_t range_ = 0xFFFFFFFFu;
  std::uint8_t cache_ = 0;
  std::uint64_t pending_ = 1;
};

}  // namespace updraft::delta
