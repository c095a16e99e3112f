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
        checkpoint_patch_offset_ = patch_offset_;
        state_ = header_.frame_count() == 0 ? State::kDone : State::kFrameHeader;
        if (state_ == State::kDone) {
          UPDRAFT_TRY(finish_frame());
        }
        result.consumed = pos;
        result.checkpoint = state_ != State::kDone;
        result.done = state_ == State::kDone;
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
  // Carve the workspace: buffers, then the 2-byte aligned model.
  std::byte* base = workspace_.data();
  const auto misalign = reinterpret_cast<std::uintptr_t>(base) % alignof(std::uint16_t);
  if (workspace_.size() < header.workspace_bytes + misalign) {
    return ErrorCode::kPatchWorkspaceTooSmall;
  }
  header_ = header;
  header_known_ = true;
  in_ = base;
  old_ = in_ + kInputBufferBytes;
  out_ = old_ + kOldBufferBytes;
  auto* model_storage = reinterpret_cast<std::uint16_t*>(out_ + kOutputBufferBytes + misalign);
  model_.init(header.params, model_storage);
  if (old_image_.size() != header.old_size) return ErrorCode::kPatchWrongBase;
  return verify_old_image();
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
    UPDRAFT_TRY(old_image_.read(pos, MutableByteView(old_, old_cache_len_)));
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
  return {};
}

}  // namespace updraft::delta
