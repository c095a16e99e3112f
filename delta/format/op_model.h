// The adaptive context model behind the patch codec, shared by the encoder
// (delta/diff) and the streaming decoder (delta/patch) — see docs/formats/patch.md.
//
// Every symbol routine is written once, against a `Coder` with
//   unsigned bit(std::uint16_t& prob, unsigned bit)   // modelled bit
//   unsigned direct(unsigned bit)                       // equiprobable bit
// The encoder codes the bit it is given and returns it; the decoder ignores the
// argument and returns the bit it decoded. One routine for both sides is what keeps
// them in step.
//
// Portable: the model lives in storage the caller provides (storage_bytes()).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/codec.h"
#include "delta/format/patch_format.h"

namespace updraft::delta {

// A probability state: a 12-bit probability of a 0 bit in the top bits and, in
// the low two bits, how many times it has adapted (saturating at 3). It moves by
// 1/2, 1/4, 1/8, then 1/16 of the distance: a fresh context learns from its first
// bits instead of creeping from 1/2 (format 2). Format 1 starts every state
// saturated, so it always moves by 1/16, as version 1 was written.
inline constexpr int kProbBits = 12;
inline constexpr int kProbShift = 4;  // probability bits start here in a state
inline constexpr std::uint16_t kCountMask = 3;
inline constexpr std::uint16_t kProbInit = 1u << (kProbBits - 1);

constexpr std::uint16_t initial_state(bool adaptive_rate) {
  return static_cast<std::uint16_t>((kProbInit << kProbShift) | (adaptive_rate ? 0u : kCountMask));
}
constexpr std::uint32_t probability(std::uint16_t state) { return state >> kProbShift; }

inline void adapt(std::uint16_t& state, unsigned bit) {
  const unsigned count = state & kCountMask;
  const unsigned shift = count + 1;
  unsigned prob = state >> kProbShift;
  if (bit == 0) {
    prob += ((1u << kProbBits) - prob) >> shift;
  } else {
    prob -= prob >> shift;
  }
  const unsigned next = count == kCountMask ? count : count + 1;
  state = static_cast<std::uint16_t>((prob << kProbShift) | next);
}

// One field of an op header (a length or a seek): bit length, then the two bits
// below the leading one modelled per length, the rest equiprobable.
class NumberModel {
 public:
  static constexpr std::size_t kProbs = 64 + 33 * 4;

  void attach(std::uint16_t* probs) { probs_ = probs; }

  template <typename Coder>
  std::uint32_t code(Coder& c, std::uint32_t value) {
    std::uint16_t* length_tree = probs_;
    const unsigned length =
        code_tree(c, length_tree, 6, static_cast<unsigned>(std::bit_width(value)));
    if (length <= 1) return length;  // 0 -> 0, 1 -> 1
    // Values are 32-bit, so a longer bit length only comes from a corrupt patch.
    // All ones fails the patcher's range checks; the model is not touched.
    if (length > 32) return 0xFFFFFFFFu;
    std::uint16_t* mant = probs_ + 64 + length * 4;
    std::uint32_t v = 1;
    int remaining = static_cast<int>(length) - 1;
    for (unsigned node = 1; remaining > 0 && node < 4; --remaining) {
      const unsigned bit = c.bit(mant[node], (value >> (remaining - 1)) & 1u);
      node = (node << 1) | bit;
      v = (v << 1) | bit;
    }
    for (; remaining > 0; --remaining) v = (v << 1) | c.direct((value >> (remaining - 1)) & 1u);
    return v;
  }

  template <typename Coder>
  static unsigned code_tree(Coder& c, std::uint16_t* probs, int bits, unsigned value) {
    unsigned node = 1;
    for (int i = bits - 1; i >= 0; --i) node = (node << 1) | c.bit(probs[node], (value >> i) & 1u);
    return node - (1u << bits);
  }

 private:
  std::uint16_t* probs_ = nullptr;
};

// Op: seek (zig-zag signed change of old-minus-new offset), copy length, literal
// length; then copy_len diff bytes (new = old + diff) and lit_len literal bytes.
struct OpHeader {
  std::int32_t seek = 0;
  std::uint32_t copy_len = 0;
  std::uint32_t lit_len = 0;
};

class OpModel {
 public:
  // Bytes of model storage for `params`.
  static constexpr std::size_t storage_bytes(const ModelParams& p) {
    return sizeof(std::uint16_t) * prob_count(p);
  }
  static constexpr std::size_t prob_count(const ModelParams& p) {
    return 3 * NumberModel::kProbs + 2 * kZeroContexts * (std::size_t{1} << p.pos_ctx_bits) +
           (std::size_t{256} << (p.diff_ctx_bits + p.diff_pos_bits)) +
           (std::size_t{256} << (p.lit_ctx_bits + p.lit_pos_bits));
  }

  OpModel() = default;
  // `storage` holds at least prob_count(params) entries and outlives the model.
  OpModel(const ModelParams& params, std::uint16_t* storage) { init(params, storage); }

  void init(const ModelParams& params, std::uint16_t* storage) {
    params_ = params;
    probs_ = storage;
    std::uint16_t* p = storage;
    seek_.attach(p);
    p += NumberModel::kProbs;
    copy_len_.attach(p);
    p += NumberModel::kProbs;
    lit_len_.attach(p);
    p += NumberModel::kProbs;
    zero_ = p;
    p += kZeroContexts << params.pos_ctx_bits;
    repeat_ = p;
    p += kZeroContexts << params.pos_ctx_bits;
    diff_ = p;
    p += std::size_t{256} << (params.diff_ctx_bits + params.diff_pos_bits);
    lit_ = p;
    reset();
  }

  // Models restart at every frame so a frame decodes from a small checkpoint.
  void reset() {
    const std::size_t n = prob_count(params_);
    const std::uint16_t init = initial_state(params_.adaptive_rate);
    for (std::size_t i = 0; i < n; ++i) probs_[i] = init;
    prev_diff_ = 0;
    prev_diff2_ = 0;
    last_nonzero_ = 0;
  }

  template <typename Coder>
  OpHeader code_op(Coder& c, const OpHeader& op) {
    OpHeader out;
    const std::uint32_t seek = seek_.code(c, zigzag_encode(static_cast<std::uint32_t>(op.seek)));
    out.seek = static_cast<std::int32_t>(zigzag_decode(seek));
    out.copy_len = copy_len_.code(c, op.copy_len);
    out.lit_len = lit_len_.code(c, op.lit_len);
    return out;
  }

  // A diff byte at new position `pos` over old byte `old_byte`.
  template <typename Coder>
  std::uint8_t code_diff(Coder& c, std::uint32_t pos, std::uint8_t old_byte, std::uint8_t diff) {
    const unsigned pos_ctx = pos & ((1u << params_.pos_ctx_bits) - 1);
    const unsigned zctx = ((prev_diff_ != 0) ? 1u : 0u) | ((prev_diff2_ != 0) ? 2u : 0u);
    std::uint16_t& zero = zero_[(pos_ctx * kZeroContexts) + zctx];
    std::uint8_t value = 0;
    if (c.bit(zero, diff != 0 ? 1u : 0u) != 0) {
      // Relocations shift many pointers by the same amount: "same as the last
      // non-zero diff" is worth a bit of its own.
      std::uint16_t& repeat = repeat_[(pos_ctx * kZeroContexts) + zctx];
      if (c.bit(repeat, diff == last_nonzero_ ? 1u : 0u) != 0) {
        value = last_nonzero_;
      } else {
        const unsigned octx = static_cast<unsigned>(last_nonzero_) >> (8 - params_.diff_ctx_bits);
        const unsigned tree_pos = pos & ((1u << params_.diff_pos_bits) - 1);
        std::uint16_t* tree = diff_ + (((tree_pos << params_.diff_ctx_bits) | octx) << 8);
        // Zero is already excluded, so code diff - 1.
        value = static_cast<std::uint8_t>(
            NumberModel::code_tree(c, tree, 8, static_cast<std::uint8_t>(diff - 1)) + 1);
      }
    }
    prev_diff2_ = prev_diff_;
    prev_diff_ = value;
    if (value != 0) last_nonzero_ = value;
    (void)old_byte;
    return value;
  }

  // A literal byte at new position `pos`; `prev` is the new-image byte before it
  // (0 at a frame start).
  template <typename Coder>
  std::uint8_t code_literal(Coder& c, std::uint32_t pos, std::uint8_t prev, std::uint8_t lit) {
    const unsigned pos_ctx = pos & ((1u << params_.lit_pos_bits) - 1);
    const unsigned ctx = (pos_ctx << params_.lit_ctx_bits) |
                         (static_cast<unsigned>(prev) >> (8 - params_.lit_ctx_bits));
    return static_cast<std::uint8_t>(NumberModel::code_tree(c, lit_ + (ctx << 8), 8, lit));
  }

 private:
  static constexpr std::size_t kZeroContexts = 4;

  ModelParams params_;
  std::uint16_t* probs_ = nullptr;
  NumberModel seek_, copy_len_, lit_len_;
  std::uint16_t* zero_ = nullptr;
  std::uint16_t* repeat_ = nullptr;
  std::uint16_t* diff_ = nullptr;
  std::uint16_t* lit_ = nullptr;
  std::uint8_t prev_diff_ = 0, prev_diff2_ = 0, last_nonzero_ = 0;
};

}  // namespace updraft::delta
