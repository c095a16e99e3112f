#include "delta/patch/patcher.h"

#include <algorithm>
#include <cstring>

#include "core/codec.h"
#include "core/crc32.h"
#include "crypto/constant_time.h"

namespace updraft::delta {
namespace {

constexpr std::array<std::byte, 4> kCheckpointMagic = {std::byte{'U'}, std::byte{'P'},
                                                       std::byte{'C'}, std::byte{'K'}};
constexpr std::uint8_t kCheckpointVersion = 1;

}  // namespace

Patcher::Patcher(ImageReader& old_image, ImageWriter& new_image, MutableByteView workspace)
    : old_image_(old_image), new_image_(new_image), workspace_(workspace) {}

Result<void> Patcher::fail(ErrorCode code) {
  state_ = State::kFailed;
  error_ = code;
  return code;
}

Result<Patcher::FeedResult> Patcher::feed(ByteView patch_bytes) {
  if (state_ == State::kFailed) return error_;
  Result<FeedResult> r = feed_inner(patch_bytes);
  if (!r.ok()) {
    state_ = State::kFailed;
    error_ = r.error();
  }
  return r;
}

Result<Patcher::FeedResult> Patcher::feed_inner(ByteView in) {
  FeedResult result;
  std::size_t pos = 0;
  auto take = [&](std::size_t n) {
    std::memcpy(in_ + in_end_, in.data() + pos, n);
    in_end_ += n;
    pos += n;
    patch_offset_ += static_cast<std::uint32_t>(n);
  };

  while (true) {
    switch (state_) {
      case State::kHeader: {
        // The header is buffered in the first bytes of the workspace; the rest of it
        // cannot be carved up before the header says how big the models are.
        if (workspace_.size() < kHeaderSize) return ErrorCode::kPatchWorkspaceTooSmall;
        in_ = workspace_.data();
        const std::size_t n = std::min(kHeaderSize - in_end_, in.size() - pos);
        take(n);
        if (in_end_ < kHeaderSize) {
          result.consumed = pos;
          return result;
        }
        UPDRAFT_TRY_ASSIGN(
            PatchHeader header,
            decode_header(std::span<const std::byte, kHeaderSize>(in_, kHeaderSize)));
        UPDRAFT_TRY(accept_header(header));
        in_begin_ = in_end_ = 0;
        state_ = State::kRelocBlock;
        [[fallthrough]];
      }
      case State::kRelocBlock: {
        // Only a patch with relocation prediction has the block (reloc_count > 0).
        for (; !reloc_ready_ && pos < in.size(); ++pos) {
          ++patch_offset_;
          UPDRAFT_TRY(reloc_byte(in[pos]));
        }
        result.consumed = pos;
        if (!reloc_ready_) return result;
        state_ = State::kFrameHeader;
        if (resume_offset_ != 0) {
          // Resuming: the map is back; the frames to skip were decoded before.
          patch_offset_ = checkpoint_patch_offset_ = resume_offset_;
          resume_offset_ = 0;
          result.seek = true;
          return result;
        }
        // The first checkpoint, or the end of a patch with no frames.
        checkpoint_patch_offset_ = patch_offset_;
        if (header_.frame_count() == 0) {
          state_ = State::kDone;
          UPDRAFT_TRY(finish_frame());
        }
        result.checkpoint = state_ != State::kDone;
        result.done = !result.checkpoint;
        return result;
      }
      case State::kFrameHeader: {
        const std::size_t n = std::min(kFrameHeaderSize - in_end_, in.size() - pos);
        take(n);
        if (in_end_ < kFrameHeaderSize) {
          result.consumed = pos;
          return result;
        }
        UPDRAFT_TRY(begin_frame());
        break;
      }
      case State::kPayload: {
        // Compact, then top up the window with payload bytes only.
        if (in_begin_ > 0) {
          std::memmove(in_, in_ + in_begin_, in_end_ - in_begin_);
          in_end_ -= in_begin_;
          in_begin_ = 0;
        }
        const std::size_t n =
            std::min({kInputBufferBytes - in_end_, in.size() - pos, std::size_t{payload_unread_}});
        payload_crc_ = crc32(ByteView(in.data() + pos, n), payload_crc_);
        take(n);
        payload_unread_ -= static_cast<std::uint32_t>(n);
        UPDRAFT_TRY(decode_available());
        // Once the frame's output is complete, what is left of the payload is only
        // checked by the CRC: drop it from the window.
        if (frame_left_ == 0) in_begin_ = in_end_;
        if (frame_left_ == 0 && payload_unread_ == 0) {
          UPDRAFT_TRY(finish_frame());
          result.consumed = pos;
          result.done = state_ == State::kDone;
          result.checkpoint = !result.done;
          return result;
        }
        if (n == 0 && pos == in.size()) {
          result.consumed = pos;
          return result;
        }
        break;
      }
      case State::kDone:
        if (pos < in.size()) return ErrorCode::kPatchTrailingData;
        result.consumed = pos;
        result.done = true;
        return result;
      case State::kFailed:
        return error_;
    }
  }
}

Result<void> Patcher::accept_header(const PatchHeader& header) {
  // Carve the workspace: buffers, then with relocation prediction the map and the
  // raw old window predict() reads, then the model.
  std::byte* base = workspace_.data();
  // One alignment for both (4): the map's words need it, and one rule is less code.
  const std::size_t misalign = (0u - reinterpret_cast<std::uintptr_t>(base)) % alignof(RelocEntry);
  if (workspace_.size() < header.workspace_bytes + misalign) {
    return ErrorCode::kPatchWorkspaceTooSmall;
  }
  header_ = header;
  header_known_ = true;
  in_ = base;
  old_ = in_ + kInputBufferBytes;
  out_ = old_ + kOldBufferBytes;
  std::byte* p = out_ + kOutputBufferBytes + misalign;
  static_assert((kInputBufferBytes + kOldBufferBytes + kOutputBufferBytes) % alignof(RelocEntry) ==
                0);
  reloc_entries_ = reinterpret_cast<RelocEntry*>(p);
  p += sizeof(RelocEntry) * header.reloc_count;
  raw_ = p;
  if (header.reloc_count > 0) p += kRelocWindowBytes;
  model_.init(header.params, reinterpret_cast<std::uint16_t*>(p));
  reloc_ = RelocMap{Arch::kNone, 0, header.old_size, reloc_entries_, 0};
  reloc_ready_ = header.reloc_count == 0;
  reloc_read_ = reloc_crc_ = reloc_value_ = 0;
  reloc_value_bits_ = 0;
  reloc_half_ = false;
  if (old_image_.size() != header.old_size) return ErrorCode::kPatchWrongBase;
  return verify_old_image();
}

// The relocation block, one byte at a time: arch (1) | reserved (3) | base (4) |
// per entry varint(start step), varint(zig-zag shift step) | crc32 (4). The CRC
// is the only check the entries need: predict() is safe with any map, and a map
// that predicts badly only yields an image that fails its SHA-256.
Result<void> Patcher::reloc_byte(std::byte b) {
  const auto v = std::to_integer<std::uint8_t>(b);
  const bool entries_done =
      reloc_read_ == kRelocBlockHeadSize && reloc_.count == header_.reloc_count;
  if (!entries_done) reloc_crc_ = crc32(ByteView(&b, 1), reloc_crc_);
  if (reloc_read_ < kRelocBlockHeadSize) {
    in_[reloc_read_++] = b;
    if (reloc_read_ == kRelocBlockHeadSize) {
      // Thumb-2 is the only arch so far; the reserved bytes are zero.
      if (load_le32(in_) != static_cast<std::uint32_t>(Arch::kThumb2))
        return ErrorCode::kPatchCorrupt;
      reloc_.arch = Arch::kThumb2;
      reloc_.base = load_le32(in_ + 4);
    }
    return {};
  }
  // A varint of at most 5 bytes, or the CRC's 4 bytes, little-endian.
  if (reloc_value_bits_ >= 35) return ErrorCode::kPatchCorrupt;
  if (entries_done) {
    reloc_value_ |= std::uint32_t{v} << reloc_value_bits_;
    reloc_value_bits_ = static_cast<std::uint8_t>(reloc_value_bits_ + 8);
    if (reloc_value_bits_ < 32) return {};
    if (reloc_value_ != reloc_crc_) return ErrorCode::kPatchCorrupt;
    reloc_ready_ = true;
    return {};
  }
  reloc_value_ |= std::uint32_t{v & 0x7Fu} << reloc_value_bits_;
  reloc_value_bits_ = static_cast<std::uint8_t>(reloc_value_bits_ + 7);
  if ((v & 0x80u) != 0) return {};
  RelocEntry& e = reloc_entries_[reloc_.count];
  const RelocEntry prev = reloc_.count == 0 ? RelocEntry{} : reloc_entries_[reloc_.count - 1];
  if (!reloc_half_) {
    e.old_start = prev.old_start + reloc_value_;
  } else {
    e.shift = static_cast<std::int32_t>(static_cast<std::uint32_t>(prev.shift) +
                                        zigzag_decode(reloc_value_));
    ++reloc_.count;
  }
  reloc_half_ = !reloc_half_;
  reloc_value_ = 0;
  reloc_value_bits_ = 0;
  return {};
}

Result<void> Patcher::verify_old_image() {
  Sha256 hash;
  for (std::uint32_t pos = 0; pos < header_.old_size;) {
    const std::uint32_t n = std::min<std::uint32_t>(kOldBufferBytes, header_.old_size - pos);
    UPDRAFT_TRY(old_image_.read(pos, MutableByteView(old_, n)));
    hash.update(ByteView(old_, n));
    pos += n;
  }
  old_cache_len_ = 0;  // the buffer no longer caches what old_cache_pos_ says
  const Sha256Digest digest = hash.finish();
  if (!constant_time_equal(digest, header_.old_hash)) return ErrorCode::kPatchWrongBase;
  return {};
}

Result<void> Patcher::begin_frame() {
  payload_size_ = load_le32(in_);
  payload_crc_expected_ = load_le32(in_ + 4);
  frame_left_ = header_.frame_length(frame_index_);
  if (payload_size_ < RangeDecoder::kInitBytes || payload_size_ > max_payload_size(frame_left_)) {
    return ErrorCode::kPatchCorrupt;
  }
  payload_unread_ = payload_size_;
  payload_crc_ = 0;
  in_begin_ = in_end_ = 0;
  model_.reset();
  last_byte_ = 0;
  op_state_ = OpState::kStart;
  state_ = State::kPayload;
  return {};
}

// Decodes while a whole step is surely buffered: at least kMaxStepInput bytes, or
// everything the frame has left.
Result<void> Patcher::decode_available() {
  decoder_.set_input(in_ + in_begin_, in_end_ - in_begin_);
  const std::size_t avail = in_end_ - in_begin_;
  while (frame_left_ > 0 && (avail - decoder_.used() >= kMaxStepInput || payload_unread_ == 0)) {
    switch (op_state_) {
      case OpState::kStart:
        decoder_.start();
        op_state_ = OpState::kOpHeader;
        break;
      case OpState::kOpHeader: {
        const OpHeader op = model_.code_op(decoder_, OpHeader{});
        if (decoder_.overrun()) break;
        const std::int64_t old_pos = old_pos_ + op.seek;
        const std::uint64_t len = std::uint64_t{op.copy_len} + op.lit_len;
        if (len == 0 || len > frame_left_ || old_pos < 0 ||
            (op.copy_len > 0 && old_pos + op.copy_len > header_.old_size)) {
          return ErrorCode::kPatchCorrupt;
        }
        old_pos_ = old_pos;
        copy_left_ = op.copy_len;
        lit_left_ = op.lit_len;
        op_state_ = copy_left_ > 0 ? OpState::kCopy : OpState::kLiteral;
        break;
      }
      case OpState::kCopy: {
        const auto opos = static_cast<std::uint32_t>(old_pos_);
        UPDRAFT_TRY_ASSIGN(std::uint8_t old, old_byte(opos));
        const std::uint8_t diff = model_.code_diff(decoder_, new_pos_, old, 0);
        UPDRAFT_TRY(emit(static_cast<std::uint8_t>(old + diff)));
        ++old_pos_;
        if (--copy_left_ == 0) op_state_ = lit_left_ > 0 ? OpState::kLiteral : OpState::kOpHeader;
        break;
      }
      case OpState::kLiteral: {
        UPDRAFT_TRY(emit(model_.code_literal(decoder_, new_pos_, last_byte_, 0)));
        // The old position moves with the new one, so a same-size replacement
        // needs no seek afterwards.
        ++old_pos_;
        if (--lit_left_ == 0) op_state_ = OpState::kOpHeader;
        break;
      }
    }
    if (decoder_.overrun()) return ErrorCode::kPatchCorrupt;
  }
  in_begin_ += decoder_.used();
  return {};
}

Result<std::uint8_t> Patcher::old_byte(std::uint32_t pos) {
  if (pos - old_cache_pos_ >= old_cache_len_) {
    old_cache_pos_ = pos;
    old_cache_len_ = std::min<std::uint32_t>(kOldBufferBytes, header_.old_size - pos);
    if (header_.reloc_count == 0) {
      UPDRAFT_TRY(old_image_.read(pos, MutableByteView(old_, old_cache_len_)));
    } else {
      // Read with kRelocMargin on each side, then predict the cached range.
      const std::uint32_t lo = pos >= kRelocMargin ? pos - kRelocMargin : 0;
      const std::uint32_t hi =
          std::min<std::uint32_t>(header_.old_size, pos + old_cache_len_ + kRelocMargin);
      UPDRAFT_TRY(old_image_.read(lo, MutableByteView(raw_, hi - lo)));
      predict(reloc_, reinterpret_cast<const std::uint8_t*>(raw_), lo, pos, old_cache_len_,
              reinterpret_cast<std::uint8_t*>(old_));
    }
  }
  return std::to_integer<std::uint8_t>(old_[pos - old_cache_pos_]);
}

Result<void> Patcher::emit(std::uint8_t byte) {
  out_[out_len_++] = std::byte{byte};
  last_byte_ = byte;
  ++new_pos_;
  --frame_left_;
  if (out_len_ == kOutputBufferBytes) return flush_output();
  return {};
}

Result<void> Patcher::flush_output() {
  if (out_len_ == 0) return {};
  const ByteView chunk(out_, out_len_);
  UPDRAFT_TRY(new_image_.write(new_pos_ - out_len_, chunk));
  new_hash_.update(chunk);
  out_len_ = 0;
  return {};
}

Result<void> Patcher::finish_frame() {
  if (state_ == State::kPayload) {
    if (op_state_ != OpState::kOpHeader) return ErrorCode::kPatchCorrupt;  // op cut by frame end
    if (payload_crc_ != payload_crc_expected_) return ErrorCode::kPatchFrameChecksum;
    UPDRAFT_TRY(flush_output());
    ++frame_index_;
    in_begin_ = in_end_ = 0;
    checkpoint_patch_offset_ = patch_offset_;
    state_ = frame_index_ == header_.frame_count() ? State::kDone : State::kFrameHeader;
  }
  if (state_ == State::kDone) {
    const Sha256Digest digest = new_hash_.finish();
    if (!constant_time_equal(digest, header_.new_hash)) return ErrorCode::kPatchOutputMismatch;
  }
  return {};
}

Result<void> Patcher::finish() const {
  if (state_ == State::kFailed) return error_;
  if (state_ != State::kDone) return ErrorCode::kPatchTruncated;
  return {};
}

void Patcher::save_checkpoint(std::span<std::byte, kCheckpointSize> out) const {
  std::byte* p = out.data();
  std::memset(p, 0, kCheckpointSize);
  std::copy(kCheckpointMagic.begin(), kCheckpointMagic.end(), p);
  p[4] = std::byte{kCheckpointVersion};
  encode_header(header_, std::span<std::byte, kHeaderSize>(p + 8, kHeaderSize));
  p += 8 + kHeaderSize;
  store_le32(p, frame_index_);
  store_le32(p + 4, checkpoint_patch_offset_);
  store_le64(p + 8, static_cast<std::uint64_t>(old_pos_));
  const Sha256::State hs = new_hash_.save();
  for (std::size_t i = 0; i < 8; ++i) store_le32(p + 16 + 4 * i, hs.h[i]);
  store_le64(p + 48, hs.length);
  store_le32(p + 56, crc32(ByteView(out.data(), kCheckpointSize - 4)));
}

Result<void> Patcher::resume(std::span<const std::byte, kCheckpointSize> cp) {
  const std::byte* p = cp.data();
  if (!std::equal(kCheckpointMagic.begin(), kCheckpointMagic.end(), p) ||
      std::to_integer<std::uint8_t>(p[4]) != kCheckpointVersion ||
      load_le32(p + kCheckpointSize - 4) != crc32(ByteView(p, kCheckpointSize - 4))) {
    return fail(ErrorCode::kPatchBadCheckpoint);
  }
  Result<PatchHeader> header =
      decode_header(std::span<const std::byte, kHeaderSize>(p + 8, kHeaderSize));
  if (!header.ok()) return fail(ErrorCode::kPatchBadCheckpoint);
  if (workspace_.size() < kHeaderSize) return fail(ErrorCode::kPatchWorkspaceTooSmall);
  Result<void> accepted = accept_header(*header);
  if (!accepted.ok()) return fail(accepted.error());
  p += 8 + kHeaderSize;
  frame_index_ = load_le32(p);
  patch_offset_ = checkpoint_patch_offset_ = load_le32(p + 4);
  old_pos_ = static_cast<std::int64_t>(load_le64(p + 8));
  Sha256::State hs;
  for (std::size_t i = 0; i < 8; ++i) hs.h[i] = load_le32(p + 16 + 4 * i);
  hs.length = load_le64(p + 48);
  const std::uint64_t new_pos = std::uint64_t{frame_index_} * header_.params.frame_size;
  if (frame_index_ >= header_.frame_count() || hs.length != new_pos ||
      patch_offset_ < kHeaderSize || old_pos_ < -std::int64_t{kMaxImageSize} ||
      old_pos_ > std::int64_t{kMaxImageSize} * 2) {
    return fail(ErrorCode::kPatchBadCheckpoint);
  }
  new_hash_ = Sha256::restore(hs);
  new_pos_ = static_cast<std::uint32_t>(new_pos);
  in_begin_ = in_end_ = 0;
  state_ = State::kFrameHeader;
  if (header_.reloc_count > 0) {
    // The map is not in the checkpoint: read the block again, then seek.
    resume_offset_ = patch_offset_;
    patch_offset_ = checkpoint_patch_offset_ = kHeaderSize;
    state_ = State::kRelocBlock;
  }
  return {};
}

}  // namespace updraft::delta
