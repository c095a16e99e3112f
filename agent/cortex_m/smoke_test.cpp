#include "agent/cortex_m/smoke_test.h"

#include <algorithm>
#include <cstring>

#include "agent/cortex_m/semihosting.h"
#include "agent/cortex_m/stack_usage.h"
#include "agent/cortex_m/systick_counter.h"
#include "crypto/constant_time.h"
#include "crypto/sha256.h"
#include "delta/patch/patcher.h"

// From testdata.S and mps2_an386.ld.
extern "C" {
extern const std::byte updraft_testdata_old_image[], updraft_testdata_old_image_end[];
extern const std::byte updraft_testdata_patch[], updraft_testdata_patch_end[];
extern std::byte __slot_b_start[], __slot_b_size[];
}

namespace updraft::cortex_m {
namespace {

// The payload a radio packet carries (an 802.15.4 frame leaves about this much).
// An odd size splits the patch's headers and frames at arbitrary points.
constexpr std::size_t kChunkBytes = 61;

// The RAM budget of the mcu-tiny profile; the patch header says how much of it
// the patcher needs.
constexpr std::size_t kWorkspaceBytes = 8 * 1024;
alignas(4) std::byte workspace[kWorkspaceBytes];

// Slot A, the running image, read in place from flash.
class FlashImageReader final : public delta::ImageReader {
 public:
  explicit FlashImageReader(ByteView image) : image_(image) {}
  std::uint32_t size() const override { return static_cast<std::uint32_t>(image_.size()); }
  Result<void> read(std::uint32_t offset, MutableByteView out) override {
    if (offset > image_.size() || out.size() > image_.size() - offset) {
      return ErrorCode::kFlashOutOfRange;
    }
    std::memcpy(out.data(), image_.data() + offset, out.size());
    return {};
  }

 private:
  ByteView image_;
};

// Slot B with NOR flash's rules: erased to 0xFF first, and only erased bytes
// may be written, so a patcher that wrote a byte twice would fail here too.
class SlotWriter final : public delta::ImageWriter {
 public:
  explicit SlotWriter(MutableByteView slot) : slot_(slot) {
    std::memset(slot_.data(), 0xFF, slot_.size());
  }
  Result<void> write(std::uint32_t offset, ByteView data) override {
    if (offset > slot_.size() || data.size() > slot_.size() - offset) {
      return ErrorCode::kFlashOutOfRange;
    }
    const MutableByteView target = slot_.subspan(offset, data.size());
    if (!std::all_of(target.begin(), target.end(),
                     [](std::byte b) { return b == std::byte{0xFF}; })) {
      return ErrorCode::kFlashNotErased;
    }
    std::memcpy(target.data(), data.data(), data.size());
    return {};
  }

 private:
  MutableByteView slot_;
};

// Feeds the patch as a radio delivers it: each packet lands in a receive buffer
// and goes to the patcher, which stops early at each checkpoint (where an agent
// would journal its progress) and is then fed the rest of the packet.
Result<void> feed_in_chunks(delta::Patcher& patcher, ByteView patch, std::uint32_t& checkpoints) {
  std::byte packet[kChunkBytes];
  for (std::size_t pos = 0; pos < patch.size();) {
    const std::size_t n = std::min(kChunkBytes, patch.size() - pos);
    std::memcpy(packet, patch.data() + pos, n);
    pos += n;
    for (ByteView pending(packet, n); !pending.empty();) {
      UPDRAFT_TRY_ASSIGN(const delta::Patcher::FeedResult fed, patcher.feed(pending));
      pending = pending.subspan(fed.consumed);
      if (fed.checkpoint) ++checkpoints;
    }
  }
  return patcher.finish();
}

}  // namespace

bool run_smoke_test() {
  const ByteView old_image(updraft_testdata_old_image, updraft_testdata_old_image_end);
  const ByteView patch(updraft_testdata_patch, updraft_testdata_patch_end);
  const MutableByteView slot(__slot_b_start, reinterpret_cast<std::uintptr_t>(__slot_b_size));
  Line line;
  (line << "smoke: old image " << old_image.size() << " B, patch " << patch.size() << " B, fed in "
        << kChunkBytes << "-byte chunks")
      .print();

  FlashImageReader reader(old_image);
  SlotWriter writer(slot);
  delta::Patcher patcher(reader, writer, workspace);
  std::uint32_t checkpoints = 0;
  paint_stack();
  const std::size_t caller_stack = stack_depth();
  SysTickCounter::start();
  const Result<void> applied = feed_in_chunks(patcher, patch, checkpoints);
  const std::uint64_t apply_ticks = SysTickCounter::ticks();
  const std::size_t apply_stack = stack_used() - caller_stack;
  if (!applied.ok()) {
    // The number only, as a device reports it: error_name() would link the whole
    // catalogue's text (about 5 KB of flash). core/error_code.h has the names.
    (line << "smoke: FAIL: apply stopped at new offset " << patcher.new_offset() << " with error "
          << error_number(applied.error()))
        .print();
    return false;
  }

  // The patcher checked its own output hash; this reads slot B back, as a
  // bootloader would before booting it.
  const delta::PatchHeader& header = patcher.header();
  paint_stack();
  SysTickCounter::start();
  const Sha256Digest digest = Sha256::digest(slot.first(header.new_size));
  const std::uint64_t hash_ticks = SysTickCounter::ticks();
  const std::size_t hash_stack = stack_used() - caller_stack;
  (line << "smoke: new image " << header.new_size << " B, sha256 ").hex(digest).print();
  if (!constant_time_equal(digest, header.new_hash)) {
    (line << "smoke: FAIL: patch header wants sha256 ").hex(header.new_hash).print();
    return false;
  }

  (line << "smoke: checkpoints " << checkpoints << ", workspace " << header.workspace_bytes
        << " of " << kWorkspaceBytes << " B, Patcher object " << sizeof(delta::Patcher) << " B")
      .print();
  (line << "smoke: stack: smoke test " << caller_stack << " B, then apply " << apply_stack
        << " B or sha256 " << hash_stack << " B more; deepest "
        << caller_stack + std::max(apply_stack, hash_stack) << " of " << stack_size() << " B")
      .print();
  // Ticks are core cycles on a device; see systick_counter.h for what they are in QEMU.
  (line << "smoke: ticks: apply " << apply_ticks << ", sha256 of slot B " << hash_ticks).print();
  (line << "smoke: PASS: slot B matches the patch header's new-image sha256").print();
  return true;
}

}  // namespace updraft::cortex_m
