// Binary range decoder for the patch codec (portable, no heap). It reads from a
// window of bytes the patcher has buffered; running past the window sets
// overrun() instead of reading out of bounds, and the patcher reports
// kPatchCorrupt. The encoder is delta/diff/range_encoder.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "delta/format/op_model.h"

namespace updraft::delta {

class RangeDecoder {
 public:
  static constexpr std::size_t kInitBytes = 5;

  // Sets the bytes the next calls may read.
  void set_input(const std::byte* data, std::size_t size) {
    in_ = data;
    avail_ = size;
    used_ = 0;
  }
  std::size_t used() const { return used_; }
  bool overrun() const { return overrun_; }

  // Reads the kInitBytes the encoder's first byte and code occupy.
  void start() {
    overrun_ = false;
    range_ = 0xFFFFFFFFu;
    code_ = 0;
    if (next_byte() != 0) overrun_ = true;  // the encoder's first byte is always 0
    for (std::size_t i = 1; i < kInitBytes; ++i) code_ = (code_ << 8) | next_byte();
  }

  unsigned bit(std::uint16_t& prob, unsigned /*ignored*/) {
    const std::uint32_t bound = (range_ >> kProbBits) * probability(prob);
    unsigned result;
    if (code_ < bound) {
      range_ = bound;
      result = 0;
    } else {
      code_ -= bound;
      range_ -= bound;
      result = 1;
    }
    adapt(prob, result);
    normalize();
    return result;
  }

  unsigned direct(unsigned /*ignored*/) {
    range_ >>= 1;
    unsigned result = 0;
    if (code_ >= range_) {
      code_ -= range_;
      result = 1;
    }
    normalize();
    return result;
  }

 private:
  void normalize() {
    while (range_ < (1u << 24)) {
      range_ <<= 8;
      code_ = (code_ << 8) | next_byte();
    }
  }
  std::uint32_t next_byte() {
    if (used_ >= avail_) {
      overrun_ = true;
      return 0;
    }
    return std::to_integer<std::uint32_t>(in_[used_++]);
  }

  const std::byte* in_ = nullptr;
  std::size_t avail_ = 0;
  std::size_t used_ = 0;
  std::uint32_t range_ = 0xFFFFFFFFu;
  std::uint32_t code_ = 0;
  bool overrun_ = false;
};

}  // namespace updraft::delta
