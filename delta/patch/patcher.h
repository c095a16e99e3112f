// Applies an Updraft patch as a stream: patch bytes are pushed in as they arrive
// (any chunk size, down to one byte), the old image is read at random offsets and
// the new image is written front to back. Format: docs/formats/patch.md.
//
// Safety: the header binds the exact old image (size + SHA-256); a patch for another
// base is refused (kPatchWrongBase) before a byte is written. Each frame carries a
// CRC-32, and the new image's SHA-256 is checked when the last frame ends, so a
// corrupt or truncated patch fails with a 1xx code and is never reported good.
//
// Resume: after each frame (and after the header) feed() reports a checkpoint;
// save_checkpoint() gives kCheckpointSize bytes to journal. After a power cut,
// resume() from them and feed the patch again from checkpoint_patch_offset().
// A patch with relocation prediction first needs its relocation block again: then
// checkpoint_patch_offset() is where that block starts, and once it is read feed()
// reports `seek`: go on from checkpoint_patch_offset(), the frame to resume.
//
// RAM: the header's workspace_bytes of caller workspace (at most 8 KB for mcu-tiny,
// 32 KB for mcu; it includes the relocation map, 8 bytes per entry), this object (448 bytes on
// Cortex-M4) and < 800 bytes of stack (740 measured on Cortex-M4, agent/cortex_m). No heap. The
// first feed() hashes the whole old image before it writes anything: allow for it in a watchdog
// budget. Not thread-safe; one Patcher per update.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/sha256.h"
#include "delta/format/op_model.h"
#include "delta/format/patch_format.h"
#include "delta/format/reloc.h"
#include "delta/patch/image_io.h"
#include "delta/patch/range_decoder.h"

namespace updraft::delta {

class Patcher {
 public:
  // magic (4) | version (1) | reserved (3) | patch header (96) | next_frame (4)
  // | patch_offset (4) | old_pos (8) | sha256 state (32 + 8) | crc32 (4)
  static constexpr std::size_t kCheckpointSize = 4 + 4 + kHeaderSize + 4 + 4 + 8 + 40 + 4;

  struct FeedResult {
    std::size_t consumed = 0;  // bytes of the input taken
    bool checkpoint = false;   // a checkpoint was reached; feed() stopped right after it
    bool done = false;         // the new image is complete and verified
    bool seek = false;         // after resume(): feed on from checkpoint_patch_offset(), not here
  };

  // `old_image` and `new_image` must outlive the Patcher. `workspace` should hold
  // the header's workspace_bytes, 4-byte aligned (an unaligned start costs up to
  // 3 bytes more); less fails with kPatchWorkspaceTooSmall.
  Patcher(ImageReader& old_image, ImageWriter& new_image, MutableByteView workspace);

  // Consumes patch bytes. Stops early, with consumed < size, after a checkpoint
  // so the caller can journal it, and when the patch is complete. Any error is
  // final: later calls return it again.
  Result<FeedResult> feed(ByteView patch_bytes);

  // Ok once the patch is complete and verified; kPatchTruncated if it stopped short.
  Result<void> finish() const;

  bool done() const { return state_ == State::kDone; }
  bool header_known() const { return header_known_; }
  const PatchHeader& header() const { return header_; }
  std::uint32_t new_offset() const { return new_pos_; }
  std::uint32_t patch_offset() const { return patch_offset_; }

  // Valid after feed() reported a checkpoint, or after resume().
  void save_checkpoint(std::span<std::byte, kCheckpointSize> out) const;
  std::uint32_t checkpoint_patch_offset() const { return checkpoint_patch_offset_; }

  // Restores the state of a saved checkpoint on a fresh Patcher. Verifies the old
  // image again. Feed the patch from checkpoint_patch_offset() afterwards.
  Result<void> resume(std::span<const std::byte, kCheckpointSize> checkpoint);

 private:
  enum class State : std::uint8_t { kHeader, kRelocBlock, kFrameHeader, kPayload, kDone, kFailed };
  enum class OpState : std::uint8_t { kStart, kOpHeader, kCopy, kLiteral };

  Result<FeedResult> feed_inner(ByteView in);
  Result<void> accept_header(const PatchHeader& header);
  Result<void> verify_old_image();
  Result<void> reloc_byte(std::byte b);
  Result<void> begin_frame();
  Result<void> decode_available();
  Result<void> finish_frame();
  Result<std::uint8_t> old_byte(std::uint32_t pos);
  Result<void> emit(std::uint8_t byte);
  Result<void> flush_output();
  Result<void> fail(ErrorCode code);

  ImageReader& old_image_;
  ImageWriter& new_image_;
  MutableByteView workspace_;
  std::byte* in_ = nullptr;   // kInputBufferBytes: header, frame header, payload window
  std::byte* old_ = nullptr;  // kOldBufferBytes: cache of old image reads
  std::byte* out_ = nullptr;  // kOutputBufferBytes: pending new image bytes

  State state_ = State::kHeader;
  OpState op_state_ = OpState::kStart;
  ErrorCode error_ = ErrorCode::kOk;
  bool header_known_ = false;
  PatchHeader header_;
  OpModel model_;
  RangeDecoder decoder_;
  Sha256 new_hash_;

  std::size_t in_begin_ = 0, in_end_ = 0;
  std::uint32_t patch_offset_ = 0;
  std::uint32_t checkpoint_patch_offset_ = 0;
  std::uint32_t frame_index_ = 0;
  std::uint32_t frame_left_ = 0;      // new bytes still to produce in this frame
  std::uint32_t payload_unread_ = 0;  // payload bytes not yet taken into in_
  std::uint32_t payload_size_ = 0;
  std::uint32_t payload_crc_expected_ = 0;
  std::uint32_t payload_crc_ = 0;
  std::uint32_t new_pos_ = 0;
  std::int64_t old_pos_ = 0;
  std::uint32_t copy_left_ = 0, lit_left_ = 0;
  std::uint32_t old_cache_pos_ = 0, old_cache_len_ = 0;
  std::uint32_t out_len_ = 0;
  std::uint8_t last_byte_ = 0;
  std::uint32_t resume_offset_ = 0;  // after resume(): where to go on once the map is read

  // Relocation prediction; accept_header() sets all of it (the constructor leaves
  // it be: on a Cortex-M0 every store there costs flash). reloc_.count counts
  // the entries read until the block's CRC has checked out.
  std::byte* raw_;  // kRelocWindowBytes: old bytes predict() reads
  RelocEntry* reloc_entries_;
  RelocMap reloc_;
  bool reloc_ready_;  // the block is read and its CRC checked
  std::uint32_t reloc_read_, reloc_crc_, reloc_value_;
  std::uint8_t reloc_value_bits_;
  bool reloc_half_;  // the entry's start is read, its shift is next
};

}  // namespace updraft::delta
