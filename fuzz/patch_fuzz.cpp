// Fuzz target for the streaming patcher: the input is a patch, applied to a fixed
// old image (patch_fuzz_old_image.h) and fed in chunks of a fixed pattern of sizes;
// then once more with its header and frame CRCs recomputed and the header naming
// that old image, since the CRCs and the base check would otherwise stop nearly
// every mutation before the checks behind them (op bounds, frame ends); and when
// that run got to the end and only the output's SHA-256 differed, a third time
// with the header's new-image hash set to what came out, so mutations reach the
// success path and the resume from a checkpoint (without it, 10 of 213 corpus
// inputs got there).
// Property, checked on every input (abort() otherwise):
//   - the patcher fails with a kPatch* (1xx) code and keeps reporting it, or
//   - it reports success having written exactly header.new_size bytes whose SHA-256
//     is the header's, and a fresh patcher resumed from the last checkpoint of that
//     run rebuilds the same image;
//   - writes come only after the header, in order, and never beyond new_size;
//     reads stay inside the old image; feed() always makes progress.
// Built as a libFuzzer binary with UPDRAFT_FUZZ, else into patch_fuzz_replay,
// which runs the seed corpus in the normal test run (see README.md).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "core/codec.h"
#include "core/crc32.h"
#include "crypto/constant_time.h"
#include "crypto/sha256.h"
#include "delta/patch/host/apply.h"
#include "delta/patch/patcher.h"
#include "fuzz/patch_fuzz_old_image.h"

namespace updraft::delta {
namespace {

void check(bool holds, const char* property) {
  if (!holds) {
    std::fprintf(stderr, "patch_fuzz: property violated: %s\n", property);
    std::abort();
  }
}

bool is_patch_error(ErrorCode code) {
  return error_number(code) >= 100 && error_number(code) < 200;
}

// Collects the new image and checks each write against the patcher's header.
class CheckedWriter final : public ImageWriter {
 public:
  void watch(const Patcher& patcher) { patcher_ = &patcher; }
  std::vector<std::byte>& bytes() { return bytes_; }

  Result<void> write(std::uint32_t offset, ByteView data) override {
    check(patcher_ != nullptr && patcher_->header_known(), "write before the header was accepted");
    check(offset == bytes_.size(), "write out of order");
    const std::uint32_t new_size = patcher_->header().new_size;
    check(offset <= new_size && data.size() <= new_size - offset, "write beyond new_size");
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return {};
  }

 private:
  const Patcher* patcher_ = nullptr;
  std::vector<std::byte> bytes_;
};

// Chunk sizes a download might deliver; where in the cycle a run starts depends
// on the input's length, so one input sees one split and its neighbours others.
constexpr std::size_t kChunkPattern[] = {1, 7, 64, 3, 128, 4096, 2, 255, 13, 1000};

struct Run {
  ErrorCode error = ErrorCode::kOk;
  bool have_checkpoint = false;
  std::array<std::byte, Patcher::kCheckpointSize> checkpoint{};
};

// Feeds patch[from..] to `patcher`, keeping the last checkpoint it reports.
Run feed_all(Patcher& patcher, ByteView patch, std::size_t from) {
  Run run;
  std::size_t turn = patch.size();
  for (std::size_t pos = from; pos < patch.size();) {
    const std::size_t n =
        std::min(kChunkPattern[turn++ % std::size(kChunkPattern)], patch.size() - pos);
    const Result<Patcher::FeedResult> fed = patcher.feed(patch.subspan(pos, n));
    if (!fed.ok()) {
      run.error = fed.error();
      return run;
    }
    check(fed->consumed > 0 && fed->consumed <= n,
          "feed() took nothing, or more than it was given");
    pos += fed->consumed;
    if (fed->seek) pos = patcher.checkpoint_patch_offset();
    if (fed->checkpoint) {
      patcher.save_checkpoint(run.checkpoint);
      run.have_checkpoint = true;
    }
  }
  return run;
}

// The new image, when the run wrote all of it and failed only its SHA-256.
using HashMiss = std::optional<std::vector<std::byte>>;

HashMiss fuzz_one(ByteView patch) {
  const std::vector<std::byte>& old_image = patch_fuzz_old_image();
  // The header's own figure when it parses (so ASan sees any overrun of it),
  // else what an mcu-tiny device offers.
  std::size_t workspace_size = 8 * 1024;
  if (patch.size() >= kHeaderSize) {
    const Result<PatchHeader> header =
        decode_header(std::span<const std::byte, kHeaderSize>(patch.data(), kHeaderSize));
    if (header.ok()) workspace_size = header->workspace_bytes;
  }
  std::vector<std::byte> workspace(workspace_size);

  MemoryImageReader reader(old_image);
  CheckedWriter writer;
  Patcher patcher(reader, writer, workspace);
  writer.watch(patcher);
  const Run run = feed_all(patcher, patch, 0);
  const Result<void> finished = patcher.finish();
  if (run.error != ErrorCode::kOk) {
    check(is_patch_error(run.error), "an error outside the 1xx range");
    check(!finished.ok() && finished.error() == run.error, "an error that did not stick");
    if (run.error == ErrorCode::kPatchOutputMismatch &&
        writer.bytes().size() == patcher.header().new_size) {
      return std::move(writer.bytes());
    }
    return std::nullopt;
  }
  if (!finished.ok()) {
    check(finished.error() == ErrorCode::kPatchTruncated && !patcher.done(),
          "an input that ran out is not reported truncated");
    return std::nullopt;
  }
  check(patcher.done(), "finish() ok before done");
  const PatchHeader& header = patcher.header();
  check(writer.bytes().size() == header.new_size, "success with a new image of the wrong size");
  check(constant_time_equal(Sha256::digest(writer.bytes()), header.new_hash),
        "success with a new image of the wrong SHA-256");
  if (!run.have_checkpoint) return std::nullopt;

  // A power cut right after the last checkpoint: resume and finish the image.
  std::vector<std::byte> resumed_workspace(workspace_size);
  CheckedWriter resumed_writer;
  Patcher resumed(reader, resumed_writer, resumed_workspace);
  resumed_writer.watch(resumed);
  check(resumed.resume(run.checkpoint).ok(), "resume from the patcher's own checkpoint failed");
  check(resumed.new_offset() <= writer.bytes().size(), "resumed beyond the image");
  resumed_writer.bytes().assign(writer.bytes().begin(),
                                writer.bytes().begin() + resumed.new_offset());
  const Run rest = feed_all(resumed, patch, resumed.checkpoint_patch_offset());
  check(rest.error == ErrorCode::kOk && resumed.finish().ok(), "resumed run failed");
  check(resumed_writer.bytes() == writer.bytes(), "resumed run built another image");
  return std::nullopt;
}

// Rewrites the header of `patch` (whose CRC already matches) through `change`,
// CRC included; leaves a header that does not parse as it is.
template <typename Change>
void rewrite_header(std::vector<std::byte>& patch, Change change) {
  const std::span<std::byte, kHeaderSize> bytes(patch.data(), kHeaderSize);
  Result<PatchHeader> header = decode_header(bytes);
  if (!header.ok()) return;
  change(*header);
  encode_header(*header, bytes);
}

// `patch` with the header CRC and each frame's payload CRC made to match, walking
// the frames by their size fields as far as the input goes, and the header's
// base made the fuzz old image.
std::vector<std::byte> with_crcs_repaired(ByteView patch) {
  std::vector<std::byte> out(patch.begin(), patch.end());
  if (out.size() < kHeaderSize) return out;
  store_le32(out.data() + kHeaderSize - 4, crc32(ByteView(out.data(), kHeaderSize - 4)));
  static const Sha256Digest old_hash = Sha256::digest(patch_fuzz_old_image());
  rewrite_header(out, [](PatchHeader& h) {
    h.old_size = static_cast<std::uint32_t>(patch_fuzz_old_image().size());
    h.old_hash = old_hash;
  });
  for (std::size_t at = kHeaderSize; at + kFrameHeaderSize <= out.size();) {
    const std::size_t payload =
        std::min<std::size_t>(load_le32(out.data() + at), out.size() - at - kFrameHeaderSize);
    store_le32(out.data() + at + 4, crc32(ByteView(out.data() + at + kFrameHeaderSize, payload)));
    at += kFrameHeaderSize + payload;
  }
  return out;
}

}  // namespace
}  // namespace updraft::delta

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const updraft::ByteView patch = updraft::as_bytes_view(data, size);
  updraft::delta::fuzz_one(patch);
  using updraft::delta::PatchHeader;
  std::vector<std::byte> repaired = updraft::delta::with_crcs_repaired(patch);
  if (std::equal(repaired.begin(), repaired.end(), patch.begin())) return 0;
  const updraft::delta::HashMiss output = updraft::delta::fuzz_one(repaired);
  if (!output) return 0;
  const updraft::Sha256Digest new_hash = updraft::Sha256::digest(*output);
  updraft::delta::rewrite_header(repaired, [&](PatchHeader& h) { h.new_hash = new_hash; });
  // The same ops on the same base build the same image: now it must pass.
  if (updraft::delta::fuzz_one(repaired)) {
    std::fprintf(stderr, "patch_fuzz: property violated: output changed with the header hash\n");
    std::abort();
  }
  return 0;
}
